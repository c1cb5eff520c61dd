"""Secrets read the deployed way, in moto: the example's state machine runs in moto's
interpreter, its step reads a Secrets Manager secret and an SSM SecureString through
Powertools (``STEPSTONE_SECRETS=aws``, as the deployed functions have it) and sends them to
a metrics service (a local HTTP server). The values reach the service and nothing else:
not the ASL, not the execution history, not the artifact bucket (lineage, outputs)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities import parameters

from compiler import compile_workflow
from examples.publish_metrics import METRICS_TOKEN, SIGNING_KEY, publish_metrics
from stepstone.testing.fixtures import MOTO_ENVIRONMENT
from stepstone.testing.moto_sfn import BUCKET, MotoStepFunctions
from tests.support.metrics_service import Received, metrics_service

TOKEN = "tok-5c1f0e9a7d3b42e8b6"
KEY = "sig-e07a6c3f5b9d41a2c8"


@pytest.fixture(name="metrics_service")
def _metrics_service() -> Iterator[str]:
    with metrics_service() as url:
        yield url


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoStepFunctions]:
    """moto with the two secrets stored; steps read AWS, never the environment."""
    for name, value in (*MOTO_ENVIRONMENT, ("STEPSTONE_SECRETS", "aws")):
        monkeypatch.setenv(name, value)
    for secret in (METRICS_TOKEN, SIGNING_KEY):  # so a value could only come from AWS
        monkeypatch.delenv(secret.env_var, raising=False)
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    with MotoStepFunctions() as moto:
        yield moto
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def store_secrets(moto: MotoStepFunctions) -> None:
    import boto3

    boto3.client("ssm", region_name="us-east-1").put_parameter(Name=METRICS_TOKEN.name, Value=TOKEN,
                                                               Type="SecureString")
    boto3.client("secretsmanager", region_name="us-east-1").create_secret(Name=SIGNING_KEY.name, SecretString=KEY)


def stored_bytes(moto: MotoStepFunctions) -> list[bytes]:
    found = []
    for page in moto.s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            found.append(moto.s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read())
    return found


def test_the_step_reads_both_secrets_at_run_time_and_nothing_keeps_them(aws: MotoStepFunctions,
                                                                        metrics_service: str) -> None:
    store_secrets(aws)
    run = aws.run_workflow(publish_metrics, {"endpoint": metrics_service})
    assert run.status == "SUCCEEDED", (run.error, run.cause)

    (request,) = Received.requests
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}", "the SecureString, decrypted, reached the step"
    signature = hmac.new(KEY.encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["x-signature-sha256"] == signature, "the Secrets Manager secret signed the report"
    assert run.output["value"]["signature"] == signature and run.output["value"]["status"] == 202

    asl = compile_workflow(publish_metrics).asl_json
    history = json.dumps(run.history, default=str)
    stored = stored_bytes(aws)
    assert any(b'"post_metrics"' in item for item in stored), "the step's lineage is in the bucket"
    for value in (TOKEN, KEY):
        assert value not in asl
        assert value not in history, "the execution history holds no secret"
        assert not any(value.encode() in item for item in stored), "nor the lineage and outputs"


def test_a_secret_missing_from_aws_fails_the_step_with_its_name(aws: MotoStepFunctions) -> None:
    run = aws.run_workflow(publish_metrics, {})  # nothing stored
    assert run.status == "FAILED"
    assert run.error == "SecretUnavailableError", (run.error, run.cause)
    assert "Secret('/ml/metrics-api-token', store='ssm') could not be read from SSM Parameter Store" in str(run.cause)
