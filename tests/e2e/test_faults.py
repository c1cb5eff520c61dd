"""Injected faults on LocalStack, from the command line as a person would use them:
`stepstone run FILE --target localstack --fault STEP=KIND` deploys the workflow with
STEPSTONE_FAULTS in its functions' environment (lambdas/faults.py), so the real step
runner in a real Lambda function fails on purpose; Step Functions' own Retry, timeout and
Catch handle it. A failed run keeps what finished; `stepstone redrive` after the fix runs
only what had not finished, and no artifact of the first run is written again.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.protocol import attempt_prefix, run_prefix
from examples.etl_s3 import SAMPLE_OBJECTS, etl_s3
from stepstone.cli import main
from stepstone.localstack.deploy import Deployer
from stepstone.testing.localstack import LocalStackSession
from tests.e2e.fault_flows import enriched_report
from tests.support.reliability import count

pytestmark = pytest.mark.localstack
FLOWS = "tests/e2e/fault_flows.py"
ON = ("--target", "localstack")


def stepstone(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(main, [*args, *ON, "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    try:
        return result.exit_code, json.loads(result.stdout)
    except json.JSONDecodeError:
        return result.exit_code, result.output


@contextlib.contextmanager
def without_faults_after(localstack: LocalStackSession, *definitions: Any) -> Iterator[None]:
    """Whatever a test does, the workflows are left deployed without faults (other tests run them)."""
    try:
        yield
    finally:
        for definition in definitions:
            Deployer(localstack.aws).deploy(definition)


def lineage(localstack: LocalStackSession, run: str, state: str, attempt: int) -> dict[str, Any]:
    data: dict[str, Any] = localstack.read_json(attempt_prefix("enriched_report", run, state, attempt) + "lineage.json")
    return data


def objects(localstack: LocalStackSession, prefix: str) -> dict[str, tuple[str, str]]:
    """Every artifact under ``prefix``: (ETag, LastModified): a rewrite changes the second at least."""
    found = {}
    for page in localstack.aws.s3.get_paginator("list_objects_v2").paginate(Bucket="stepstone-artifacts",
                                                                            Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"]] = (item["ETag"], item["LastModified"].isoformat())
    return found


def test_transient_faults_are_retried_and_a_timeout_is_caught(localstack: LocalStackSession) -> None:
    with without_faults_after(localstack, enriched_report):
        code, record = stepstone("run", FLOWS, "--fault", "extract=transient:2", "--fault", "enrich=timeout")
    assert code == 0, record
    assert record["status"] == "succeeded" and record["output"]["value"] == "5 rows from cache"
    run = record["run_id"]
    assert [lineage(localstack, run, "extract", n)["status"] for n in range(3)] == ["failed", "failed", "succeeded"]
    assert record["steps"]["extract"]["attempts"] == 3
    assert record["steps"]["enrich"]["error"] == "States.Timeout"
    history = localstack.history(localstack.target.find(run))
    assert [e["type"] for e in history].count("TaskTimedOut") == 1
    count("injected faults: transient, retried to success (local, moto, LocalStack)", 2)
    count("injected faults: timeouts, caught by except StepTimeout (local, moto, LocalStack)")


def test_a_permanent_failure_follows_its_except_path(localstack: LocalStackSession) -> None:
    for (bucket, key), text in SAMPLE_OBJECTS.items():
        localstack.upload(bucket, key, text)
    with without_faults_after(localstack, etl_s3):
        code, record = stepstone("run", "examples/etl_s3.py", "--fault", "clean_rows=permanent@MalformedFileError")
    assert code == 0, record
    assert record["output"]["value"] == "quarantined"
    assert record["steps"]["clean_rows"]["error"] == "MalformedFileError"
    assert "load_to_warehouse" not in record["steps"]
    count("injected faults: permanent, caught by its except path (local, moto, LocalStack)")


def test_a_failed_run_keeps_what_finished_and_redrive_runs_only_the_rest(localstack: LocalStackSession) -> None:
    with without_faults_after(localstack, enriched_report):
        code, record = stepstone("run", FLOWS, "--fault", "publish=permanent")
    assert code == 1, record
    run = record["run_id"]
    assert record["status"] == "failed" and record["error"] == "InjectedFaultError"
    for state in ("extract", "enrich"):
        kept = lineage(localstack, run, state, 0)
        assert kept["status"] == "succeeded" and kept["output"]["hash"], state
    before = objects(localstack, run_prefix("enriched_report", run))
    assert any(key.endswith("publish/attempt-0/lineage.json") for key in before)

    # the fault is gone (the workflow was deployed again without it): redrive
    code, redriven = stepstone("redrive", run, "--wait")
    assert code == 0, redriven
    assert redriven["run_id"] == f"{run}_r1" and redriven["output"]["value"] == "10 rows from api"
    assert {k: s["status"] for k, s in redriven["steps"].items()} == {
        "extract": "reused", "enrich": "reused", "publish": "succeeded"}
    assert objects(localstack, run_prefix("enriched_report", run)) == before, "the first run's artifacts untouched"
    count("injected faults: permanent, run failed, outputs kept, resumed (local, moto, LocalStack)")
