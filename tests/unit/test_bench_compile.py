"""The compile-scale and parallelism benchmarks, at smoke sizes: they run and say something.

No timing is asserted (the machines are shared and noisy); what is asserted are the
properties the compiler guarantees: a series-parallel DAG keeps all of its parallelism, no
layout beats the critical path, and the naive level-by-level schedule is never better.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import compile_scale, dags, parallelism
from benchmarks.core import Context, Figure
from compiler import compile_workflow
from compiler.seriesparallel import critical_path, decompose


def by_name(figures: list[Figure], start: str) -> Figure:
    (found,) = [f for f in figures if f.name.startswith(start)]
    return found


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bench")


def test_compile_scale_smoke(work: Path) -> None:
    figures = compile_scale.run(Context(smoke=True, work=work))
    assert all(f.benchmark == "compile" for f in figures)
    compiles = [f for f in figures if f.name.startswith("compile ") and "steps" in f.name and "vs" not in f.name
                and "growth" not in f.name]
    assert [f.name for f in compiles] == ["compile 10 steps", "compile 20 steps", "compile 40 steps"]
    for figure in compiles:
        assert figure.value is not None and figure.value > 0
        assert figure.baseline is not None and figure.baseline > 0
        assert "within Step Functions' quotas" in figure.note
    peers = [f for f in figures if f.name.startswith("compile vs the CDK")]
    assert len(peers) == 3
    for figure in peers:
        assert figure.value is not None and figure.baseline is not None and figure.baseline > 0
        assert figure.met is not None
        assert "renders our ASL exactly" in figure.note
    growth = by_name(figures, "compile time growth")
    assert growth.value is not None and growth.baseline is not None and growth.goal == "<= 6"
    largest = by_name(figures, "largest generated workflow")
    assert largest.value == 40 and largest.met is True


def test_parallelism_smoke(work: Path) -> None:
    figures = parallelism.run(Context(smoke=True, work=work))
    assert all(f.benchmark == "parallelism" for f in figures)
    sp = by_name(figures, "series-parallel DAGs")
    assert sp.value == 1.0 and sp.met is True  # exact: a series-parallel DAG loses nothing
    assert sp.baseline is not None and sp.baseline >= 1.0
    mean = by_name(figures, "general DAGs: makespan / critical path (mean)")
    worst = by_name(figures, "general DAGs: makespan / critical path (max)")
    for figure in (mean, worst):
        assert figure.value is not None and figure.value >= 1.0
        assert figure.baseline is not None and figure.baseline >= figure.value


def test_generated_dags_are_what_they_say(tmp_path: Path) -> None:
    sp = dags.series_parallel_dag(7, 30, name="bench_sp_check")
    assert sp.n == 30 and len(sp.lines) == 30
    assert decompose(sp.n, sp.edges).added == ()  # series-parallel by construction
    general = dags.general_dag(7, 30, name="bench_general_check")
    assert all(a < b for a, b in general.edges)
    assert dags.general_dag(7, 30, name="bench_general_check") == general  # seeded
    mixed = dags.mixed_workflow(7, 40, name="bench_mixed_check")
    assert mixed.n == 40 and "if " in mixed.source and " for x in items]" in mixed.source
    try:
        definition = compile_workflow(dags.load(mixed, tmp_path)).definition
    finally:
        dags.unload(mixed)
    assert compile_scale._count_states(definition["States"]) > 40


def test_makespan_of_asl_and_of_levels() -> None:
    # a -> c, b -> c, a -> d: levels {a, b}, {c, d}
    edges = [(0, 2), (1, 2), (0, 3)]
    weights = [5.0, 1.0, 2.0, 4.0]
    assert parallelism.level_makespan(4, edges, weights) == 5.0 + 4.0
    assert critical_path(4, edges, weights) == 9.0
    states = {
        "both": {"Type": "Parallel", "Next": "end", "Branches": [
            {"StartAt": "a", "States": {"a": {"Type": "Task", "Next": "d"}, "d": {"Type": "Task", "End": True}}},
            {"StartAt": "b", "States": {"b": {"Type": "Task", "End": True}}},
        ]},
        "end": {"Type": "Task", "Next": "done"},
        "done": {"Type": "Pass", "End": True},
    }
    durations = {"a": 5.0, "b": 1.0, "end": 2.0, "d": 4.0}
    assert parallelism.asl_makespan(states, "both", durations.__getitem__) == 9.0 + 2.0
