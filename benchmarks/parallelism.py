"""Parallelism kept: how long the compiled state machine takes, against the DAG's own bound.

For random DAG workflows (:mod:`benchmarks.dags`: series-parallel ones, built by series and
parallel composition, and general ones, from random data flow) and random step durations
(seeded, whole seconds from 1 to 100), three numbers per DAG:

- the *critical path*: the longest chain of dependent steps, which no schedule can beat
  (:func:`compiler.seriesparallel.critical_path`);
- the compiled state machine's *makespan*, computed from the ASL alone: a Task takes its
  call's duration, states in sequence add up, a Parallel takes its longest branch,
  Pass and Succeed take nothing. Each Task is traced back to its call through the IR (the
  state's name -> the call's source line -> the call);
- the *naive* makespan: the DAG run level by level (a call's level is the longest chain of
  calls before it), each level as long as its longest call, one level after another.

The figures are makespan / critical path: 1.00 means no parallelism was lost. The naive
level-by-level schedule is the baseline because it is what one gets by turning a DAG into
Step Functions without thought (a Parallel state per level, in sequence): it also keeps every
dependency, and it is the layout a compiler that did no better would produce. The compiler
never sees the durations (it lays out every block as if each step took 1); both schedules
are judged under the same durations.

Step Functions expresses series-parallel graphs only, so a series-parallel DAG must come out
at exactly 1.00; a general DAG needs orderings it did not have, and the goal is a mean of at
most 1.05.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from compiler import compile_workflow
from compiler.ir import Block, StepCall
from compiler.plan import blocks_of
from compiler.seriesparallel import critical_path, decompose

from .core import Context, Figure
from .dags import Dag, general_dag, load, module_token, series_parallel_dag, unload

__all__ = ["asl_makespan", "level_makespan", "run"]

BENCHMARK = "parallelism"
SP_GOAL = "== 1.00"
GENERAL_GOAL = "mean <= 1.05"


def asl_makespan(states: Mapping[str, Any], start: str, duration: Callable[[str], float]) -> float:
    """How long the states from ``start`` take: ``duration(name)`` for a Task, the longest
    branch for a Parallel, nothing for Pass and Succeed and the input checks (a Choice whose
    rules all fail the run: a valid input takes its Default); a sequence adds up."""
    total = 0.0
    name = start
    while True:
        state = states[name]
        kind = state["Type"]
        if kind == "Task":
            total += duration(name)
        elif kind == "Parallel":
            total += max(asl_makespan(b["States"], b["StartAt"], duration) for b in state["Branches"])
        elif kind == "Choice" and all(states[rule["Next"]]["Type"] == "Fail" for rule in state["Choices"]):
            name = state["Default"]
            continue
        elif kind not in ("Pass", "Succeed"):
            raise ValueError(f"state {name!r} is a {kind}: these DAG workflows have no conditions or fan-outs")
        if state.get("End") or kind == "Succeed":
            return total
        name = state["Next"]


def level_makespan(n: int, edges: Sequence[tuple[int, int]], weights: Sequence[float]) -> float:
    """The DAG run level by level: each level as long as its longest call, levels in sequence."""
    preds: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        preds[b].append(a)
    level = [0] * n
    for v in range(n):  # calls are numbered in a topological order (each uses earlier results)
        level[v] = max((level[p] + 1 for p in preds[v]), default=0)
    longest: dict[int, float] = {}
    for v in range(n):
        longest[level[v]] = max(longest.get(level[v], 0.0), weights[v])
    return sum(longest.values())


def _calls_by_state(body: Block) -> dict[str, int]:
    """State name -> source line, for every step call of the workflow."""
    found: dict[str, int] = {}
    stack = [body]
    while stack:
        block = stack.pop()
        for unit in block.units:
            if isinstance(unit.node, StepCall):
                found[unit.node.name] = unit.node.location.line
            stack.extend(blocks_of(unit.node))
    return found


def measure(dag: Dag, durations: Sequence[float], workflow: Any) -> tuple[float, float, float]:
    """(compiled makespan, critical path, naive makespan) of ``dag`` under ``durations``."""
    compiled = compile_workflow(workflow)
    lines = _calls_by_state(compiled.workflow.body)
    index = {state: dag.lines[line] for state, line in lines.items()}
    if sorted(index.values()) != list(range(dag.n)):
        raise AssertionError(f"{dag.name}: the compiled Tasks are not the DAG's {dag.n} calls")
    definition = compiled.definition
    span = asl_makespan(definition["States"], definition["StartAt"], lambda state: durations[index[state]])
    return span, critical_path(dag.n, dag.edges, durations), level_makespan(dag.n, dag.edges, durations)


def run(ctx: Context) -> list[Figure]:
    count = ctx.size(30, 3)
    low, high = ctx.size(20, 8), ctx.size(80, 16)
    folder = ctx.work / "parallelism"
    token = module_token(folder)
    rng = random.Random(ctx.seed)
    results: dict[str, list[tuple[float, float, float]]] = {"series-parallel": [], "general": []}
    informed: list[float] = []  # the layout algorithm told the real durations (not what the compiler does)
    not_sp = 0
    sizes: list[int] = []
    for kind, make in (("series-parallel", series_parallel_dag), ("general", general_dag)):
        for i in range(count):
            n = rng.randint(low, high)
            sizes.append(n)
            dag = make(rng.randrange(2**32), n, f"par_{kind[:2]}{i}_{token}")
            durations = [float(rng.randint(1, 100)) for _ in range(n)]
            try:
                results[kind].append(measure(dag, durations, load(dag, folder)))
            finally:
                unload(dag)
            if kind == "general":
                not_sp += bool(decompose(n, dag.edges).added)
                told = decompose(n, dag.edges, durations)
                informed.append(told.makespan / told.critical_path)
        ctx.say(f"parallelism: {count} {kind} DAGs compiled and measured")

    def ratios(kind: str, which: int) -> list[float]:
        return [r[which] / r[1] for r in results[kind]]

    sp, sp_naive = ratios("series-parallel", 0), ratios("series-parallel", 2)
    general, general_naive = ratios("general", 0), ratios("general", 2)
    setting = (f"{count} DAGs of {low}-{high} steps (seeded), step durations 1-100 s at random; "
               "makespan from the compiled ASL, critical path from the DAG")
    naive = "naive level-by-level schedule"
    return [
        Figure(BENCHMARK, "series-parallel DAGs: makespan / critical path (max)", max(sp), "ratio",
               baseline_name=f"{naive} (mean)", baseline=statistics.mean(sp_naive), goal=SP_GOAL,
               met=all(abs(r - 1.0) < 1e-9 for r in sp),
               note=f"{setting}; every one of them: min {min(sp):.4f}, max {max(sp):.4f}; "
                    f"naive level-by-level max {max(sp_naive):.2f}"),
        Figure(BENCHMARK, "general DAGs: makespan / critical path (mean)", statistics.mean(general), "ratio",
               baseline_name=f"{naive} (mean)", baseline=statistics.mean(general_naive), goal=GENERAL_GOAL,
               met=statistics.mean(general) <= 1.05,
               note=f"{setting}; {not_sp} of {count} are not series-parallel (orderings must be added), "
                    f"{sum(1 for r in general if r > 1 + 1e-9)} lose some parallelism. The compiler lays out "
                    "every block as if each step took 1 s; the same layout algorithm "
                    "(compiler.seriesparallel.decompose) told the real durations would give a mean of "
                    f"{statistics.mean(informed):.3f}"),
        Figure(BENCHMARK, "general DAGs: makespan / critical path (max)", max(general), "ratio",
               baseline_name=f"{naive} (max)", baseline=max(general_naive),
               note=f"the worst of the {count} general DAGs"),
    ]
