"""``stepstone cost``: what a workflow costs a run and a month, before it is deployed."""

from __future__ import annotations

import json
import math
import re
import sys
import textwrap
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from compiler import CompileError
from compiler.cost import Assumptions, Estimate, Range, StepCost, compile_nested, estimate
from compiler.errors import CostError

from ..console import EXIT_COMPILE, fail, out, print_compile_error
from . import main
from .common import compile_or_exit, load_or_exit, one_workflow
from .targets import home_option, target_errors

WIDTH = 80
_UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|)\s*$")


def _seconds(text: str) -> float | None:
    match = _DURATION.match(text.lower())
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def _durations(pairs: tuple[str, ...]) -> dict[str, float]:
    durations: dict[str, float] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        seconds = _seconds(text) if sep else None
        if not name.strip() or seconds is None:
            fail(f"--duration {pair!r} is not STEP=SECONDS",
                 hint="write --duration train_model=5400 (or 90m, 1.5h); STEP is a step's or state's name")
        durations[name.strip()] = seconds
    return durations


def _items(values: tuple[str, ...]) -> tuple[int | None, dict[str, int]]:
    every: int | None = None
    by_map: dict[str, int] = {}
    for value in values:
        name, sep, count = value.rpartition("=")
        if not count.strip().isdigit() or (sep and not name.strip()):
            fail(f"--items {value!r} is not N or NAME=N",
                 hint="write --items 20 (every fan-out) or --items train_trial=6 (the fan-out running train_trial)")
        if sep:
            by_map[name.strip()] = int(count)
        else:
            every = int(count)
    return every, by_map


def _recorded(run_id: str, home: str | None, workflow: str) -> tuple[dict[str, dict[str, float]], str]:
    """Seconds an attempt of each state took in a recorded run (and in the runs it started)."""
    from ..local import list_runs
    from ..targets.local import LocalTarget

    local = LocalTarget(home)
    with target_errors(local):
        record = local.record(run_id)
    if record.workflow != workflow:
        fail(f"run {record.run_id} is of workflow {record.workflow}, not {workflow}",
             hint=f"list its runs with `stepstone runs --workflow {workflow}`")
    store = local.store
    recorded: dict[str, dict[str, float]] = {}
    records = [record, *(r for r in list_runs(store) if r.parent == record.run_id)]
    for each in records:
        samples: dict[str, list[float]] = {}
        for step in each.steps.values():
            if step.status in ("succeeded", "failed", "retrying") and step.attempts:
                samples.setdefault(step.state, []).append(step.duration_ms / 1000 / step.attempts)
        recorded.setdefault(each.workflow, {}).update({state: sum(s) / len(s) for state, s in samples.items()})
    return recorded, f"run {record.run_id}"


# --- formatting --------------------------------------------------------------------------------


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if value >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _usd(value: float) -> str:
    if value == 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    digits = max(2, 2 - math.floor(math.log10(value)))
    return f"${value:.{digits}f}"


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.3g} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


def _range(value: Range, factor: float = 1.0, fmt: Any = _number) -> str:
    low, high = fmt(value.low * factor), fmt(value.high * factor)
    return low if low == high else f"{low}–{high}"


def _wrap(text: str, bullet: str = "- ") -> str:
    return textwrap.fill(text, width=WIDTH - 2, initial_indent=bullet, subsequent_indent=" " * len(bullet),
                         break_on_hyphens=False, break_long_words=False)


def _all_steps(result: Estimate, prefix: str = "") -> list[tuple[str, StepCost]]:
    rows = [(prefix + s.state, s) for s in result.steps]
    for child in result.nested:
        rows.extend(_all_steps(child, f"{prefix}{child.workflow}/"))
    return rows


def _runs_text(runs: float) -> str:
    return f"{runs:,.0f}" if runs == int(runs) else f"{runs:,.2f}"


def print_estimate(result: Estimate) -> None:
    runs = result.runs_per_month
    kind = "an Express" if result.type == "express" else "a Standard"
    out.print(f"[bold]{escape(result.workflow)}[/bold]: estimated cost ({kind} workflow)")
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 2, 0, 0))
    table.add_column("")
    table.add_column("a run", justify="right")
    factors = [1.0]
    if runs is not None:
        table.add_column(f"a month ({_runs_text(runs)} runs)", justify="right")
        factors.append(runs)
    table.add_column("1,000 runs", justify="right")
    factors.append(1000.0)
    table.add_row("state transitions", *(_range(result.transitions, f) for f in factors))
    table.add_row("Lambda GB-seconds", *(_range(result.lambda_gb_seconds, f) for f in factors))
    if result.gpu_hours.high:
        table.add_row("Batch GPU-hours", *(_range(result.gpu_hours, f) for f in factors))
    if result.batch_hours != result.gpu_hours:
        table.add_row("Batch instance-hours", *(_range(result.batch_hours, f) for f in factors))
    table.add_row("Standard, $", *(_range(result.standard_usd, f, _usd) for f in factors))
    express = result.express_usd
    if express is None:
        table.add_row("Express, $", "not possible", *([""] * (len(factors) - 1)))
    else:
        table.add_row("Express, $", *(_range(express, f, _usd) for f in factors))
    table.add_row("run time", _range(result.seconds, 1.0, _span), *([""] * (len(factors) - 1)))
    out.print(table)

    steps = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 2, 0, 0))
    steps.add_column("step")
    steps.add_column("runs on")
    steps.add_column("seconds", justify="right")
    steps.add_column("from")
    for name, step in _all_steps(result):
        if step.compute == "batch":
            where = f"Batch {step.instance} ${step.usd_per_hour}/h"
        elif step.compute == "approval":
            where = f"approval Lambda {step.memory_mb:,} MB"
        else:
            where = f"Lambda {step.memory_mb:,} MB"
        steps.add_row(escape(name), where, _number(step.seconds), step.source + (", capped" if step.capped else ""))
    out.print()
    out.print(steps)

    notes: list[str] = []
    if result.express_blockers:
        more = len(result.express_blockers) - 1
        notes.append(f"Express is not possible: {result.express_blockers[0]}"
                     + (f" (and {more} more reason{'s' if more > 1 else ''}; --json lists them)" if more else ""))
    for expression, timezone, fires in result.schedules:
        notes.append(f"a month: {expression} ({timezone}) starts {_runs_text(fires)} runs in 30 days")
    if result.runs_per_month_option is not None:
        notes.append(f"a month: {_runs_text(result.runs_per_month_option)} more runs (--runs-per-month)")
    if result.triggers and result.runs_per_month_option is None:
        started = ", ".join(result.triggers)
        notes.append(f"runs started by {started} are not counted" + (" in a month" if runs is not None else "")
                     + ": add them with --runs-per-month N")
    elif runs is None:
        notes.append("no schedule: a month is not estimated; give --runs-per-month N")
    notes.extend(result.notes)
    out.print()
    out.print("[bold]assumptions[/bold]")
    for note in notes:
        out.print(escape(_wrap(note)))


@main.command()
@click.argument("spec", metavar="FILE[:NAME]")
@click.option("--duration", "durations", metavar="STEP=SECONDS", multiple=True,
              help="How long a step (or state) runs, e.g. train_model=5400 or 90m; repeatable. Default: 1 s a "
                   "Lambda step, 30 min a Batch step, or --from-run's.")
@click.option("--items", "items", metavar="N | NAME=N", multiple=True,
              help="Items of every fan-out (N) or of one (NAME=N: its state or a step it runs). Default: the "
                   "declared most, else 10; a literal list's length.")
@click.option("--runs-per-month", type=click.FloatRange(min=0), metavar="N",
              help="Runs a month started by triggers (S3 uploads, other workflows) or by hand, added to the "
                   "schedule's.")
@click.option("--from-run", "run_id", metavar="RUN_ID", help="Take step durations from a recorded local run.")
@home_option
@click.option("--json", "as_json", is_flag=True, help="Print the estimate as JSON.")
def cost(spec: str, durations: tuple[str, ...], items: tuple[str, ...], runs_per_month: float | None,
         run_id: str | None, home: str | None, as_json: bool) -> None:
    """Estimate what a workflow costs: a run, a month at its schedule, 1,000 runs.

    \b
    Counts, on each way through the compiled state machine (cheapest and costliest), the
    state transitions, Lambda GB-seconds and Batch GPU-hours, and prices them as a Standard
    and, where it can be one, an Express workflow (us-east-1 list prices; the date is shown).
    FILE:NAME picks one workflow when the file holds several.
    Examples:
      stepstone cost examples/ml_training.py
      stepstone cost examples/hpo_fanout.py --items 6 --duration train_trial=20m
      stepstone cost examples/etl_s3.py --runs-per-month 3000 --json
      stepstone cost examples/ml_training.py --from-run 20261122-181153-aaf3
    """
    given = _durations(durations)
    every, by_map = _items(items)
    workflow = one_workflow(spec, load_or_exit(spec))
    compiled = compile_or_exit(workflow)
    recorded: dict[str, dict[str, float]] = {}
    source = None
    if run_id:
        recorded, source = _recorded(run_id, home, compiled.name)
    try:
        nested = compile_nested(compiled)
        assumptions = Assumptions(durations=given, recorded=recorded, recorded_from=source, items=every,
                                  items_by_map=by_map, runs_per_month=runs_per_month)
        result = estimate(compiled, assumptions, nested=nested)
    except CompileError as exc:
        print_compile_error(exc)
        sys.exit(EXIT_COMPILE)
    except CostError as exc:
        fail(exc.message, hint=exc.hint)
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2) + "\n")
        return
    print_estimate(result)
