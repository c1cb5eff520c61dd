"""The step runner as AWS runs it: the Lambda handler and the Batch entry point, on moto's S3."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

import lambdas.step_runner as step_runner
from compiler.protocol import BATCH_ENV, output_key
from lambdas.store import S3Store

BUCKET = "stepstone-artifacts"


@dataclass
class Context:
    function_name: str = "stepstone-steps"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:stepstone-steps"
    aws_request_id: str = "req-1"


@pytest.fixture()
def bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("STEPSTONE_ARTIFACT_BUCKET", BUCKET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        monkeypatch.setattr(step_runner, "_store", S3Store(BUCKET, client))
        yield client


def payload(step: str, args: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"step": f"test_runner:{step}", "workflow": "wf", "state": step, "run": "exec-1",
            "execution": "arn:aws:states:us-east-1:123456789012:execution:wf:exec-1", "attempt": 0,
            "inline_limit": 1024, "args": args, **extra}


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_lambda_handler_returns_the_envelope_and_logs_with_the_run_as_correlation_id(
        bucket: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import test_runner  # noqa: F401 - the steps the payload names

    logs = io.StringIO()  # the logger's handler holds the stdout of when it was made
    monkeypatch.setattr(step_runner.logger.registered_handler, "stream", logs)
    envelope = step_runner.handler(payload("make_table", {"name": {"value": "t"}, "n": {"value": 400}}), Context())
    assert envelope["ref"] == "runs/wf/exec-1/make_table/attempt-0/output.json"
    body = bucket.get_object(Bucket=BUCKET, Key=envelope["ref"])["Body"].read()
    assert json.loads(body)["row_count"] == 400
    log = next(line for line in json_lines(logs.getvalue()) if line.get("message") == "step succeeded")
    assert log["correlation_id"] == "arn:aws:states:us-east-1:123456789012:execution:wf:exec-1"
    assert log["state"] == "make_table" and log["level"] == "INFO"
    emf = next(line for line in json_lines(capsys.readouterr().out) if "_aws" in line)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"] == "StepDuration"


def test_lambda_handler_raises_under_the_error_name_retry_and_catch_match(bucket: Any) -> None:
    import test_runner  # noqa: F401

    with pytest.raises(Exception) as caught:
        step_runner.handler(payload("fail_with", {"kind": {"value": "missing"}}, error_names=["DataError"]),
                            Context())
    assert type(caught.value).__name__ == "DataError", "Lambda reports the class name as errorType"
    assert "column 'y' is missing" in str(caught.value)


def test_batch_entry_point_reads_its_call_from_the_environment(bucket: Any) -> None:
    import test_runner  # noqa: F401

    table = step_runner.handler(payload("make_table", {"name": {"value": "b"}, "n": {"value": 300}}), Context())
    env = {  # what the compiled batch:submitJob.sync task sets
        BATCH_ENV["execution"]: "arn:aws:states:us-east-1:123456789012:execution:wf:exec-1",
        BATCH_ENV["run"]: "exec-1",
        BATCH_ENV["attempt"]: "1",
        BATCH_ENV["map_path"]: "for_x/0",
        BATCH_ENV["arg_prefix"] + "table": table["ref"],
        BATCH_ENV["call"]: json.dumps({"args": {"table": {"ref": True}}, "state": "total",
                                       "step": "test_runner:total", "workflow": "wf"}),
    }
    assert step_runner.main([], env=env) == 0
    key = output_key("wf", "exec-1", "total", "for_x/0")
    assert json.loads(bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read()) == sum(3 * i for i in range(300))
    lineage = bucket.get_object(Bucket=BUCKET, Key="runs/wf/exec-1/for_x/0/total/attempt-1/lineage.json")
    assert json.loads(lineage["Body"].read())["status"] == "succeeded"


def test_batch_entry_point_fails_the_job_when_the_step_fails(bucket: Any) -> None:
    import test_runner  # noqa: F401

    env = {BATCH_ENV["run"]: "exec-2", BATCH_ENV["call"]: json.dumps(
        {"args": {"kind": {"value": "other"}}, "state": "fail_with", "step": "test_runner:fail_with",
         "workflow": "wf"})}
    assert step_runner.main([], env=env) == 1
