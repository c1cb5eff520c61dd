"""Real ML values between steps on the local target: every codec's round trip through a run
(tests/e2e/value_flows.py), read back afterwards (``stepstone artifacts``, ``stepstone.load``
in a fresh Python process), refused when its stored bytes changed, never decoded from a
run's plain parameters, passed whole to a nested workflow, and hashed by content so a cached
step consuming a DataFrame hits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from compiler.protocol import StepPayload, ValueRef, value_refs
from lambdas.errors import StepFailedError
from lambdas.runner import run_step
from lambdas.store import LocalStore
from stepstone import register_codec, step
from stepstone.cli import main
from stepstone.local import LocalRun
from stepstone.records import RunRecord, new_run_id
from tests.e2e.value_flows import array_of, frame_of, gated_model, model_of, values_round_trip

ROOT = Path(__file__).resolve().parents[2]


def run(definition: Any, home: Path, params: dict[str, Any] | None = None) -> RunRecord:
    local = LocalRun(definition, LocalStore(home), run_id=new_run_id())
    return local.run(definition.validate_params(params or {})).record


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunRecord, Path]:
    home = tmp_path_factory.mktemp("values") / ".stepstone"
    record = run(values_round_trip, home)
    assert record.status == "succeeded", (record.failed_state, record.error, record.cause)
    return record, home


def test_every_value_arrives_equal_to_what_was_sent(finished: tuple[RunRecord, Path]) -> None:
    record, _ = finished
    output = record.output["value"]
    assert {k: v for k, v in output.items() if v is not True} == {"note": "rows, and an empty list is false"}
    assert len(output) == 14, "each codec's check, and the note the truthiness tests chose"


def test_a_model_and_a_dataframe_wait_on_an_approval_gate(tmp_path: Path) -> None:
    local = LocalRun(gated_model, LocalStore(tmp_path), run_id=new_run_id(), approver=lambda question, state: True)
    record = local.run(gated_model.validate_params({})).record
    assert record.status == "succeeded", (record.failed_state, record.error, record.cause)
    frame = frame_of(60)
    features = np.column_stack([frame["x"], array_of(60)])
    assert record.output["value"] == round(float(model_of(60).score(features, frame["label"])), 6)


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_artifacts_lists_each_stored_value_with_type_codec_and_hash(finished: tuple[RunRecord, Path]) -> None:
    record, home = finished
    code, listing = cli("artifacts", record.run_id, "--home", str(home), "--json")
    assert code == 0, listing
    rows = {(r["step"], r["value"]): r for r in json.loads(listing)}
    assert (rows[("make_frame", "")]["codec"], rows[("make_frame", "")]["type"]) == ("parquet", "pandas.DataFrame")
    assert rows[("make_array", "")]["codec"] == "npy" and rows[("fit_model", "")]["codec"] == "pickle"
    assert rows[("write_folder", "")]["codec"] == "folder" and rows[("write_report", "")]["codec"] == "file"
    assert rows[("summarize", "table")]["codec"] == "parquet", "a record's DataFrame field, by its path"
    assert rows[("loose", "head")]["codec"] == "parquet", "an unannotated dict's DataFrame, chosen at run time"
    assert all(r["hash"].startswith("sha256:") and r["bytes"] > 0 for r in rows.values())
    code, table = cli("artifacts", record.run_id, "fit_model", "--home", str(home))
    assert code == 0 and "LogisticRegression" in table and "pickle" in table and "make_frame" not in table


def test_artifacts_get_downloads_a_value_checked_against_its_hash(finished: tuple[RunRecord, Path],
                                                                 tmp_path: Path) -> None:
    record, home = finished
    code, said = cli("artifacts", "get", record.run_id, "make_frame", "-o", str(tmp_path / "frame.parquet"),
                     "--home", str(home))
    assert code == 0, said
    assert pd.read_parquet(tmp_path / "frame.parquet").equals(frame_of(60))
    code, said = cli("artifacts", "get", record.run_id, "write_folder", "-o", str(tmp_path), "--home", str(home))
    assert code == 0 and (tmp_path / "model-card" / "plots" / "roc.txt").read_text() == "0,0\n1,1\n"
    code, said = cli("artifacts", "get", record.run_id, "summarize.nope", "--home", str(home))
    assert code == 2 and "summarize.table" in said, "an unknown value lists the ones there are"


def test_a_notebook_loads_the_model_in_a_fresh_process(finished: tuple[RunRecord, Path]) -> None:
    record, home = finished
    script = ("import numpy as np, stepstone\n"
              "from tests.e2e.value_flows import array_of, frame_of, model_of\n"
              f"model = stepstone.load({record.run_id!r}, 'fit_model', home={str(home)!r})\n"
              f"report = stepstone.load({record.run_id!r}, 'summarize', home={str(home)!r})\n"
              "x = np.column_stack([frame_of(60)['x'], array_of(60)])\n"
              "print(type(model).__name__, type(report).__name__, type(report.table).__name__,\n"
              "      np.array_equal(model.predict_proba(x), model_of(60).predict_proba(x)))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["LogisticRegression", "Report", "DataFrame", "True"]


def test_a_changed_stored_value_is_refused_with_its_key(finished: tuple[RunRecord, Path], tmp_path: Path) -> None:
    record, home = finished
    code, listing = cli("artifacts", record.run_id, "fit_model", "--home", str(home), "--json")
    key = json.loads(listing)[0]["key"]
    path = home / key
    original = path.read_bytes()
    try:
        path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        code, said = cli("artifacts", "get", record.run_id, "fit_model", "-o", str(tmp_path), "--home", str(home))
        assert code == 1 and key in said, said
        import stepstone
        from lambdas.errors import CorruptValueError

        with pytest.raises(CorruptValueError, match=key):
            stepstone.load(record.run_id, "fit_model", home=str(home))
    finally:
        path.write_bytes(original)


def payload(step_name: str, args: dict[str, Any], *, run: str = "run-1", cache: bool = False) -> StepPayload:
    return StepPayload.decode({"step": f"{__name__}:{step_name}", "workflow": "wf", "state": step_name, "run": run,
                               "args": args, **({"cache": True} if cache else {})})


@step
def produce(rows: int) -> pd.DataFrame:
    return frame_of(rows)


@step
def consume(frame: pd.DataFrame) -> float:
    return float(frame["x"].sum())


@step
def echo(value: dict) -> dict:  # type: ignore[type-arg]
    return value


def test_a_step_reading_a_changed_value_fails_naming_its_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    made = run_step(payload("produce", {"rows": {"value": 10}}), store)
    ((_, ref),) = value_refs(made["value"])
    (tmp_path / ref.key).write_bytes(b"PAR1 not the bytes that were written")
    with pytest.raises(StepFailedError) as failed:
        run_step(payload("consume", {"frame": {"result": made}}), store)
    assert failed.value.error == "CorruptValueError" and ref.key in failed.value.cause


def test_a_reference_in_the_run_parameters_is_never_read(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    made = run_step(payload("produce", {"rows": {"value": 10}}), store)
    forged = made["value"]
    echoed = run_step(payload("echo", {"value": {"value": forged}}), store)
    assert echoed["value"] == forged, "a parameter shaped like a reference stays the JSON it is"
    outside = ValueRef.decode(forged).encode()
    outside["stepstone_ref"]["key"] = "cache/elsewhere/x.parquet"
    with pytest.raises(StepFailedError, match="outside"):
        run_step(payload("consume", {"frame": {"value": outside, "refs": True}}), store)


def test_an_envelope_pointing_outside_runs_is_not_read_as_a_step_result(tmp_path: Path) -> None:
    """A nested workflow's passed value is its caller's envelope, in the child's input: one
    written by hand cannot point at an object no step wrote (an upload, say)."""
    store = LocalStore(tmp_path)
    made = run_step(payload("produce", {"rows": {"value": 10}}), store)
    store.write("incoming/upload.json", json.dumps(made["value"]).encode())
    forged = {"fields": {}, "ref": "incoming/upload.json", "value": None}
    with pytest.raises(StepFailedError, match="not under runs/"):
        run_step(payload("consume", {"frame": {"result": forged}}), store)


def test_a_workflow_passed_step_results_does_not_start_on_its_own(tmp_path: Path) -> None:
    code, output = cli("run", f"{ROOT / 'tests/e2e/value_flows.py'}:band_summary", "--home", str(tmp_path))
    assert code == 2, output
    assert "frame: a DataFrame is passed by a workflow that calls 'band_summary', not given to a run" in output
    assert "run that workflow" in output and "Traceback" not in output


def test_a_cached_step_hits_on_the_same_dataframe_from_another_run(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    first = run_step(payload("produce", {"rows": {"value": 10}}, run="run-1"), store)
    second = run_step(payload("produce", {"rows": {"value": 10}}, run="run-2"), store)
    assert ValueRef.decode(first["value"]).key != ValueRef.decode(second["value"]).key, "stored per run"
    run_step(payload("consume", {"frame": {"result": first}}, run="run-1", cache=True), store)
    run_step(payload("consume", {"frame": {"result": second}}, run="run-2", cache=True), store)
    lineage = json.loads(store.read("runs/wf/run-2/consume/attempt-0/lineage.json"))
    assert lineage["status"] == "cached", "the inputs are hashed by content, not by key"
    output = json.loads(store.read("runs/wf/run-1/produce/attempt-0/lineage.json"))["output"]
    assert [v["codec"] for v in output["values"]] == ["parquet"] and output["values"][0]["bytes"] > 0


class Polygon:
    """A user's own type, with a codec of its own (registered where the workflow file is imported,
    so the compiler and the step runner both know it)."""

    def __init__(self, points: list[tuple[float, float]]) -> None:
        self.points = points


def _polygon_text(polygon: Polygon) -> bytes:
    return ("POLYGON((" + ", ".join(f"{x} {y}" for x, y in polygon.points) + "))").encode()


def _polygon_of(data: bytes) -> Polygon:
    inner = data.decode().removeprefix("POLYGON((").removesuffix("))")
    return Polygon([(float(x), float(y)) for x, y in (pair.split() for pair in inner.split(", "))])


register_codec("wkt", "text/plain", ".wkt", types=[Polygon], encode=_polygon_text, decode=_polygon_of,
               replace=True)


@step
def outline(n: int) -> Polygon:
    return Polygon([(0.0, 0.0), (float(n), 0.0), (float(n), float(n))])


@step
def area(shape: Polygon) -> float:
    (x0, y0), (x1, y1), (x2, y2) = shape.points
    return abs((x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)) / 2


def test_a_registered_codec_carries_the_users_own_type(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    made = run_step(payload("outline", {"n": {"value": 4}}), store)
    ((_, ref),) = value_refs(made["value"])
    assert (ref.codec, ref.media_type, ref.key.endswith(".wkt")) == ("wkt", "text/plain", True)
    assert store.read(ref.key) == b"POLYGON((0.0 0.0, 4.0 0.0, 4.0 4.0))"
    assert run_step(payload("area", {"shape": {"result": made}}), store)["value"] == 8.0


def test_the_training_dags_model_loads_in_a_fresh_process(tmp_path: Path) -> None:
    from examples.ml_training import ml_training

    home = tmp_path / ".stepstone"
    record = run(ml_training, home)
    assert record.status == "succeeded" and record.output["value"].startswith("s3://model-registry/")
    script = ("import stepstone\n"
              f"model = stepstone.load({record.run_id!r}, 'train_model', home={str(home)!r})\n"
              "scores = model.pipeline.predict_proba(model.holdout[model.features])[:, 1]\n"
              "print(type(model).__name__, type(model.pipeline).__name__, len(scores), model.holdout.shape[1])\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["TrainedModel", "Pipeline", "143", "9"]
