"""End to end on LocalStack: compiled state machines in LocalStack's Step Functions, every
step a real Lambda function (stepstone's host executor), artifacts in LocalStack's S3.

The step outputs must equal the local target's for the same input (a differential test of
the compiler and the local runner), and the failure paths, retries, fan-out concurrency,
S3 trigger and approval gate must behave as the workflow says.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compiler.pipeline import nested_workflows
from compiler.protocol import run_prefix
from examples.approval_release import approval_release
from examples.etl_s3 import SAMPLE_OBJECTS, etl_s3
from examples.hpo_fanout import hpo_fanout
from examples.ml_training import ml_training
from examples.model_family import churn_baseline, churn_with_embeddings, churn_with_hpo
from lambdas.store import LocalStore
from stepstone.cli import main
from stepstone.local import LocalRun
from stepstone.records import RunRecord
from stepstone.testing.localstack import LocalStackSession
from tests.e2e import flows

pytestmark = pytest.mark.localstack

EXAMPLES = [(ml_training, {}), (hpo_fanout, {}), (etl_s3, {}), (etl_s3, {"key": "sales/broken.csv"}),
            (churn_baseline, {}), (churn_with_embeddings, {}), (churn_with_hpo, {}), (approval_release, {})]
DONE = ("succeeded", "cached")
NESTED = {"smoke_test"}  # a nested run's outputs are its own run's


@pytest.fixture(scope="module")
def aws(localstack: LocalStackSession) -> LocalStackSession:
    """LocalStack with the sample files the ETL example reads from S3 when deployed."""
    for (bucket, key), text in SAMPLE_OBJECTS.items():
        localstack.upload(bucket, key, text)
    return localstack


def final_outputs(record: RunRecord, lineage: Any) -> dict[str, str]:
    """Each finished step's output hash, from the lineage record of its last attempt."""
    found = {}
    for key, step in record.steps.items():
        if step.status not in DONE or step.step == "approve" or step.step in NESTED:
            continue
        prefix = run_prefix(record.workflow, record.run_id) + (f"{step.map_path}/" if step.map_path else "")
        found[key] = lineage(f"{prefix}{step.state}/attempt-{step.attempts - 1}/lineage.json")["output"]["hash"]
    return found


def run_locally(definition: Any, params: dict[str, Any], tmp_path: Path) -> tuple[RunRecord, dict[str, str]]:
    store = LocalStore(tmp_path)
    record = LocalRun(definition, store, run_id="local", approver=lambda q, s: True).run(
        definition.validate_params(params)).record
    return record, final_outputs(record, lambda key: json.loads(store.read(key)))


@pytest.mark.parametrize(("definition", "params"), EXAMPLES,
                         ids=[f"{d.name}-{'-'.join(f'{k}={v}' for k, v in p.items()) or 'defaults'}"
                              for d, p in EXAMPLES])
def test_every_example_succeeds_and_agrees_with_the_local_target(
        definition: Any, params: dict[str, Any], aws: LocalStackSession, tmp_path: Path) -> None:
    remote = aws.run(definition, params, approve=True)
    assert remote.status == "succeeded", (remote.failed_state, remote.error, remote.cause)
    local, local_outputs = run_locally(definition, params, tmp_path)
    nested = {callee.name for callee in nested_workflows(definition)}  # the local target records these apart
    assert {k for k, s in remote.steps.items() if s.status in DONE and s.step not in nested} == {
        k for k, s in local.steps.items() if s.status in DONE}, "the same steps ran"
    assert final_outputs(remote, aws.read_json) == local_outputs, "every step made the same output"
    assert remote.output["value"] == local.output["value"]


def test_bad_data_takes_the_notify_path(aws: LocalStackSession) -> None:
    run = aws.run(ml_training, {"max_null_fraction": 0.0})
    assert run.status == "succeeded" and run.output["value"] == "rejected-data"
    assert run.steps["notify_data_team"].status == "succeeded"
    assert "train_model" not in run.steps


def test_a_transient_error_is_retried_twice_then_succeeds(aws: LocalStackSession) -> None:
    arn = aws.start(flows.retried, {"value": 4, "fails": 2})
    run = aws.wait(arn)
    assert run.status == "succeeded" and run.output["value"] == 40
    step = run.steps["flaky"]
    assert step.attempts == 3 and step.status == "succeeded"
    failures = [e["taskFailedEventDetails"]["error"] for e in aws.history(arn) if e["type"] == "TaskFailed"]
    assert failures == ["Flaky", "Flaky"], "the Lambda error carries the exception's class name"
    lineage = [aws.read_json(f"runs/retried/{run.run_id}/flaky/attempt-{n}/lineage.json") for n in range(3)]
    assert [r["status"] for r in lineage] == ["failed", "failed", "succeeded"], "each attempt kept apart"


def test_a_transient_error_beyond_the_policy_fails_the_run(aws: LocalStackSession) -> None:
    run = aws.run(flows.retried, {"fails": 5})
    assert run.status == "failed" and run.error == "Flaky"
    assert run.steps["flaky"].attempts == 3 and run.failed_state == "flaky"
    assert run.steps["flaky"].traceback and "fails on purpose" in run.steps["flaky"].traceback


def test_a_permanent_failure_is_caught_and_finished_outputs_stay(aws: LocalStackSession) -> None:
    run = aws.run(etl_s3, {"key": "sales/broken.csv"})
    assert run.status == "succeeded" and run.output["value"] == "quarantined"
    assert run.steps["parse_csv"].status == "failed" and run.steps["parse_csv"].attempts == 1, "never retried"
    assert run.steps["quarantine"].status == "succeeded"
    kept = aws.keys(f"runs/etl_s3/{run.run_id}/download/")
    assert any(k.endswith("attempt-0/lineage.json") for k in kept)


def test_a_failed_run_keeps_every_finished_steps_output(aws: LocalStackSession) -> None:
    run = aws.run(etl_s3, {"key": "sales/empty.csv"})
    assert run.status == "failed" and run.error == "EmptyFileError"
    for state in ("download", "parse_csv", "clean_rows", "load_to_warehouse"):
        record = aws.read_json(f"runs/etl_s3/{run.run_id}/{state}/attempt-0/lineage.json")
        assert record["status"] == "succeeded" and record["output"]["hash"]


def test_a_wide_fan_out_runs_with_its_declared_concurrency(aws: LocalStackSession) -> None:
    arn = aws.start(flows.wide_fan_out)
    run = aws.wait(arn)
    assert run.status == "succeeded" and run.output["value"] == sum(i * i for i in range(60))
    assert sum(1 for s in run.steps.values() if s.step == "square" and s.status == "succeeded") == 60
    running = most = 0
    for event in aws.history(arn):
        if event["type"] == "MapIterationStarted":
            running += 1
            most = max(most, running)
        elif event["type"] in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
            running -= 1
    assert 1 < most <= 5, f"{most} iterations ran at once; the workflow allows 5"


def test_an_s3_upload_starts_a_run_with_the_bucket_and_key(aws: LocalStackSession) -> None:
    aws.deploy(etl_s3)
    before = {e["executionArn"] for e in aws.target.executions("etl_s3")}
    key = f"sales/upload-{int(time.time() * 1000)}.csv"
    aws.upload("raw-data", key, SAMPLE_OBJECTS[("raw-data", "sales/2024-06-01.csv")])
    aws.upload("raw-data", f"other/{key}", "not,watched\n")  # outside the trigger's prefix
    started = time.monotonic()
    new: list[dict[str, Any]] = []
    while time.monotonic() - started < 60 and not new:
        time.sleep(0.5)
        new = [e for e in aws.target.executions("etl_s3") if e["executionArn"] not in before]
    assert len(new) == 1, "one run for the watched upload, none for the other"
    run = aws.wait(new[0]["executionArn"])
    assert run.params["bucket"] == "raw-data" and run.params["key"] == key
    assert run.trigger == f"s3://raw-data/{key}", "the run says which upload started it"
    assert run.status == "succeeded" and run.output["value"] == "analytics.daily_sales"


def test_an_approval_gate_waits_until_stepstone_approve(aws: LocalStackSession) -> None:
    arn = aws.start(approval_release)
    waiting: list[tuple[str, str]] = []
    started = time.monotonic()
    while time.monotonic() - started < 60 and not waiting:
        time.sleep(0.5)
        waiting = list(aws.target.pending_approvals(arn)[1].items())
    assert waiting, "the run reached its approval gate"
    time.sleep(1.0)
    assert aws.target.source(arn).describe()["status"] == "RUNNING", "it waits for the token"
    run_id = arn.rsplit(":", 1)[-1]
    answered = CliRunner().invoke(main, ["approve", run_id, waiting[0][0], "-m", "looks good", "--target",
                                         "localstack"])
    assert answered.exit_code == 0, answered.output
    run = aws.wait(arn)
    assert run.status == "succeeded"
    gate = run.steps[waiting[0][0]]
    assert gate.envelope == {"approved": True, "approver": gate.envelope["approver"], "comment": "looks good"}
    assert "rejected" not in str(run.output["value"])


def test_the_command_line_runs_shows_and_lists_on_localstack(aws: LocalStackSession) -> None:
    cli = CliRunner()
    ran = cli.invoke(main, ["run", "examples/ml_training.py", "--target", "localstack", "-p", "min_auc=0.99"])
    assert ran.exit_code == 0, ran.output
    assert "train_model runs on AWS Batch" in ran.output and "rejected-model" in ran.output
    run_id = ran.output.split(" as run ", 1)[1].split()[0]
    shown = cli.invoke(main, ["show", run_id, "--target", "localstack"])
    assert shown.exit_code == 0 and "notify_data_team_2" in shown.output and "succeeded" in shown.output
    listed = cli.invoke(main, ["runs", "ml_training", "--target", "localstack", "--json"])
    assert run_id in [r["run"] for r in json.loads(listed.output)]
    missing = cli.invoke(main, ["show", "no-such-run", "--target", "localstack"])
    assert missing.exit_code == 2 and "no run 'no-such-run' on LocalStack" in missing.output
