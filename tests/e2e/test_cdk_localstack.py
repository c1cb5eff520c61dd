"""The CDK app deployed to LocalStack as a user does it (``stepstone deploy --localstack``:
cdklocal bootstrap + deploy), then started the two ways a deployed workflow starts by
itself: a file lands under its S3 prefix, and its rate schedule comes round."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from stepstone.testing.localstack import LocalStackSession
from tests.e2e.cdk_flows import LANDING

pytestmark = pytest.mark.localstack

ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:{}"


@pytest.fixture(scope="module")
def deployed(localstack: LocalStackSession) -> LocalStackSession:
    env = {**os.environ, "STEPSTONE_LOCALSTACK_HOST": localstack.harness.host,
           "STEPSTONE_LOCALSTACK_HOME": str(localstack.harness.home)}
    command = [sys.executable, "-m", "stepstone", "deploy", "--localstack", "-w", "tests/e2e/cdk_flows.py",
               "--", "-c", "stepstone:create-trigger-buckets=true"]  # the landing bucket too, EventBridge on (L1)
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    printed = done.stdout + done.stderr  # cdk prints its outputs on stderr
    assert "landedreportStateMachine" in printed and "states/home" in printed, "outputs: ARN and console link"
    return localstack


def runs_of(aws: LocalStackSession, workflow: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aws.aws.sfn.list_executions(stateMachineArn=STATE_MACHINE.format(workflow))[
        "executions"]
    return found


def wait_for_new_run(aws: LocalStackSession, workflow: str, before: set[str], seconds: float) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        new = [e for e in runs_of(aws, workflow) if e["executionArn"] not in before]
        if new:
            return new[0]
        time.sleep(1.0)
    pytest.fail(f"no run of {workflow} started within {seconds:.0f} s")


def test_an_upload_starts_a_run_of_the_deployed_workflow_that_succeeds(deployed: LocalStackSession) -> None:
    before = {e["executionArn"] for e in runs_of(deployed, "landed_report")}
    key = "reports/april März 2024.csv"  # LocalStack's events percent-encode it; the relay decodes it
    deployed.aws.s3.put_object(Bucket=LANDING, Key=key, Body=b"a,b\n1,2\n3,4\n")  # the app's bucket
    execution = wait_for_new_run(deployed, "landed_report", before, 60)
    run = deployed.wait(execution["executionArn"])
    assert run.status == "succeeded", (run.failed_state, run.error, run.cause)
    assert run.output["value"] == f"{key}: 3 lines, 12 bytes", "the step read the object itself"
    assert run.params["bucket"] == LANDING and run.params["key"] == key
    assert {s.state for s in run.steps.values()} == {"read_report", "file_report"}
    kept = deployed.keys(f"runs/landed_report/{run.run_id}/", bucket="stepstone-artifacts-000000000000-us-east-1")
    assert any(k.endswith("read_report/attempt-0/lineage.json") for k in kept), "lineage in the app's bucket"


def test_a_rate_schedule_starts_runs(deployed: LocalStackSession) -> None:
    before = {e["executionArn"] for e in runs_of(deployed, "every_minute")}
    execution = wait_for_new_run(deployed, "every_minute", before, 150)  # rate(1 minute)
    run = deployed.wait(execution["executionArn"])
    assert run.status == "succeeded" and run.output["value"].startswith("scheduled "), run.output


def test_the_quick_deployer_leaves_a_cloudformation_deployed_workflow_alone(deployed: LocalStackSession) -> None:
    from click.testing import CliRunner

    from stepstone.cli import main

    result = CliRunner().invoke(main, ["run", "tests/e2e/cdk_flows.py:landed_report", "--target", "localstack"])
    assert result.exit_code == 2 and "is deployed here by `stepstone deploy --localstack`" in result.output
    assert "npx cdklocal destroy stepstone-tests-e2e-cdk-flows" in result.output
