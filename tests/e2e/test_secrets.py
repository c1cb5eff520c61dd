"""Secrets on LocalStack: the secret and the SecureString are created in LocalStack's Secrets
Manager and Parameter Store, the example runs with its step as a real Lambda function
(deployed with ``STEPSTONE_SECRETS=aws``), which reads both at run time and sends them to a
metrics service (an HTTP server of this test, which the function reaches: it runs on this
machine). Then the execution history, every artifact of the run and the function's logs
are searched for the values: they hold none."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator

import pytest

from compiler import compile_workflow
from compiler.deployment.profile import LOCALSTACK_PROFILE
from compiler.protocol import run_prefix
from examples.publish_metrics import METRICS_TOKEN, SIGNING_KEY, publish_metrics
from stepstone.testing.localstack import LocalStackSession
from tests.support.metrics_service import Received, metrics_service

pytestmark = pytest.mark.localstack


@pytest.fixture(name="metrics_service")
def _metrics_service() -> Iterator[str]:
    with metrics_service() as url:
        yield url


@pytest.fixture()
def secrets(localstack: LocalStackSession) -> dict[str, str]:
    """The values in LocalStack. The same ones every time: a warm function keeps what it read
    for 5 minutes (Powertools' cache), so a new value would meet the last test's."""
    values = {"token": "tok-e2e-41c7f09a2d5b83e6", "key": "sig-e2e-9b3d6e10f4a27c85"}
    localstack.aws.client("ssm").put_parameter(Name=METRICS_TOKEN.name, Value=values["token"], Type="SecureString",
                                               Overwrite=True)
    manager = localstack.aws.client("secretsmanager")
    try:
        manager.create_secret(Name=SIGNING_KEY.name, SecretString=values["key"])
    except manager.exceptions.ResourceExistsException:
        manager.put_secret_value(SecretId=SIGNING_KEY.name, SecretString=values["key"])
    return values


def step_logs(localstack: LocalStackSession, arn: str) -> list[str]:
    """The post_metrics invocation's log lines (CloudWatch Logs may take a moment to have them)."""
    for _ in range(40):
        found = localstack.target.logs(arn, "post_metrics")
        if found:
            return [line for log in found for line in log.lines]
        time.sleep(0.5)
    return []


def test_a_lambda_step_reads_its_secrets_at_run_time_and_nothing_keeps_them(
        localstack: LocalStackSession, secrets: dict[str, str], metrics_service: str) -> None:
    arn = localstack.start(publish_metrics, {"endpoint": metrics_service})
    run = localstack.wait(arn)
    assert run.status == "succeeded", (run.failed_state, run.error, run.cause)

    (request,) = Received.requests
    assert request["headers"]["authorization"] == f"Bearer {secrets['token']}", "from Parameter Store, decrypted"
    signature = hmac.new(secrets["key"].encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["x-signature-sha256"] == signature, "signed with the Secrets Manager secret"
    assert run.output["value"]["signature"] == signature

    history = json.dumps(localstack.history(arn), default=str)
    keys = localstack.keys(run_prefix("publish_metrics", run.run_id))
    artifacts = {key: localstack.read(key) for key in keys}
    assert any(key.endswith("post_metrics/attempt-0/lineage.json") for key in artifacts), sorted(artifacts)
    logs = step_logs(localstack, arn)
    assert any("step succeeded" in line for line in logs), logs
    asl = compile_workflow(publish_metrics, profile=LOCALSTACK_PROFILE).asl_json
    for value in secrets.values():
        assert value not in asl
        assert value not in history, "the execution history holds no secret"
        assert not [key for key, data in artifacts.items() if value.encode() in data], "nor do the run's artifacts"
        assert not [line for line in logs if value in line], "nor the function's logs"
