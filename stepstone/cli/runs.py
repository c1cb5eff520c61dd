"""Reading runs wherever they are: ``runs`` (with what started each), ``show`` (the graph
coloured by state, the steps, the failed step's error and logs) and ``logs``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from compiler.protocol import run_prefix

from ..console import fail, out
from ..project import lookup_workflow, workflow_files
from ..records import RunRecord
from ..stored import step_lineage
from ..view import STYLES, duration_text, shown
from . import main
from .targets import home_option, opened, target_errors, target_option

__all__ = ["logs", "print_run", "runs", "show"]

STATUSES = ("running", "succeeded", "failed", "interrupted")


def _since(text: str | None) -> datetime | None:
    """``30m``, ``2h``, ``7d`` ago, or a date/time (``2026-11-20``, ``2026-11-20T08:00``, UTC)."""
    if not text:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text[:-1].isascii() and text[:-1].isdigit() and text[-1] in units:
        try:
            return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
        except OverflowError:  # further back than dates go: every run
            return datetime.min.replace(tzinfo=UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        fail(f"--since {text!r} is neither a duration nor a date", hint="write 30m, 2h, 7d or 2026-11-20")
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _row(run_id: str, workflow: str, status: str, started: datetime | None, ms: float | None,
         trigger: str) -> dict[str, Any]:
    return {"run": run_id, "workflow": workflow, "status": status,
            "started": started.isoformat(timespec="seconds") if started else None, "duration_ms": ms,
            "trigger": trigger}


@main.command()
@click.argument("workflow", required=False)
@click.option("--status", type=click.Choice(STATUSES), help="Only runs with this status.")
@click.option("--since", metavar="WHEN", help="Only runs started since: 30m, 2h, 7d, or a date (2026-11-20).")
@click.option("-n", "--limit", default=20, show_default=True, help="At most this many (newest first).")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@home_option
@target_option
def runs(workflow: str | None, status: str | None, since: str | None, limit: int, as_json: bool,
         home: str | None, target: str) -> None:
    """List runs, newest first: id, workflow, status, start, duration, what started it.

    \b
    Examples:
      stepstone runs
      stepstone runs ml_training --status failed --since 7d
      stepstone runs --target localstack --json
    """
    after = _since(since)
    where = opened(target, home)
    with target_errors(where):
        rows = [row.to_json() for row in where.runs(workflow, status, after, limit)]  # type: ignore[arg-type]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not rows:
        out.print(f"no runs{' of ' + escape(workflow) if workflow else ''} {where.runs_place}")
        return
    print_runs(rows)


def print_runs(rows: list[dict[str, Any]]) -> None:
    """The runs as a table that fits the terminal (80 columns): the id whole when it is
    stepstone's (a unique prefix is enough to name a run), today's start as a time, and
    what started it cut from the left, where a file's name is."""
    today = datetime.now(UTC).date().isoformat()
    starts = [(r["started"] or "")[11:16] if (r["started"] or "").startswith(today) else
              (r["started"] or "")[5:16].replace("T", " ") for r in rows]
    widths = [min(24, max(3, *(len(r["run"]) for r in rows))), min(14, max(8, *(len(r["workflow"]) for r in rows))),
              9, max(7, *(len(s) for s in starts)), 6]
    room = max(12, out.width - sum(widths) - len(widths))
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1, 0, 0))
    for (name, width), right in zip(zip(("run", "workflow", "status", "started", "time"), widths, strict=True),
                                    (False, False, False, False, True), strict=True):
        table.add_column(name, no_wrap=True, min_width=width, max_width=width, overflow="ellipsis",
                         justify="right" if right else "left")
    table.add_column("trigger", no_wrap=True, max_width=room)
    for row, when in zip(rows, starts, strict=True):
        trigger = row["trigger"] if len(row["trigger"]) <= room else "…" + row["trigger"][-(room - 1):]
        table.add_row(row["run"], row["workflow"], Text(row["status"], style=STYLES.get(row["status"], "")),
                      when, duration_text(row["duration_ms"]), trigger)
    out.print(table)


# --- stepstone show -------------------------------------------------------------------------


@main.command()
@click.argument("run_id")
@click.option("--mermaid", "mermaid_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the workflow graph, coloured by the run's states, as Mermaid to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
@home_option
@target_option
def show(run_id: str, mermaid_file: Path | None, as_json: bool, home: str | None, target: str) -> None:
    """Show one run: the graph coloured by state, each step, the failed step's error and logs.

    \b
    The per-step table gives status, tries, time, output size and where the output is;
    on LocalStack and AWS the head line has the run's real state transitions (what a
    Standard workflow is billed by) and their cost. A unique prefix of the id is enough.
    Examples:
      stepstone show 20261122-171512-3f9a
      stepstone show 20261122-171512-3f9a --target localstack --mermaid run.mmd
    """
    where = opened(target, home)
    with target_errors(where):
        record = where.record(run_id)
        location = where.artifacts(record)
        cached = cache_notes(record, where.value_store(record)) if not as_json else []
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
        return
    graph = _graph(record)
    if mermaid_file is not None:
        if graph is None:
            fail(f"the workflow {record.workflow!r} is not among the project's files, so it cannot be drawn",
                 hint="run the command where the workflow's file is (or set STEPSTONE_WORKFLOWS)")
        from compiler.graph import to_mermaid
        from compiler.graph.status import status_classes

        from ..graph_view import record_statuses

        classes = status_classes(graph, record_statuses(record), run_status=record.status,
                                 failed_state=record.failed_state)
        mermaid_file.write_text(to_mermaid(graph, classes=classes),
                                encoding="utf-8")
    failed_logs: dict[str, tuple[str, ...]] = {}
    if record.status == "failed":
        with target_errors(where):
            found = where.logs(record.run_id)
        failed_logs = {log.key: log.lines for log in found
                       if record.steps.get(log.key) is not None and record.steps[log.key].status == "failed"}
    print_run(record, location, graph, failed_logs, cached)
    if mermaid_file is not None:
        out.print(f"[dim]graph (Mermaid): {escape(str(mermaid_file))}[/dim]")


def _graph(record: RunRecord) -> Any:
    """The workflow's graph (from its file), or None when the file is not here."""
    from compiler.dsl.decorated import import_ref
    from compiler.dsl.errors import CompileError
    from compiler.errors import LoadError
    from compiler.graph import build_graph
    from compiler.parse import parse_workflow

    definition: Any = None
    found = lookup_workflow(record.workflow, [record.file] if record.file and Path(record.file).exists() else [])
    if found is None and record.ref:
        try:
            definition = import_ref(record.ref)
        except (ImportError, AttributeError, LoadError, CompileError, ValueError):
            definition = None
    if found is None and definition is None:
        found = lookup_workflow(record.workflow, workflow_files())
    if found is not None:
        definition = found[1]
    if definition is None:
        return None
    try:
        return build_graph(parse_workflow(definition))
    except CompileError:
        return None


# the frames of whatever ran the step, by package (not by file: a module that moves must not
# bring its frames back into every traceback shown): the runtime, the local target's engine,
# Powertools and the LocalStack plugin's host
_OUR_FRAMES = ("/lambdas/", "/stepstone/local/", "/aws_lambda_powertools/", "/stepstone_lambda_host/")


def _user_frames(trace: str) -> str:
    """A step's traceback without the step runner's own frames (they are the same every time)."""
    lines = trace.rstrip("\n").splitlines()
    kept: list[str] = []
    skipping = False
    for line in lines:
        if line.startswith('  File "'):
            skipping = any(marker in line for marker in _OUR_FRAMES)
        elif not line.startswith("    "):
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept)


def _own_lines(lines: tuple[str, ...]) -> list[str]:
    """What the step itself printed: without Lambda's START/END/REPORT lines and what follows
    the step runner's "step failed" line (the runtime's copy of the error shown above)."""
    own: list[str] = []
    for line in lines:
        if line.startswith(("START RequestId:", "END RequestId:", "REPORT RequestId:")):
            continue
        if line.startswith("{") and '"step failed"' in line:
            break
        own.append(line)
    return own


_CACHE_NOTES_UP_TO = 60  # steps whose lineage `show` reads for its cache lines (beyond: only the hits')


def cache_notes(record: RunRecord, store: Any) -> list[tuple[str, str]]:
    """Why each ``cache=True`` step of the run was, or was not, a cache hit (from the
    lineage of its last attempt: one read a step, so in a long run only the hits')."""
    notes: list[tuple[str, str]] = []
    many = len(record.steps) > _CACHE_NOTES_UP_TO
    for key, step in record.steps.items():
        if step.status not in ("succeeded", "cached") or (many and step.status != "cached"):
            continue
        lineage = step_lineage(record, step, store)
        if lineage is None:  # a step of an older run, or an attempt that left no record
            continue
        if lineage.cache is not None:
            made = lineage.cache.rsplit("/", 2)
            notes.append((key, "hit: the same code on the same inputs ran before "
                               f"(code {made[-2]}, inputs {made[-1].removesuffix('.json')[:12]})"))
        elif lineage.cache_miss is not None:
            notes.append((key, f"ran: {lineage.cache_miss}"))
    return notes


def print_run(record: RunRecord, location: str, graph: Any = None,
              failed_logs: dict[str, tuple[str, ...]] | None = None,
              cached: list[tuple[str, str]] | None = None) -> None:
    """The run's head line, trigger and parameters, graph, steps table, why cached steps
    were (not) reused, errors with tracebacks and log lines, and output."""
    from ..view import steps_table

    out.print(Text.assemble(("run ", "bold"), (record.run_id, "bold"), f"  {record.workflow}  ",
                            (record.status, STYLES.get(record.status, "")), f"  {record.where}",
                            f"  started {record.started[:19].replace('T', ' ')}",
                            f"  {duration_text(record.duration_ms)}"))
    details = [f"started by: {record.trigger}"]
    if record.resumed:
        details.append(f"resumed {record.resumed} time(s)")
    if record.transitions is not None:
        from compiler.cost import run_cost

        details.append(f"state transitions: {record.transitions} (${run_cost(record.transitions, 0.0):.6f} on "
                       "Standard)")
    out.print(Text("  ".join(details), style="dim"))
    out.print(Text(f"parameters: {json.dumps(record.params)[:500]}", style="dim"))
    if graph is not None:
        from ..graph_view import run_tree

        out.print(run_tree(graph, record))
    out.print(steps_table(record))
    if cached:
        out.print(Text("\ncache (cache=True steps):", style="dim"))
        for key, note in cached:
            out.print(Text(f"  {key}: {note}", style="dim"))
    stored = [(s.key, s.stored) for s in record.steps.values() if s.stored]
    if stored:
        out.print(Text(f"\noutputs kept in {location}", style="dim"))
        prefix = run_prefix(record.workflow, record.run_id)
        for key, ref in stored:
            out.print(Text(f"  {key}: {str(ref).removeprefix(prefix)}", style="dim"))
    failed = [s for s in record.steps.values() if s.status == "failed"]
    for step in failed:
        out.print(Text.assemble(("\n✗ ", "bold red"), (step.key, "bold"), f": {step.error}: {step.cause or ''}"))
        if step.traceback:
            out.print(Text(_user_frames(step.traceback).rstrip(), style="dim"))
        lines = _own_lines((failed_logs or {}).get(step.key, ()))
        if lines:
            out.print(Text(f"last log lines of {step.key}:", style="bold"))
            for line in lines[-12:]:
                out.print(Text("  " + line, style="dim"))
    if record.error and not failed:
        out.print(Text.assemble(("error: ", "bold red"), f"{record.failed_state}: {record.error}: {record.cause}"))
    if record.output is not None and record.status == "succeeded":
        value = record.output.get("value") if isinstance(record.output, dict) else record.output
        out.print(Text.assemble(("output: ", "bold"), json.dumps(shown(value))[:500]))


# --- stepstone logs -------------------------------------------------------------------------


@main.command()
@click.argument("run_id")
@click.argument("step", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the logs as JSON: one object per attempt.")
@home_option
@target_option
def logs(run_id: str, step: str | None, as_json: bool, home: str | None, target: str) -> None:
    """Print what a run's steps printed and logged, attempt by attempt.

    STEP (a state, a step's name, or a fan-out item such as for_p_in_grid/3/train) keeps
    one. Local runs keep each attempt's output beside its lineage (log.txt); on LocalStack
    and AWS it is read from the step functions' CloudWatch Logs.

    \b
    Examples:
      stepstone logs 20261122-171512-3f9a
      stepstone logs 20261122-171512-3f9a clean_rows --target localstack
    """
    where = opened(target, home)
    with target_errors(where):
        found = where.logs(run_id, step)
    if as_json:
        sys.stdout.write(json.dumps([{"step": log.key, "attempt": log.attempt, "lines": list(log.lines)}
                                     for log in found], indent=2) + "\n")
        return
    if not found:
        out.print(f"no log lines{' of ' + escape(step) if step else ''} in run {escape(run_id)}"
                  + where.logs_note)
        return
    for log in found:
        out.print(Text.assemble(("── ", "dim"), (log.key, "bold"), (f"  attempt {log.attempt + 1}", "dim")))
        for line in log.lines:
            out.print(line, markup=False, highlight=False)
