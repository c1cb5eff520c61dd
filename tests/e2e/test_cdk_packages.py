"""Packages deployed as a new user deploys them (issue 15's "done when"): a workflow file
declares scikit-learn, pandas and numpy (current releases), ``stepstone deploy --localstack``
synthesizes the CDK app (which locks them, installs them for Lambda's python3.12 on
Amazon Linux 2023 and, as they pass a zip's 250 MiB, makes the function a container image)
and deploys it; the run succeeds in LocalStack's Lambda with exactly those packages, and a
step whose package was never declared fails there, as on AWS, saying where to declare it.

LocalStack has no Docker here, so the image function runs as a function whose layer is the
image's packages in a folder of their own (``hot-reload``), under Python 3.12 started
isolated (``-I -S``): none of this machine's packages are visible to it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stepstone.testing.localstack import LocalStackSession

pytestmark = pytest.mark.localstack

ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:{}"


@pytest.fixture(scope="module")
def deployed(localstack: LocalStackSession) -> tuple[LocalStackSession, str]:
    env = {**os.environ, "STEPSTONE_LOCALSTACK_HOST": localstack.harness.host,
           "STEPSTONE_LOCALSTACK_HOME": str(localstack.harness.home)}
    command = [sys.executable, "-m", "stepstone", "deploy", "--localstack", "-w", "tests/e2e/cdk_ml_flows.py",
               "-w", "tests/e2e/cdk_undeclared.py"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    printed = done.stdout + done.stderr
    assert done.returncode == 0, printed[-4000:]
    return localstack, printed


def start(aws: LocalStackSession, workflow: str) -> str:
    arn: str = aws.aws.sfn.start_execution(stateMachineArn=STATE_MACHINE.format(workflow),
                                           input=json.dumps({}))["executionArn"]
    return arn


def test_synth_says_which_function_is_an_image(deployed: tuple[LocalStackSession, str]) -> None:
    _, printed = deployed
    assert "cdk_ml_flows.py: function 1024mb300s (cancer_frame, fit, held_out_accuracy)" in printed
    assert "a container image, over a zip's 250 MiB" in printed and "scipy" in printed
    assert "cdk_undeclared.py: function 1024mb300s (rows)" in printed and "a zip with its layer" in printed


def test_a_scikit_learn_pipeline_runs_with_the_packages_it_declared(deployed: tuple[LocalStackSession, str]) -> None:
    aws, _ = deployed
    run = aws.wait(start(aws, "cancer_model"), timeout=600)
    assert run.status == "succeeded", (run.failed_state, run.error, run.cause)
    output = run.output["value"]
    assert output["accuracy"] > 0.9, output
    lock = (ROOT / "tests/e2e/cdk_ml_flows.lock").read_text()
    assert f"scikit-learn=={output['sklearn']}" in lock and f"numpy=={output['numpy']}" in lock, \
        "the function ran the versions the lock pins"
    assert output["python"].startswith("3.12."), "Lambda's python3.12 runtime, not this machine's Python"
    assert ".venv" not in output["pandas_from"] and "packages-" in output["pandas_from"], output["pandas_from"]


def test_an_undeclared_package_fails_with_where_to_declare_it(deployed: tuple[LocalStackSession, str]) -> None:
    aws, _ = deployed
    run = aws.wait(start(aws, "undeclared"), timeout=300)
    assert run.status == "failed"
    assert "ModuleNotFoundError" in f"{run.error} {run.cause}"
    assert "No module named 'pandas'" in run.cause
    assert "stepstone.packages('pandas') in tests/e2e/cdk_undeclared.py" in run.cause, run.cause
