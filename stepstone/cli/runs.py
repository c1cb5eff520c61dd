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

from compiler.protocol import run_prefix, trigger_text

from ..console import fail, out
from ..local import list_runs
from ..local.records import RunRecord
from ..local.view import STYLES, _duration
from . import main
from .find import find_record, local_record, lookup_workflow, remote_arn, workflow_files
from .remote import home_option, remote, remote_errors, store, target_option

__all__ = ["logs", "print_run", "runs", "show", "step_logs"]

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
    rows: list[dict[str, Any]] = []
    if target == "local":
        for record in list_runs(store(home), workflow):
            started = datetime.fromisoformat(record.started)
            if (status and record.status != status) or (after and started < after) or record.parent:
                continue
            rows.append(_row(record.run_id, record.workflow, record.status, started, record.duration_ms,
                             record.trigger))
            if len(rows) >= limit:
                break
    else:
        rows = _remote_runs(remote(target), workflow, status, after, limit)
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not rows:
        where = f" in {store(home).root}" if target == "local" else f" on {target}"
        out.print(f"no runs{' of ' + escape(workflow) if workflow else ''}{where}")
        return
    print_runs(rows)


def print_runs(rows: list[dict[str, Any]]) -> None:
    """The runs as a table that fits the terminal (80 columns): the id whole when it is
    stepstone's (a unique prefix is enough to name a run), today's start as a time, and
    what started it cut from the left, where a file's name is."""
    today = datetime.now(UTC).date().isoformat()
    starts = [(r["started"] or "")[11:16] if (r["started"] or "").startswith(today) else
              (r["started"] or "")[5:16].replace("T", " ") for r in rows]
    widths = [min(20, max(3, *(len(r["run"]) for r in rows))), min(14, max(8, *(len(r["workflow"]) for r in rows))),
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
                      when, _duration(row["duration_ms"]), trigger)
    out.print(table)


def _remote_runs(sfn: Any, workflow: str | None, status: str | None, after: datetime | None,
                 limit: int) -> list[dict[str, Any]]:
    from compiler.protocol import split_input

    from ..localstack.history import STATUS

    rows: list[dict[str, Any]] = []
    with remote_errors(sfn.label):
        machines = sfn.state_machines()
        names = {str(m["stateMachineArn"]): str(m["workflow"]) for m in machines}
        for execution in sfn.executions(workflow, machines):
            name = names.get(str(execution["stateMachineArn"]), "")
            state = STATUS.get(execution["status"], "running")
            if (workflow and name != workflow) or (status and state != status) or (
                    after and execution["startDate"] < after):
                continue
            described = execution if "input" in execution else sfn.source(execution["executionArn"]).describe()
            _, started_by = split_input(json.loads(described.get("input") or "null"))
            stop = execution.get("stopDate")
            rows.append(_row(execution["name"], name, state, execution["startDate"],
                             (stop - execution["startDate"]).total_seconds() * 1000 if stop else None,
                             trigger_text(started_by)))
            if len(rows) >= limit:
                break
    return rows


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
    record, location = find_record(run_id, target, home)
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
        failed_logs = {k: lines for k, _, lines in step_logs(record.run_id, None, home, target)
                       if record.steps.get(k) is not None and record.steps[k].status == "failed"}
    print_run(record, location, graph, failed_logs)
    if mermaid_file is not None:
        out.print(f"[dim]graph (Mermaid): {escape(str(mermaid_file))}[/dim]")


def _graph(record: RunRecord) -> Any:
    """The workflow's graph (from its file), or None when the file is not here."""
    from compiler.dsl.decorated import import_ref
    from compiler.dsl.errors import CompileError
    from compiler.graph import build_graph
    from compiler.loader import LoadError
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


_OUR_FRAMES = ("/lambdas/runner.py", "/lambdas/step_runner.py", "/stepstone/local/executor.py",
               "/aws_lambda_powertools/", "/stepstone_lambda_host/")


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


def print_run(record: RunRecord, location: str, graph: Any = None,
              failed_logs: dict[str, tuple[str, ...]] | None = None) -> None:
    """The run's head line, trigger and parameters, graph, steps table, errors with
    tracebacks and log lines, and output."""
    from ..local.view import steps_table

    where = {"local": "local", "localstack": "LocalStack", "aws": "AWS"}.get(record.target, record.target)
    out.print(Text.assemble(("run ", "bold"), (record.run_id, "bold"), f"  {record.workflow}  ",
                            (record.status, STYLES.get(record.status, "")), f"  {where}",
                            f"  started {record.started[:19].replace('T', ' ')}",
                            f"  {_duration(record.duration_ms)}"))
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
        out.print(Text.assemble(("output: ", "bold"), json.dumps(value)[:500]))


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
    found = step_logs(run_id, step, home, target)
    if as_json:
        sys.stdout.write(json.dumps([{"step": k, "attempt": a, "lines": list(lines)} for k, a, lines in found],
                                    indent=2) + "\n")
        return
    if not found:
        out.print(f"no log lines{' of ' + escape(step) if step else ''} in run {escape(run_id)}"
                  + ("" if target == "local" else " (CloudWatch Logs may take a few seconds)"))
        return
    for key, attempt, lines in found:
        out.print(Text.assemble(("── ", "dim"), (key, "bold"), (f"  attempt {attempt + 1}", "dim")))
        for line in lines:
            out.print(line, markup=False, highlight=False)


def step_logs(run_id: str, step: str | None, home: str | None,
              target: str) -> list[tuple[str, int, tuple[str, ...]]]:
    if target != "local":
        sfn = remote(target)
        arn = remote_arn(sfn, run_id)
        with remote_errors(sfn.label):
            return [(s.key, s.attempt, s.lines) for s in sfn.logs(arn, step)]
    from ..local.logs import LOG_NAME

    record = local_record(home, run_id)
    artifacts = store(home)
    prefix = run_prefix(record.workflow, record.run_id)
    found: list[tuple[str, int, tuple[str, ...]]] = []
    for key in artifacts.keys(prefix):
        if not key.endswith("/" + LOG_NAME):
            continue
        step_key, _, attempt = key[len(prefix):-len(LOG_NAME) - 1].rpartition("/")
        if step and not (step in (step_key, step_key.rsplit("/", 1)[-1]) or step_key.startswith(step + "/")):
            continue
        number = int(attempt.removeprefix("attempt-")) if attempt.startswith("attempt-") else 0
        found.append((step_key, number, tuple(artifacts.read(key).decode("utf-8", "replace").splitlines())))
    return sorted(found, key=lambda item: (item[0], item[1]))
