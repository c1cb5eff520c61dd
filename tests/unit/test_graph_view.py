"""Pictures of a run: statuses -> node colours (Mermaid classes) and the terminal tree."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console

from compiler.graph import build_graph, progress, status_classes, step_statuses, to_mermaid
from compiler.graph.build import Graph
from compiler.graph.status import NOT_RUN, STATUS_STYLES, aggregate
from compiler.loader import load_workflows
from compiler.parse import parse_workflow
from stepstone.graph_view import graph_tree

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "golden"


def _graph(spec: str) -> Graph:
    return build_graph(parse_workflow(load_workflows(str(ROOT / "examples" / spec))[0]))


def _ids(graph: Graph) -> dict[str, str]:
    """Node label -> node id (labels that repeat keep their first node)."""
    ids: dict[str, str] = {}
    for node in graph.nodes.values():
        ids.setdefault(node.label, node.id)
    return ids


def _by_label(graph: Graph, classes: dict[str, str]) -> dict[str, str]:
    return {graph.nodes[node_id].label: name for node_id, name in classes.items()}


# --- statuses -> classes ----------------------------------------------------------------------------


def test_aggregate_a_fan_outs_items() -> None:
    assert aggregate(["succeeded", "failed", "running"]) == "failed"
    assert aggregate(["succeeded", "running", "succeeded"]) == "running"
    assert aggregate(["succeeded", "retrying"]) == "retrying"
    assert aggregate(["succeeded", "succeeded"]) == "succeeded"
    assert aggregate(["cached", "cached"]) == "cached"
    assert aggregate(["cached", "succeeded", "reused"]) == "succeeded"
    assert aggregate(["skipped", "succeeded"]) == "succeeded"
    assert aggregate([]) == NOT_RUN
    pairs = [("train_trial", "succeeded"), ("train_trial", "failed"), ("train_trial", "succeeded"),
             ("prepare_data", "cached"), ("score_segment", "succeeded"), ("score_segment", "running")]
    assert step_statuses(pairs) == {"train_trial": "failed", "prepare_data": "cached", "score_segment": "running"}


def test_a_caught_failure_colours_the_path_the_run_took() -> None:
    graph = _graph("etl_s3.py")
    statuses = {"download": "succeeded", "parse_csv": "failed", "quarantine": "succeeded"}
    colours = _by_label(graph, status_classes(graph, statuses))
    assert colours == {
        "etl_s3(bucket, key)": "succeeded",
        "download": "succeeded",
        "parse_csv": "failed",
        "clean_rows": "notrun",  # after the failure, in the try: never ran
        "quarantine": "succeeded",
        "return 'quarantined'": "succeeded",  # no record of its own: it follows quarantine
        "load_to_warehouse": "notrun",
        "summary.loaded_rows == 0?": "notrun",
        "raise EmptyFileError": "notrun",
        "summary.rejected_rows > 0?": "notrun",
        "report_rejects": "notrun",
        "return summary.table": "notrun",
    }


def test_the_runs_own_status_decides_branches_no_step_shows() -> None:
    graph = _graph("etl_s3.py")
    loaded = {"download": "succeeded", "parse_csv": "succeeded", "clean_rows": "succeeded",
              "load_to_warehouse": "succeeded"}
    # without the run's status nothing tells which way `loaded_rows == 0` went
    colours = _by_label(graph, status_classes(graph, loaded))
    assert colours["summary.loaded_rows == 0?"] == "succeeded"
    assert colours["raise EmptyFileError"] == colours["return summary.table"] == "notrun"
    # it succeeded: the raise was not taken, and no report_rejects record means its branch was not either
    colours = _by_label(graph, status_classes(graph, loaded, run_status="succeeded"))
    assert colours["raise EmptyFileError"] == "notrun"
    assert colours["summary.rejected_rows > 0?"] == "succeeded"
    assert colours["report_rejects"] == "notrun"
    assert colours["return summary.table"] == "succeeded"
    # it failed at the raise
    colours = _by_label(graph, status_classes(graph, loaded, run_status="failed",
                                              failed_state="raise EmptyFileError"))
    assert colours["raise EmptyFileError"] == "failed"
    assert colours["summary.rejected_rows > 0?"] == colours["return summary.table"] == "notrun"
    assert graph.workflow is not None
    found = progress(graph.workflow, loaded, run_status="failed", failed_state="raise EmptyFileError")
    assert found.taken["if summary.loaded_rows eq 0"] == 0 and not found.completed


def test_a_fan_out_is_coloured_by_all_its_items() -> None:
    graph = _graph("hpo_fanout.py")
    records = [("prepare_data", "succeeded"), ("make_grid", "cached")]
    records += [("train_trial", "succeeded")] * 3 + [("train_trial", "retrying"), ("train_trial", "running")]
    colours = _by_label(graph, status_classes(graph, records, run_status="running"))
    assert colours["prepare_data"] == "succeeded"
    assert colours["make_grid"] == "cached"
    assert colours["train_trial (GPU)"] == "running"  # retrying and running share yellow
    assert colours["pick_best"] == colours["summarize"] == "notrun"
    failed = [*records[:-2], ("train_trial", "failed"), ("train_trial", "succeeded")]
    colours = _by_label(graph, status_classes(graph, failed, run_status="failed", failed_state="train_trial"))
    assert colours["train_trial (GPU)"] == "failed"
    assert colours["return register_model(best verdict)"] == "notrun"


# --- Mermaid --------------------------------------------------------------------------------------


def test_mermaid_with_statuses_has_the_class_defs_and_each_coloured_node() -> None:
    graph = _graph("etl_s3.py")
    ids = _ids(graph)
    classes = status_classes(graph, {"download": "succeeded", "parse_csv": "failed", "quarantine": "cached"})
    text = to_mermaid(graph, classes=classes)
    lines = text.splitlines()
    for name in ("succeeded", "failed", "cached", "notrun"):
        assert f"  classDef {name} {STATUS_STYLES[name]}" in lines
    assert "  classDef running" not in text  # no state is running: no class for it
    assert f"  class {ids['download']} succeeded" in lines
    assert f"  class {ids['parse_csv']} failed" in lines
    assert f"  class {ids['quarantine']} cached" in lines
    assert f"  class {ids['clean_rows']} notrun" in lines
    assert {line.split()[1] for line in lines if line.startswith("  class ") and line.split()[2] in STATUS_STYLES} \
        == set(graph.nodes), "every node has a status class"
    # the status classes come after the shapes' (a returned node is green, not the return shape's colour)
    assert lines.index("  classDef succeeded " + STATUS_STYLES["succeeded"]) > lines.index(
        "  classDef return fill:#d1e7dd,stroke:#146c43")
    assert lines.index(f"  class {ids['return summary.table']} notrun") > lines.index(
        f"  class {ids['return summary.table']} return")


def test_mermaid_without_statuses_is_the_golden_one() -> None:
    graph = _graph("ml_training.py")
    golden = (GOLDEN / "ml_training.mmd").read_text(encoding="utf-8")
    assert to_mermaid(graph) == golden
    assert to_mermaid(graph, classes=None) == golden
    assert "succeeded" not in golden and "notrun" not in golden


def test_mermaid_escapes_what_would_break_a_label() -> None:
    graph = _graph("ml_training.py")
    node = next(iter(graph.nodes.values()))
    node.label = 'say "hi" <b>`now`</b>'
    line = to_mermaid(graph).splitlines()[1]
    assert line.endswith('(["say #quot;hi#quot; #lt;b#gt;#96;now#96;#lt;/b#gt;"])')


# --- the terminal tree -------------------------------------------------------------------------------


def _render(tree: object, width: int = 80) -> list[str]:
    console = Console(record=True, width=width, color_system=None)
    console.print(tree)
    return console.export_text().splitlines()


def _label(line: str) -> str:
    """A tree line without its guides and mark."""
    text = line.lstrip(" │├└─")
    return text[2:] if text[:2] in ("✓ ", "✗ ", "… ", "↻ ", "- ") else text


def _line(lines: list[str], text: str) -> str:
    """The one line whose label starts with ``text`` (then ends, or goes on with a space)."""
    found = [line for line in lines if _label(line) == text or _label(line).startswith(text + " ")]
    assert len(found) == 1, f"{text!r} on {len(found)} lines:\n" + "\n".join(lines)
    return found[0]


def test_the_tree_of_a_run_marks_each_step_once() -> None:
    graph = _graph("etl_s3.py")
    tree = graph_tree(graph, [("download", "succeeded"), ("parse_csv", "failed"), ("quarantine", "succeeded")],
                      run_status="succeeded")
    lines = _render(tree)
    assert lines[0] == "etl_s3(bucket, key)"
    for step in ("download", "parse_csv", "clean_rows", "quarantine", "load_to_warehouse", "report_rejects"):
        _line(lines, step)
    assert "✓ download" in _line(lines, "download")
    assert "✗ parse_csv" in _line(lines, "parse_csv")
    assert "- clean_rows" in _line(lines, "clean_rows")
    assert "✓ try (failed, caught)" in _line(lines, "try")
    assert "✓ except MalformedFileError" in _line(lines, "except MalformedFileError")
    assert "✓ quarantine" in _line(lines, "quarantine")
    assert "✓ return 'quarantined'" in _line(lines, "return 'quarantined'")
    assert "- if summary.loaded_rows == 0" in _line(lines, "if summary.loaded_rows == 0")
    assert "- raise EmptyFileError" in _line(lines, "raise EmptyFileError")
    # the handler is inside the try, its steps inside the handler
    handler = _line(lines, "except MalformedFileError")
    assert lines.index(_line(lines, "quarantine")) > lines.index(handler) > lines.index(_line(lines, "clean_rows"))
    assert _line(lines, "quarantine").index("quarantine") > handler.index("except")
    assert all(cell_len(line) <= 80 for line in lines)


def test_the_tree_of_a_workflow_groups_what_runs_in_parallel_and_says_what_waits() -> None:
    lines = _render(graph_tree(_graph("ml_training.py")))
    text = "\n".join(lines)
    assert "✓" not in text and "✗" not in text  # no run: no marks
    parallel = lines.index(_line(lines, "in parallel"))
    assert "fetch_embedding" in lines[parallel + 1] and "build_dataset" in lines[parallel + 2]
    assert lines[parallel + 1].index("fetch_embedding") > lines[parallel].index("in parallel")
    assert _line(lines, "check_data_quality").endswith("check_data_quality  after: build_dataset")
    assert _line(lines, "if not quality.passed").endswith("after: fetch_embedding, check_data_quality")
    assert "after" not in _line(lines, "train_model (GPU)")  # it follows the line above
    # each condition: a yes branch with its steps, a no branch that carries on
    assert sum(1 for line in lines if line.strip(" │├└─") == "yes") == 2
    assert sum(1 for line in lines if line.strip(" │├└─") == "no: carry on") == 2
    yes = lines.index(next(line for line in lines if line.strip(" │├└─") == "yes"))
    assert "notify_data_team" in lines[yes + 1] and "return 'rejected-data'" in lines[yes + 2]
    assert all(cell_len(line) <= 80 for line in lines)


def test_the_tree_of_a_fan_out_run_fits_narrow_terminals() -> None:
    graph = _graph("hpo_fanout.py")
    records = [(s, "succeeded") for s in ("prepare_data", "make_grid", "pick_best", "summarize", "register_model")]
    records += [("train_trial", "succeeded")] * 4 + [("score_segment", "cached")] * 3
    for width in (80, 50):
        lines = _render(graph_tree(graph, records, run_status="succeeded"), width)
        assert all(cell_len(line) <= width for line in lines)
        assert "✓ train_trial (GPU)" in _line(lines, "train_trial (GPU)")
        assert "✓ score_segment (cached)" in _line(lines, "score_segment")
        assert "✓ no: carry on" in _line(lines, "no: carry on")
        assert "- yes" in _line(lines, "yes")
    fan_out = _line(_render(graph_tree(graph, records, run_status="succeeded")), "map train_trial over trials")
    assert fan_out.lstrip("├└─ ").startswith("✓ map train_trial over trials (inline map, at most 16)")
    narrow = _render(graph_tree(graph, records, run_status="succeeded"), 50)
    assert _line(narrow, "map train_trial over trials").endswith("…")  # too long for 50 columns: cut, not wrapped


def test_the_tree_needs_a_graph_built_from_a_workflow() -> None:
    with pytest.raises(ValueError, match="build_graph"):
        graph_tree(Graph(title="bare"))
