"""The local target: same semantics as the compiled ASL, real step code, resumable runs."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import local_flows as flows
import pytest

from examples.approval_release import approval_release
from examples.etl_s3 import etl_s3
from examples.hpo_fanout import hpo_fanout
from examples.ml_training import ml_training
from examples.model_family import churn_baseline, churn_with_embeddings, churn_with_hpo
from lambdas.store import LocalStore
from stepstone.local import LocalRun
from stepstone.local.options import ExecutorOptions
from stepstone.local.records import find_run, list_runs
from stepstone.records import RunRecord, new_run_id


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[LocalStore]:
    flows.FAULTS.clear()
    flows.CALLS.clear()
    flows.ACTIVE.update(now=0, most=0)
    flows.BARRIER.reset()
    yield LocalStore(tmp_path / ".stepstone")


def run(definition: Any, store: LocalStore, params: dict[str, Any] | None = None, *, approver: Any = None,
        **options: Any) -> RunRecord:
    options.setdefault("retry_delay_scale", 0.001)
    local = LocalRun(definition, store, run_id=new_run_id(), options=ExecutorOptions(**options), approver=approver)
    return local.run(definition.validate_params(params or {})).record


def value(record: RunRecord) -> Any:
    assert isinstance(record.output, dict)
    return record.output["value"]


EXAMPLES = [(ml_training, {}), (hpo_fanout, {}), (etl_s3, {}), (churn_baseline, {}), (churn_with_embeddings, {}),
            (churn_with_hpo, {}), (approval_release, {})]


@pytest.mark.parametrize(("definition", "params"), EXAMPLES, ids=[d.name for d, _ in EXAMPLES])
def test_each_example_runs_locally_and_gives_what_plain_python_gives(definition: Any, params: dict[str, Any],
                                                                     store: LocalStore,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPSTONE_APPROVE", "yes")
    record = run(definition, store, params, approver=lambda question, state: True)
    assert record.status == "succeeded", (record.error, record.cause)
    assert all(step.status == "succeeded" for step in record.steps.values())
    expected = definition(**definition.validate_params(params)) if definition.model_param is None else \
        definition(definition.params_model(**params))
    assert value(record) == expected


def test_the_data_quality_gate_stops_a_bad_dataset(store: LocalStore) -> None:
    record = run(ml_training, store, {"max_null_fraction": 0.0})
    assert value(record) == "rejected-data"
    assert "notify_data_team" in record.steps and "train_model" not in record.steps


def test_the_model_quality_gate_stops_a_weak_model(store: LocalStore) -> None:
    record = run(ml_training, store, {"min_auc": 0.99})
    assert value(record) == "rejected-model"
    assert record.steps["train_model"].status == "succeeded"
    assert "notify_data_team_2" in record.steps and "release_model" not in record.steps


def test_a_failed_run_resumes_without_running_finished_steps(store: LocalStore) -> None:
    flows.FAULTS["breaks"] = 1
    failed = run(flows.resumable, store)
    assert failed.status == "failed" and failed.failed_state == "breaks" and failed.error == "Flaky"
    assert flows.CALLS == ["first", "second", "breaks"]
    assert failed.steps["second"].stored is None and failed.steps["second"].envelope["value"]["n"] == 30
    flows.CALLS.clear()
    again = LocalRun(flows.resumable, store, run_id="ignored", resume=find_run(store, failed.run_id))
    record = again.run(failed.params).record
    assert record.status == "succeeded" and value(record) == 30
    assert flows.CALLS == ["breaks"], "finished steps were reused, not run again"
    assert record.run_id == failed.run_id and record.resumed == 1
    assert [record.steps[s].status for s in ("first", "second", "breaks")] == ["reused", "reused", "succeeded"]
    assert record.steps["breaks"].attempts == 2, "attempts go on counting, so artifacts stay apart"
    assert len(store.keys(f"runs/resumable/{record.run_id}/breaks/")) == 2  # two attempts' lineage


def test_retries_follow_the_policy_and_keep_every_attempt(store: LocalStore) -> None:
    flows.FAULTS["flaky"] = 2
    record = run(flows.chain, store)
    assert record.status == "succeeded" and value(record)["n"] == 40
    assert record.steps["flaky"].attempts == 3
    lineage = [json.loads(store.read(k)) for k in store.keys(f"runs/chain/{record.run_id}/flaky/")]
    assert [(r["attempt"], r["status"]) for r in lineage] == [(0, "failed"), (1, "failed"), (2, "succeeded")]


def test_retries_run_out(store: LocalStore) -> None:
    flows.FAULTS["flaky"] = 10
    record = run(flows.chain, store)
    assert record.status == "failed" and record.error == "Flaky"
    assert record.steps["flaky"].attempts == 4, "attempts=4: the first try and three retries"


def test_independent_steps_run_at_the_same_time(store: LocalStore) -> None:
    record = run(flows.side_by_side, store)  # each side waits at a barrier for the other
    assert record.status == "succeeded", (record.error, record.cause)


def test_a_fan_out_runs_at_most_max_concurrency_items_at_once(store: LocalStore) -> None:
    record = run(flows.bounded, store)
    assert value(record)["n"] == 21
    assert flows.ACTIVE["most"] == 2


def test_a_distributed_fan_out_writes_its_results_like_the_result_writer(store: LocalStore) -> None:
    record = run(flows.spread, store)
    assert value(record)["n"] == 6
    manifests = [k for k in store.keys(f"runs/spread/{record.run_id}/") if k.endswith("manifest.json")]
    assert len(manifests) == 1
    assert json.loads(store.read(manifests[0]))["ResultFiles"]["SUCCEEDED"]


def test_a_timeout_is_caught_as_states_timeout(store: LocalStore) -> None:
    record = run(flows.guarded, store)
    assert record.status == "succeeded" and value(record)["n"] == -1
    assert record.steps["slow"].error == "States.Timeout"
    assert "fallback:Timeout" not in flows.CALLS and any(c.startswith("fallback:") for c in flows.CALLS)


def test_a_batch_job_failure_is_states_task_failed_as_on_aws(store: LocalStore) -> None:
    flows.FAULTS["gpu"] = 1
    record = run(flows.on_gpu, store)
    assert record.status == "succeeded" and value(record)["n"] == 1030
    assert record.steps["gpu"].attempts == 2 and record.steps["gpu"].batch
    flows.FAULTS["gpu"] = 5
    failed = run(flows.on_gpu, store)
    assert failed.error == "States.TaskFailed"


def test_approval_gates(store: LocalStore) -> None:
    assert value(run(flows.gated, store, approver=lambda q, s: True)) == "shipped"
    assert value(run(flows.gated, store, approver=lambda q, s: False)) == "kept"
    unanswered = run(flows.gated, store, approver=None)
    assert unanswered.status == "failed" and unanswered.error == "ApprovalNeeded"


def test_a_nested_workflow_is_a_run_of_its_own(store: LocalStore) -> None:
    record = run(flows.parent, store)
    assert value(record) == 30
    (child,) = [r for r in list_runs(store, "child")]
    assert child.parent == record.run_id and child.status == "succeeded"


def test_ctrl_c_leaves_a_consistent_record(store: LocalStore) -> None:
    local = LocalRun(flows.stopped, store, run_id=new_run_id())
    with pytest.raises(KeyboardInterrupt):
        local.run(flows.stopped.validate_params({}))
    record = find_run(store, local.run_id)
    assert record is not None and record.status == "interrupted"
    assert record.steps["first"].status == "succeeded"
    assert record.steps["interrupt"].status == "failed" and record.steps["interrupt"].error == "Interrupted"


def test_sequential_mode_for_debugging_runs_everything_in_this_thread(store: LocalStore) -> None:
    import threading

    flows.THREADS.clear()
    record = run(flows.chain, store, sequential=True)
    assert record.status == "succeeded", (record.error, record.cause)
    assert {threading.current_thread().name} == flows.THREADS, "breakpoint() stops in the user's own thread"


def test_a_step_can_write_a_file_beside_its_output(store: LocalStore) -> None:
    record = run(ml_training, store)
    key = f"runs/ml_training/{record.run_id}/release_model/attempt-0/files/model.pkl"
    model = pickle.loads(store.read(key))  # the test's own file, written by the step it ran
    assert type(model).__name__ == "Pipeline" and model.n_features_in_ == 8
    lineage = json.loads(store.read(f"runs/ml_training/{record.run_id}/release_model/attempt-0/lineage.json"))
    assert lineage["files"] == [key]
