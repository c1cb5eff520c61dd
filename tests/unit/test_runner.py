"""The step runner: claim-check outputs, lineage, caching and error names, on both stores.

Every test runs against the local folder store and against S3 (moto's in-process S3),
because the two must hold the same keys and the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import BaseModel

from compiler.protocol import StepPayload, output_key
from lambdas.envelope import read_envelope
from lambdas.errors import InvalidInputError, StepFailedError
from lambdas.runner import run_step
from lambdas.store import ArtifactStore, LocalStore, S3Store
from stepstone import PermanentError, step

CALLS: list[str] = []


class Table(BaseModel):
    name: str
    rows: list[list[float]]
    row_count: int
    note: str = ""


class DataError(Exception):
    pass


class MissingColumn(DataError):
    pass


@step
def make_table(name: str, n: int) -> Table:
    CALLS.append(f"make_table:{name}:{n}")
    rows = [[float(i), float(i) * 2] for i in range(n)]
    return Table(name=name, rows=rows, row_count=n)


@step(cache=True)
def total(table: Table) -> float:
    CALLS.append(f"total:{table.name}")
    return sum(sum(row) for row in table.rows)


@step
def fail_with(kind: str) -> None:
    if kind == "missing":
        raise MissingColumn("column 'y' is missing")
    raise PermanentError("bad input file")


@step
def describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


@step
def add(a: int, b: int) -> int:
    return a + b


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ArtifactStore]:
    CALLS.clear()
    if request.param == "local":
        yield LocalStore(tmp_path / "store")
        return
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="stepstone-artifacts")
        yield S3Store("stepstone-artifacts", client)


def call(step_name: str, args: dict[str, Any], *, run: str = "run-1", **kw: Any) -> StepPayload:
    """The payload as the state machine sends it (JSON), decoded as the Lambda handler decodes it."""
    return StepPayload.decode({"step": f"{__name__}:{step_name}", "workflow": "wf", "state": step_name, "run": run,
                               "args": args, **kw})


def test_a_small_output_travels_inline(store: ArtifactStore) -> None:
    envelope = run_step(call("make_table", {"name": {"value": "t"}, "n": {"value": 3}}), store)
    assert envelope["ref"] is None
    assert envelope["value"]["row_count"] == 3
    assert envelope["fields"] == {"name": "t", "row_count": 3, "note": "", "rows": True}, \
        "scalars for conditions, and the truthiness of the rest (a non-empty list)"


def test_a_large_output_is_stored_and_the_state_keeps_a_reference(store: ArtifactStore) -> None:
    envelope = run_step(call("make_table", {"name": {"value": "big"}, "n": {"value": 500}}, inline_limit=1024), store)
    assert envelope["value"] is None
    assert envelope["ref"] == "runs/wf/run-1/make_table/attempt-0/output.json"
    assert envelope["fields"]["row_count"] == 500
    assert len(json.dumps(envelope)) <= 1024 + 512, "the envelope respects the bound the compiler proved"
    stored = json.loads(store.read(envelope["ref"]))
    assert len(stored["rows"]) == 500
    # the next step reads it back through the reference
    result = run_step(call("total", {"table": {"result": envelope}}), store)
    assert result["value"] == sum(3 * i for i in range(500))


def test_every_attempt_leaves_lineage_and_attempts_stay_apart(store: ArtifactStore) -> None:
    big = run_step(call("make_table", {"name": {"value": "x"}, "n": {"value": 300}}, inline_limit=1024), store)
    for attempt in (0, 1):
        run_step(call("total", {"table": {"result": big}}, attempt=attempt, map_path="for_x/2"), store)
    records = [json.loads(store.read(k)) for k in store.keys("runs/wf/run-1/for_x/2/total/")]
    assert [r["attempt"] for r in records] == [0, 1]
    first = records[0]
    assert first["status"] == "succeeded"
    assert first["inputs"]["table"]["ref"] == big["ref"]
    assert first["inputs"]["table"]["hash"].startswith("sha256:")
    assert first["output"]["hash"].startswith("sha256:") and first["output"]["bytes"] > 0
    assert first["code_hash"] and first["started"] <= first["finished"]
    assert records[1]["status"] == "cached", "the second attempt found the first one's cache record"


def test_cache_skips_a_step_whose_code_and_inputs_are_unchanged(store: ArtifactStore) -> None:
    table = run_step(call("make_table", {"name": {"value": "c"}, "n": {"value": 4}}), store)
    first = run_step(call("total", {"table": {"result": table}}), store)
    again = run_step(call("total", run="run-2", args={"table": {"result": table}}), store)
    assert again == first
    assert CALLS.count("total:c") == 1, "the cached step did not run again"
    other = run_step(call("make_table", {"name": {"value": "c"}, "n": {"value": 5}}), store)
    run_step(call("total", {"table": {"result": other}}, attempt=3), store)
    assert CALLS.count("total:c") == 2, "different inputs run the step"


def test_a_failure_is_named_for_retry_and_catch(store: ArtifactStore) -> None:
    with pytest.raises(StepFailedError) as caught:
        run_step(call("fail_with", {"kind": {"value": "missing"}}), store)
    assert caught.value.error == "MissingColumn"
    with pytest.raises(StepFailedError) as caught:
        run_step(call("fail_with", {"kind": {"value": "missing"}}, error_names=("DataError",)), store)
    assert caught.value.error == "DataError", "reported under the base class the workflow catches"
    assert "column 'y' is missing" in caught.value.cause
    record = json.loads(store.read("runs/wf/run-1/fail_with/attempt-0/lineage.json"))
    assert record["status"] == "failed" and record["error"]["type"] == "MissingColumn"
    assert "Traceback" in record["error"]["traceback"]


def test_inputs_are_validated_before_the_step_runs(store: ArtifactStore) -> None:
    with pytest.raises(StepFailedError) as caught:
        run_step(call("add", {"a": {"value": 1}, "b": {"value": "two"}}, error_names=("PermanentError",)), store)
    assert caught.value.error == "PermanentError", "a bad input is permanent: no retry helps"
    assert isinstance(caught.value.__cause__, InvalidInputError)


def test_a_caught_error_reaches_a_step_as_an_exception(store: ArtifactStore) -> None:
    cause = json.dumps({"errorMessage": "column 'y' is missing", "errorType": "MissingColumn"})
    envelope = run_step(call("describe", {"error": {"error": {"Error": "MissingColumn", "Cause": cause}}}), store)
    assert envelope["value"] == "MissingColumn: column 'y' is missing"


def test_an_output_an_inline_fan_out_needs_must_fit(store: ArtifactStore) -> None:
    with pytest.raises(StepFailedError) as caught:
        run_step(call("make_table", {"name": {"value": "x"}, "n": {"value": 500}}, inline_limit=1024,
                      store="inline", error_names=("PermanentError",)), store)
    assert caught.value.error == "PermanentError"
    assert "max_items" in caught.value.cause


def test_always_store_for_batch_readers(store: ArtifactStore) -> None:
    envelope = run_step(call("make_table", {"name": {"value": "s"}, "n": {"value": 1}}, store="always"), store)
    assert envelope["ref"] is not None and envelope["value"] is None


def test_a_batch_job_writes_its_output_where_the_next_state_looks(store: ArtifactStore) -> None:
    run_step(call("make_table", {"name": {"value": "g"}, "n": {"value": 2}}, batch=True, map_path="m/0"), store)
    key = output_key("wf", "run-1", "make_table", "m/0")
    assert json.loads(store.read(key))["row_count"] == 2
    deferred = {"fields": {}, "ref": key, "value": None}  # what the compiled state machine builds
    assert run_step(call("total", {"table": {"result": deferred}}), store)["value"] == 3.0  # 0+0+1+2


def test_distributed_fan_out_results_are_read_in_item_order(store: ArtifactStore) -> None:
    folder = "runs/wf/run-1/map-results/abc"
    items = [{"Input": json.dumps({"map_path": f"m/{i}"}), "Output": json.dumps({"fields": {}, "ref": None,
                                                                               "value": i * 10}),
              "Status": "SUCCEEDED"} for i in (2, 0, 1)]
    store.write(f"{folder}/SUCCEEDED_0.json", json.dumps(items).encode())
    store.write(f"{folder}/manifest.json", json.dumps(
        {"ResultFiles": {"SUCCEEDED": [{"Key": f"{folder}/SUCCEEDED_0.json"}]}}).encode())
    assert read_envelope({"fields": {}, "ref": f"{folder}/manifest.json", "value": None}, store) == [0, 10, 20]


def test_conditional_writes_keep_the_first_record(store: ArtifactStore) -> None:
    assert store.write("cache/x.json", b"1", if_absent=True)
    assert not store.write("cache/x.json", b"2", if_absent=True)
    assert store.read("cache/x.json") == b"1"


def test_a_redriven_run_reuses_a_finished_step_only_when_code_inputs_and_state_are_known(
        store: ArtifactStore) -> None:
    """A run that continues a failed one (``<run>_r1``, with a redrive record) hands over a
    finished step's output without running it, when the same code ran on the same inputs;
    it runs the step when the inputs differ or when the earlier state is not known."""
    from compiler.protocol import redrive_key

    args = {"name": {"value": "t"}, "n": {"value": 3}}
    first = run_step(call("make_table", args), store)
    assert CALLS == ["make_table:t:3"]
    record = {"from": "run-1", "steps": {"make_table": {"envelope": first, "attempt": 0}}}
    store.write(redrive_key("wf", "run-1_r1"), json.dumps(record).encode())
    again = run_step(call("make_table", run="run-1_r1", args=args), store)
    assert again == first and CALLS == ["make_table:t:3"], "reused, not run"
    lineage = json.loads(store.read("runs/wf/run-1_r1/make_table/attempt-0/lineage.json"))
    assert lineage["status"] == "reused" and lineage["reused_from"] == "runs/wf/run-1/make_table/attempt-0/"
    other = {"name": {"value": "t"}, "n": {"value": 4}}
    store.write(redrive_key("wf", "run-1_r2"), json.dumps(record).encode())
    run_step(call("make_table", run="run-1_r2", args=other), store)
    assert CALLS[-1] == "make_table:t:4", "other inputs: the step runs"
    unknown = {"from": "run-1", "steps": {"make_table": {"envelope": None, "attempt": 0}}}
    store.write(redrive_key("wf", "run-1_r3"), json.dumps(unknown).encode())
    run_step(call("make_table", run="run-1_r3", args=args), store)
    assert CALLS[-1] == "make_table:t:3" and len(CALLS) == 3, "what the state held is unknown: the step runs"
