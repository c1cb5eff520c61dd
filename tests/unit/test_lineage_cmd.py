"""``stepstone lineage`` on the local target: a run's provenance (tree, Mermaid, JSON and
OpenLineage events), and the runs that used a value or a file, from two runs of
tests/e2e/value_flows.py (same parameters: the same values by content) and one run that an
S3 upload started."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd
import pytest
from click.testing import CliRunner

from lambdas.store import LocalStore
from stepstone import step, workflow
from stepstone.cli import main
from stepstone.local import LocalRun
from stepstone.records import RunRecord, new_run_id
from tests.e2e.value_flows import frame_of, values_round_trip

ROW = re.compile(r"^[│ ]*[├└]── ")  # a branch of the tree (a continued line has none)


@step
def read_upload(bucket: str, key: str) -> pd.DataFrame:
    return frame_of(5)


@step
def count(frame: pd.DataFrame) -> int:
    return len(frame)


@workflow
def ingest(bucket: str = "raw-data", key: str = "sales/day.csv") -> int:
    return count(read_upload(bucket, key))


class Runs(NamedTuple):
    home: Path
    first: RunRecord
    second: RunRecord
    upload: RunRecord


def run(definition: Any, home: Path, trigger: str = "manual") -> RunRecord:
    record = LocalRun(definition, LocalStore(home), run_id=new_run_id(), trigger=trigger).run(
        definition.validate_params({})).record
    assert record.status == "succeeded", (record.failed_state, record.error, record.cause)
    return record


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    home = tmp_path_factory.mktemp("lineage") / ".stepstone"
    return Runs(home, run(values_round_trip, home), run(values_round_trip, home),
                run(ingest, home, trigger="s3://raw-data/sales/day.csv"))


def cli(runs: Runs, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, [*args, "--home", str(runs.home)])
    return result.exit_code, result.output


def graph(runs: Runs, record: RunRecord) -> dict[str, Any]:
    code, printed = cli(runs, "lineage", record.run_id, "--format", "json")
    assert code == 0, printed
    document: dict[str, Any] = json.loads(printed)
    return document


def made(document: dict[str, Any], state: str) -> dict[str, dict[str, Any]]:
    """The values a step stored, by their path in its output."""
    nodes = {n["id"]: n for n in document["nodes"]}
    return {e["label"]: nodes[e["target"]] for e in document["edges"]
            if e["how"] == "made" and e["source"] == f"step:{state}" and nodes[e["target"]]["kind"] == "value"}


def branch(tree: str, key: str) -> list[str]:
    """One step's rows of the tree, each wrapped row joined up again."""
    rows: list[str] = []
    inside = False
    for line in tree.splitlines():
        if re.match(r"^[├└]── ", line):
            inside = line[4:].split()[0] == key
        elif inside and ROW.match(line):
            rows.append(ROW.sub("", line).strip())
        elif inside and rows:
            rows[-1] += " " + line.strip(" │")
    return rows


def test_the_tree_shows_what_each_step_read_from_which_step(runs: Runs) -> None:
    code, tree = cli(runs, "lineage", runs.first.run_id)
    assert code == 0, tree
    frame = made(graph(runs, runs.first), "make_frame")["output"]["ref"]
    rows = branch(tree, "fit_model")
    assert f"read frame ← make_frame: output  parquet DataFrame 6.0 KB {frame['hash'][7:19]}" in rows, rows
    assert any(r.startswith("read array ← make_array: output  npy ndarray") for r in rows), rows
    assert any(r.startswith("made output  pickle LogisticRegression") for r in rows), rows
    assert "read rows ← parameter rows = 60" in branch(tree, "make_frame")
    compare = " ".join(branch(tree, "compare"))
    assert "count_rows of each of the 3 items of for_part_in_parts" in compare, "an inline fan-out's results"
    assert "band_summary run" in compare and "band_counts: output  parquet Series" in compare, "a nested run's value"
    assert "not linked: a constant written in the workflow" in " ".join(branch(tree, "verdict_2"))


def test_the_json_graph_links_inputs_by_stored_key_and_by_content(runs: Runs) -> None:
    document = graph(runs, runs.first)
    edges = {(e["source"], e["target"], e["label"]): e["how"] for e in document["edges"]}
    frame, array = made(document, "make_frame")["output"], made(document, "make_array")["output"]
    assert edges[(frame["id"], "step:fit_model", "frame")] == "key"
    assert edges[(array["id"], "step:fit_model", "array")] == "key"
    assert edges[("output:compare", "step:verdict_2", "checks")] == "hash", "an inline JSON output, by its hash"
    assert edges[("param:rows", "step:make_frame", "rows")] == "param"
    assert [u["input"] for u in document["unlinked"]] == ["note"], "only the constant stays unlinked"


def test_mermaid_draws_steps_values_and_parameters(runs: Runs) -> None:
    code, chart = cli(runs, "lineage", runs.first.run_id, "--format", "mermaid")
    assert code == 0, chart
    lines = chart.splitlines()
    assert lines[0] == "flowchart LR"
    node = re.compile(r'^  (n\d+)(\["|\[\("|\(\["|\[\[")(.*?)("\]|"\)\]|"\]\)|"\]\])$')
    edge = re.compile(r'^  (n\d+) (-->|-\.->)(\|"[^"]+"\|)? (n\d+)$')
    style = re.compile(r"^  (classDef \w+ \S+|class n\d+(,n\d+)* \w+)$")
    labels: dict[str, str] = {}
    arrows: list[tuple[str, str, str]] = []
    for line in lines[1:]:
        if (found := node.match(line)) is not None:
            labels[found.group(1)] = found.group(3)
            assert (found.group(2), found.group(4)) in (('["', '"]'), ('[("', '")]'), ('(["', '"])'), ('[["', '"]]'))
        elif (linked := edge.match(line)) is not None:
            assert {linked.group(1), linked.group(4)} <= set(labels), line
            arrows.append((linked.group(1), (linked.group(3) or "").strip('|"'), linked.group(4)))
        else:
            assert style.match(line), f"not a Mermaid flowchart line: {line!r}"
    ids = {label: name for name, label in labels.items()}
    assert set(runs.first.steps) <= set(ids), "every step is a box"
    assert ids["rows = 60"] and any(line.startswith(f'  {ids["rows = 60"]}(["') for line in lines)
    parquet = {target for source, _, target in arrows if source == ids["make_frame"]}
    assert any((value, "frame", ids["fit_model"]) in arrows for value in parquet), "make_frame -> parquet -> fit_model"
    assert any(labels[value].startswith("output<br/>parquet DataFrame") for value in parquet)


def test_input_lists_the_runs_and_steps_that_read_a_value(runs: Runs) -> None:
    digest = made(graph(runs, runs.first), "make_frame")["output"]["ref"]["hash"]
    code, table = cli(runs, "lineage", "--input", digest[:19])
    assert code == 0, table
    assert f"run {runs.first.run_id}" in table and f"run {runs.second.run_id}" in table, "the same frame, by content"
    rows = [line.split() for line in table.splitlines()]
    assert ["fit_model", "frame", "LogisticRegression"] in [row[:3] for row in rows], table
    code, listed = cli(runs, "lineage", "--input", digest, "--format", "json")
    uses = json.loads(listed)
    first = {u["step"] for u in uses if u["run"] == runs.first.run_id}
    assert {"make_series", "make_table", "fit_model", "summarize", "split", "loose", "compare"} <= first
    model = next(u for u in uses if u["run"] == runs.first.run_id and u["step"] == "fit_model")
    assert model["input"] == "frame" and model["produced"][0]["codec"] == "pickle"


def test_input_finds_the_file_an_s3_trigger_started_a_run_with(runs: Runs) -> None:
    code, table = cli(runs, "lineage", "--input", "s3://raw-data/sales/day.csv")
    assert code == 0 and f"run {runs.upload.run_id}" in table and "read_upload" in table, table
    assert runs.first.run_id not in table
    code, said = cli(runs, "lineage", "--input", "s3://elsewhere/sales/day.csv")
    assert code == 1 and "no step of the newest 50 runs" in said, said


def test_input_that_nothing_used_exits_1_and_a_bad_one_2(runs: Runs) -> None:
    code, said = cli(runs, "lineage", "--input", "sha256:" + "0" * 64)
    assert code == 1 and "read sha256:0000" in said and "--limit" in said, said
    code, said = cli(runs, "lineage", "--input", "abc")
    assert code == 2 and "not a content hash" in said, said
    code, said = cli(runs, "lineage", runs.first.run_id, "--input", "abc12345")
    assert code == 2 and "not both" in said, said
    code, said = cli(runs, "lineage")
    assert code == 2 and "give a RUN, or --input" in said, said
    code, said = cli(runs, "lineage", "--input", "abc12345", "--format", "mermaid")
    assert code == 2 and "draws one run" in said, said


def test_openlineage_events_name_jobs_datasets_and_the_parent_run(runs: Runs) -> None:
    record = runs.first
    code, printed = cli(runs, "lineage", record.run_id, "--format", "openlineage")
    assert code == 0, printed
    events = [json.loads(line) for line in printed.splitlines()]
    for event in events:  # what the spec (2-0-2) requires of a RunEvent, its Run, Job, datasets and facets
        assert {"eventTime", "producer", "schemaURL", "run", "job"} <= set(event)
        assert event["eventType"] in ("START", "COMPLETE", "FAIL", "ABORT")
        assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None
        assert uuid.UUID(event["run"]["runId"])
        assert event["schemaURL"].endswith("/2-0-2/OpenLineage.json#/$defs/RunEvent")
        assert event["job"]["namespace"] == "stepstone" and event["job"]["name"]
        datasets = event["inputs"] + event["outputs"]
        for dataset in datasets:
            assert dataset["namespace"].startswith("file://") and dataset["name"].startswith("runs/")
        for facets in [event["run"].get("facets", {}), *(d.get("facets", {}) for d in datasets)]:
            assert all({"_producer", "_schemaURL"} <= set(facet) for facet in facets.values())
    names = [e["job"]["name"] for e in events]
    assert names[0] == names[-1] == "values_round_trip"
    assert set(names[1:-1]) == {f"values_round_trip.{s.state}" for s in record.steps.values()}
    parent = events[0]["run"]["runId"]
    assert all(e["run"]["facets"]["parent"]["run"]["runId"] == parent for e in events[1:-1])
    document = graph(runs, record)
    fit = next(e for e in events if e["job"]["name"] == "values_round_trip.fit_model" and e["eventType"] == "COMPLETE")
    assert made(document, "make_frame")["output"]["ref"]["key"] in {d["name"] for d in fit["inputs"]}
    pickle = made(document, "fit_model")["output"]["ref"]
    assert [(d["name"], d["facets"]["stepstone"]["contentHash"]) for d in fit["outputs"]] == [(pickle["key"],
                                                                                                pickle["hash"])]
    _, again = cli(runs, "lineage", record.run_id, "--format", "openlineage")
    assert [json.loads(line)["run"]["runId"] for line in again.splitlines()] == [e["run"]["runId"] for e in events]


def test_a_second_run_with_the_same_parameters_made_the_same_values(runs: Runs) -> None:
    first, second = graph(runs, runs.first), graph(runs, runs.second)
    for state in ("make_frame", "make_array", "fit_model", "summarize"):
        one, other = made(first, state), made(second, state)
        assert {p: v["ref"]["hash"] for p, v in one.items()} == {p: v["ref"]["hash"] for p, v in other.items()}
        assert {v["ref"]["key"] for v in one.values()}.isdisjoint(v["ref"]["key"] for v in other.values())
