"""Random workflow files, for tests and benchmarks that need many different workflows.

``workflow_source(seed, size)`` writes the source of a module with one ``@workflow`` of
about ``size`` step calls wired by random data flow, with conditions (some merging a
variable from both branches), inline and distributed fan-outs, ``try/except`` failure
paths, retries, a nested Batch step and ``after=`` orderings. The same seed always gives
the same file.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from compiler import CompiledWorkflow, CompileError, compile_workflow
from compiler.loader import load_workflows

HEADER = '''"""Generated workflow (seed {seed}, {size} calls)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from stepstone import Batch, Retry, step, workflow


class Params(BaseModel):
    threshold: float = 0.5
    label: str = "a"
    grid: Annotated[list[int], Field(max_length=6)] = [1, 2, 3]
    many: list[int] = [1, 2]


class Out(BaseModel):
    score: float = 0.0
    ok: bool = True
    name: str = "x"


class Flaky(Exception):
    pass


@step
def start(p: Params) -> Out:
    return Out(score=p.threshold)


@step(retry=Retry(attempts=3, interval=1, backoff=2.0, jitter=True, on=[Flaky]))
def one(a: Out) -> Out:
    return Out(score=a.score + 1)


@step(retry=2)
def two(a: Out, b: Out) -> Out:
    return Out(score=a.score + b.score)


@step
def three(a: Out, b: Out, c: Out) -> Out:
    return Out(score=a.score + b.score + c.score)


@step
def leaf(x: int, a: Out) -> Out:
    return Out(score=x + a.score)


@step
def collect(xs: list[Out]) -> Out:
    return Out(score=sum(x.score for x in xs))


@step(compute=Batch(gpus=1, vcpus=4, memory=8192), timeout=3600)
def gpu(a: Out) -> Out:
    return Out(score=a.score * 2)


'''


def workflow_source(seed: int, size: int) -> str:
    rng = random.Random(seed)
    lines = [HEADER.format(seed=seed, size=size), "@workflow", "def generated(params: Params) -> Out:",
             "    v0 = start(params)"]
    names = ["v0"]
    batch_results: set[str] = set()
    i = 1

    def pick(k: int) -> list[str]:
        pool = names[-8:] if rng.random() < 0.8 else names
        return [rng.choice(pool) for _ in range(k)]

    while i < size:
        kind = rng.random()
        target = f"v{i}"
        if kind < 0.45:
            k = rng.choice([1, 1, 2, 2, 3])
            args = pick(k)
            fn = {1: "one", 2: "two", 3: "three"}[k]
            after = ""
            if rng.random() < 0.1 and len(names) > 2:
                after = f", after=[{rng.choice(names)}]"
            lines.append(f"    {target} = {fn}({', '.join(args)}{after})")
        elif kind < 0.55:
            (arg,) = pick(1)
            lines.append(f"    {target} = gpu({arg})")
            batch_results.add(target)
        elif kind < 0.70:
            testable = [n for n in names if n not in batch_results] or ["v0"]
            cond_var = rng.choice(testable[-6:])
            test = rng.choice([f"{cond_var}.ok", f"{cond_var}.score > params.threshold",
                               f"{cond_var}.name in ('a', 'b')", f"not {cond_var}.ok and {cond_var}.score <= 3"])
            a, b = pick(2)
            if rng.random() < 0.7:
                lines.append(f"    if {test}:")
                lines.append(f"        {target} = one({a})")
                lines.append("    else:")
                lines.append(f"        {target} = two({a}, {b})")
            else:  # assigned before, changed on one path only: the other path keeps it
                lines.append(f"    {target} = one({a})")
                lines.append(f"    if {test}:")
                lines.append(f"        {target} = one({b})")
        elif kind < 0.82:
            (arg,) = pick(1)
            source = "params.grid" if rng.random() < 0.75 else "params.many"
            lines.append(f"    {target}_all = [leaf(x, {arg}) for x in {source}]")
            lines.append(f"    {target} = collect({target}_all)")
        elif kind < 0.92:
            a, b = pick(2)
            lines.append("    try:")
            lines.append(f"        {target} = one({a})")
            lines.append("    except Flaky:")
            lines.append(f"        {target} = one({b})")
        else:
            (arg,) = pick(1)
            lines.append(f"    {target}_each = []")
            lines.append("    for x in params.grid:")
            lines.append(f"        {target}_each.append(leaf(x, {arg}))")
            lines.append(f"    {target} = collect({target}_each)")
        names.append(target)
        i += 1
    lines.append(f"    return {names[-1]}")
    return "\n".join(lines) + "\n"


def compiled_workflows(folder: Path, seeds: Iterable[int], size: Callable[[int], int],
                       prefix: str = "generated") -> Iterator[tuple[int, Any, CompiledWorkflow]]:
    """(seed, workflow, compiled) for each seed's workflow, written to ``folder`` as
    ``<prefix>_<seed>.py`` (the prefix keeps module names apart between tests). A workflow
    too wide for one run's state is refused by the compiler (payload-limit), rightly: it is
    left out; any other refusal fails."""
    for seed in seeds:
        source = folder / f"{prefix}_{seed}.py"
        source.write_text(workflow_source(seed, size(seed)), encoding="utf-8")
        (definition,) = load_workflows(str(source))
        try:
            compiled = compile_workflow(definition)
        except CompileError as exc:
            assert exc.rule == "payload-limit", str(exc)
            continue
        yield seed, definition, compiled
