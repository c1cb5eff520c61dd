"""Compiled state machines executed by a real ASL interpreter (moto's), with the real steps.

Each example's ASL runs in moto's Step Functions; every Lambda task goes through the step
runner with moto's S3 as the artifact bucket, Batch jobs through the Batch entry point.
The outputs must equal the local target's: a differential test of compiler and runner.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from examples.approval_release import approval_release
from examples.etl_s3 import etl_s3
from examples.hpo_fanout import hpo_fanout
from examples.ml_training import ml_training
from examples.model_family import churn_baseline, churn_with_embeddings, churn_with_hpo
from lambdas.store import LocalStore
from stepstone.local import LocalRun
from stepstone.testing.moto_sfn import MotoStepFunctions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
import local_flows as flows

EXAMPLES = [(ml_training, {}), (ml_training, {"max_null_fraction": 0.0}), (ml_training, {"min_auc": 0.99}),
            (hpo_fanout, {}), (etl_s3, {}), (etl_s3, {"key": "sales/broken.csv"}), (churn_baseline, {}),
            (churn_with_embeddings, {}), (churn_with_hpo, {}), (approval_release, {})]


def local_output(definition: Any, params: dict[str, Any], tmp_path: Path) -> Any:
    run = LocalRun(definition, LocalStore(tmp_path), run_id="local", approver=lambda q, s: True)
    record = run.run(definition.validate_params(params)).record
    assert record.status == "succeeded", (record.error, record.cause)
    return record.output


@pytest.mark.parametrize(("definition", "params"), EXAMPLES,
                         ids=[f"{d.name}-{'-'.join(f'{k}={v}' for k, v in p.items()) or 'defaults'}"
                              for d, p in EXAMPLES])
def test_example_runs_in_the_interpreter_and_agrees_with_the_local_target(
        definition: Any, params: dict[str, Any], moto: MotoStepFunctions, tmp_path: Path) -> None:
    run = moto.run_workflow(definition, params)
    assert run.status == "SUCCEEDED", (run.error, run.cause)
    assert run.output == local_output(definition, params, tmp_path)


def test_the_quality_gates_take_the_notify_paths(moto: MotoStepFunctions) -> None:
    bad_data = moto.run_workflow(ml_training, {"max_null_fraction": 0.0})
    assert "notify_data_team" in bad_data.states and "train_model" not in bad_data.states
    bad_model = moto.run_workflow(ml_training, {"min_auc": 0.99})
    assert "notify_data_team_2" in bad_model.states and "release_model" not in bad_model.states


def test_a_transient_error_is_retried_per_the_policy(moto: MotoStepFunctions) -> None:
    flows.FAULTS.clear()
    flows.FAULTS["flaky"] = 2
    run = moto.run_workflow(flows.chain, {})
    assert run.status == "SUCCEEDED" and run.output["value"]["n"] == 40
    attempts = [c for c in run.calls if c["event"]["state"] == "flaky"]
    assert [c["event"]["attempt"] for c in attempts] == [0, 1, 2]
    assert [c.get("error", {}).get("errorType") for c in attempts] == ["Flaky", "Flaky", None]
    assert len(run.waits) == 2, "two back-off waits (skipped in the test, recorded)"


def test_a_permanent_failure_keeps_the_finished_steps_outputs(moto: MotoStepFunctions) -> None:
    run = moto.run_workflow(etl_s3, {"key": "sales/empty.csv"})
    assert run.status == "FAILED" and run.error == "EmptyFileError"
    run_name = run.execution_arn.rsplit(":", 1)[-1]
    stored = moto.s3.list_objects_v2(Bucket="stepstone-artifacts", Prefix=f"runs/etl_s3/{run_name}/")
    keys = {item["Key"] for item in stored.get("Contents", [])}
    assert any(key.endswith("load_to_warehouse/attempt-0/lineage.json") for key in keys)


def test_a_batch_job_failure_reaches_the_workflow_as_task_failed(moto: MotoStepFunctions) -> None:
    # (moto 5.2.5 fails a *retried* .sync job with a spurious States.Timeout, so the retry
    # itself is checked on the local target and LocalStack; here: the failure and its catch)
    flows.FAULTS.clear()
    flows.FAULTS["gpu"] = 1
    run = moto.run_workflow(flows.on_gpu_once, {})
    assert run.status == "SUCCEEDED" and run.output["value"]["n"] == 30, "caught, then the fallback ran"
    failed = [e for e in run.history if e["type"] == "TaskFailed"]
    assert failed[0]["taskFailedEventDetails"]["error"] == "States.TaskFailed"
    assert "Flaky" in run.jobs[0]["error"]


def test_a_fan_out_keeps_to_its_concurrency(moto: MotoStepFunctions) -> None:
    flows.ACTIVE.update(now=0, most=0)
    run = moto.run_workflow(flows.bounded, {})
    assert run.status == "SUCCEEDED" and run.output["value"]["n"] == 21
    assert flows.ACTIVE["most"] <= 2


def test_an_approval_gate_waits_for_its_token(moto: MotoStepFunctions) -> None:
    assert moto.run_workflow(flows.gated, {}, approve=True).output["value"] == "shipped"
    assert moto.run_workflow(flows.gated, {}, approve=False).output["value"] == "kept"
