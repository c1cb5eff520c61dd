"""Workflows the end-to-end tests deploy with ``stepstone deploy --localstack`` (the CDK app),
named apart from the examples, which the same LocalStack runs through the quick deployer."""

from __future__ import annotations

from pydantic import BaseModel

from stepstone import rate, running_step, s3_upload, step, workflow

LANDING = "stepstone-landing"


class Report(BaseModel):
    key: str
    lines: int
    size: int


@step(timeout=30)
def read_report(bucket: str, key: str) -> Report:
    """The uploaded object, read from S3 by the deployed function."""
    import boto3

    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return Report(key=key, lines=body.count(b"\n"), size=len(body))


@step
def file_report(report: Report) -> str:
    return f"{report.key}: {report.lines} lines, {report.size} bytes"


@workflow(triggers=[s3_upload(bucket=LANDING, prefix="reports/", suffix=".csv")])
def landed_report(bucket: str = LANDING, key: str = "reports/none.csv") -> str:
    return file_report(read_report(bucket, key))


@step
def tick(label: str) -> str:
    where = running_step()
    return f"{label} {where.run if where else 'here'}"


@workflow(schedule=rate(1, "minute", params={"label": "scheduled"}))
def every_minute(label: str = "manual") -> str:
    return tick(label)
