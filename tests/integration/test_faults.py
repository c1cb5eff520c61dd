"""Injected faults (STEPSTONE_FAULTS, lambdas/faults.py) on the local target and in moto's
interpreter: transient faults retried as the Retry policy says, timeouts caught, a
permanent failure following its except path or failing the run with every finished step's
output and lineage kept, a resumed run running only what had not finished, and no
artifact ever written twice (each attempt keeps its own folder).

The same cases on LocalStack, with `stepstone redrive`, are tests/e2e/test_faults.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compiler.protocol import attempt_prefix, run_prefix
from examples.etl_s3 import etl_s3
from lambdas.errors import FaultSpecError
from lambdas.faults import ENV, parse_faults
from lambdas.store import LocalStore
from stepstone.local import LocalRun
from stepstone.local.options import ExecutorOptions
from stepstone.records import RunRecord
from stepstone.testing.moto_sfn import MotoStepFunctions
from tests.e2e.fault_flows import enriched_report
from tests.support.reliability import count


def local_run(definition: Any, store: LocalStore, params: dict[str, Any], *, run_id: str = "r1",
              resume: RunRecord | None = None) -> RunRecord:
    run = LocalRun(definition, store, run_id=run_id, options=ExecutorOptions(retry_delay_scale=0.0, echo_output=False),
                   resume=resume)
    return run.run(definition.validate_params(params)).record


def lineage(store: LocalStore, workflow: str, run: str, state: str, attempt: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(store.read(attempt_prefix(workflow, run, state, attempt) + "lineage.json"))
    return data


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every artifact under ``root`` (the run record, run.json, is rewritten as the run goes:
    not an artifact): (modification time in ns, content)."""
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*")
            if p.is_file() and p.name != "run.json"}


def test_a_fault_spec_is_read_or_refused_with_how_to_write_it() -> None:
    faults = parse_faults("extract=transient:2, enrich=timeout,publish=permanent@Boom")
    assert [(f.name, f.kind, f.times, f.error) for f in faults] == [
        ("extract", "transient", 2, None), ("enrich", "timeout", 0, None), ("publish", "permanent", 0, "Boom")]
    for bad in ("extract", "extract=sometimes", "extract=transient", "extract=permanent:2", "=timeout"):
        with pytest.raises(FaultSpecError, match="STEPSTONE_FAULTS"):
            parse_faults(bad)


@pytest.mark.parametrize("target", ["local", "moto"])
def test_transient_faults_are_retried_per_the_policy_and_the_run_succeeds(
        target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv(ENV, "extract=transient:2")
    if target == "local":
        store = LocalStore(tmp_path)
        record = local_run(enriched_report, store, {"n": 5})
        assert record.status == "succeeded" and record.output["value"] == "10 rows from api"
        assert record.steps["extract"].attempts == 3
        attempts = [lineage(store, "enriched_report", "r1", "extract", n) for n in range(3)]
    else:
        moto: MotoStepFunctions = request.getfixturevalue("moto_sfn")
        run = moto.run_workflow(enriched_report, {"n": 5})
        assert run.status == "SUCCEEDED" and run.output["value"] == "10 rows from api"
        assert len(run.waits) == 2, "two back-off waits (1 s, then 2 s: recorded, not waited)"
        name = run.execution_arn.rsplit(":", 1)[-1]
        attempts = [json.loads(moto.read(attempt_prefix("enriched_report", name, "extract", n) + "lineage.json"))
                    for n in range(3)]
    assert [a["status"] for a in attempts] == ["failed", "failed", "succeeded"]
    assert [a["error"]["Error"] for a in attempts[:2]] == ["TransientError", "TransientError"]
    assert "injected by STEPSTONE_FAULTS" in attempts[0]["error"]["Cause"]
    count("injected faults: transient, retried to success (local, moto, LocalStack)", 2)


@pytest.mark.parametrize("target", ["local", "moto"])
def test_a_timeout_is_caught_by_except_step_timeout(target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv(ENV, "enrich=timeout")
    if target == "local":
        record = local_run(enriched_report, LocalStore(tmp_path), {"n": 5})
        assert record.status == "succeeded", (record.error, record.cause)
        assert record.output["value"] == "5 rows from cache"
        assert record.steps["enrich"].error == "States.Timeout"
    else:
        moto: MotoStepFunctions = request.getfixturevalue("moto_sfn")
        run = moto.run_workflow(enriched_report, {"n": 5})
        assert run.status == "SUCCEEDED" and run.output["value"] == "5 rows from cache"
        assert [e["type"] for e in run.history if e["type"] == "TaskTimedOut"] == ["TaskTimedOut"]
    count("injected faults: timeouts, caught by except StepTimeout (local, moto, LocalStack)")


@pytest.mark.parametrize("target", ["local", "moto"])
def test_a_permanent_failure_follows_its_except_path(target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     request: pytest.FixtureRequest) -> None:
    monkeypatch.setenv(ENV, "clean_rows=permanent@MalformedFileError")
    if target == "local":
        record = local_run(etl_s3, LocalStore(tmp_path), {})
        assert record.status == "succeeded" and record.output["value"] == "quarantined"
        assert record.steps["clean_rows"].attempts == 1, "a permanent error is not retried"
        assert "load_to_warehouse" not in record.steps
    else:
        moto: MotoStepFunctions = request.getfixturevalue("moto_sfn")
        run = moto.run_workflow(etl_s3, {})
        assert run.status == "SUCCEEDED" and run.output["value"] == "quarantined"
        assert "quarantine" in run.states and "load_to_warehouse" not in run.states
    count("injected faults: permanent, caught by its except path (local, moto, LocalStack)")


def test_a_permanent_failure_fails_the_run_keeping_what_finished_and_a_resume_runs_only_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path)
    monkeypatch.setenv(ENV, "publish=permanent")
    failed = local_run(enriched_report, store, {"n": 5})
    assert failed.status == "failed" and failed.error == "InjectedFaultError"
    for state in ("extract", "enrich"):
        kept = lineage(store, "enriched_report", "r1", state, 0)
        assert kept["status"] == "succeeded" and kept["output"]["hash"], state
    assert lineage(store, "enriched_report", "r1", "publish", 0)["status"] == "failed"
    before = snapshot(tmp_path / run_prefix("enriched_report", "r1"))

    monkeypatch.delenv(ENV)
    resumed = local_run(enriched_report, store, {"n": 5}, resume=failed)
    assert resumed.status == "succeeded" and resumed.output["value"] == "10 rows from api"
    after = snapshot(tmp_path / run_prefix("enriched_report", "r1"))
    assert {k: v for k, v in after.items() if k in before} == before, "nothing written before was written again"
    new = sorted(set(after) - set(before))
    assert new and all(k.startswith("publish/attempt-1/") for k in new), new
    count("injected faults: permanent, run failed, outputs kept, resumed (local, moto, LocalStack)")


def test_in_moto_a_failed_run_keeps_every_finished_steps_output_and_lineage(
        moto_sfn: MotoStepFunctions, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "publish=permanent")
    run = moto_sfn.run_workflow(enriched_report, {"n": 5})
    assert run.status == "FAILED" and run.error == "InjectedFaultError"
    name = run.execution_arn.rsplit(":", 1)[-1]
    keys = set(moto_sfn.keys(run_prefix("enriched_report", name)))
    for state in ("extract", "enrich"):
        record = json.loads(moto_sfn.read(attempt_prefix("enriched_report", name, state, 0) + "lineage.json"))
        assert record["status"] == "succeeded" and record["execution"] == run.execution_arn
    assert attempt_prefix("enriched_report", name, "publish", 0) + "lineage.json" in keys


def test_the_command_line_injects_faults_and_redrive_resumes_without_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from stepstone.cli import main

    monkeypatch.delenv(ENV, raising=False)  # `stepstone run --fault` sets it in this process; undone after
    home = str(tmp_path / "home")

    def stepstone(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, [*args, "--home", home])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.exit_code, result.output

    code, output = stepstone("run", "tests/e2e/fault_flows.py", "--fault", "publish=permanent", "--json")
    assert code == 1, output
    record = json.loads(output[output.index("{"):])
    assert record["error"] == "InjectedFaultError" and record["steps"]["extract"]["status"] == "succeeded"
    monkeypatch.delenv(ENV)  # the "fix"; redrive goes on in a process of its own, without the fault
    code, output = stepstone("redrive", record["run_id"], "--wait")
    assert code == 0, output
    code, output = stepstone("show", record["run_id"], "--json")
    statuses = {k: s["status"] for k, s in json.loads(output)["steps"].items()}
    assert statuses == {"extract": "reused", "enrich": "reused", "publish": "succeeded"}
    assert json.loads(output)["steps"]["publish"]["attempts"] == 2, "publish ran again; the others did not"
    for bad, says in ((("--fault", "nope=permanent"), "has no step or state named 'nope'"),
                      (("--fault", "publish=sometimes"), "NAME=transient:N")):
        code, output = stepstone("run", "tests/e2e/fault_flows.py", *bad)
        assert code == 2 and says in output, output
