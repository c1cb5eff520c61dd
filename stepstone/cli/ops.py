"""Operating runs wherever they are (--target local | localstack | aws): trigger, runs, show,
logs, redrive, approve, reject. Each says the same things in the same shape on every target.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.markup import escape
from rich.prompt import Confirm
from rich.table import Table
from rich.text import Text

from compiler.protocol import redrive_run_id, run_prefix, trigger_text
from compiler.workflows import ParamsError, WorkflowDef

from ..console import EXIT_FAILED, EXIT_OK, err, fail, out
from ..local import find_run, list_runs, new_run_id
from ..local.executor import Event
from ..local.records import RunRecord
from ..local.view import STYLES, LiveView, _duration, run_summary
from . import main
from .common import load_or_exit, one_workflow
from .remote import home_option, remote, remote_errors, store, target_option

__all__ = ["find_workflow", "finish", "follow_remote", "manual"]

EXIT_INTERRUPTED = 130
STATUSES = ("running", "succeeded", "failed", "interrupted")


def manual() -> dict[str, Any]:
    """The trigger of a run a person starts."""
    return {"kind": "manual", "by": os.environ.get("USER") or "stepstone"}


# --- finding workflows and runs -----------------------------------------------------------


def workflow_files() -> list[str]:
    """The project's workflow files: $STEPSTONE_WORKFLOWS (globs, comma-separated), else the
    CDK app's ``stepstone:workflows`` in cdk.json, else examples/*.py."""
    patterns: list[str] = []
    if os.environ.get("STEPSTONE_WORKFLOWS"):
        patterns = [p.strip() for p in os.environ["STEPSTONE_WORKFLOWS"].split(",") if p.strip()]
    elif Path("cdk.json").exists():
        try:
            setting = json.loads(Path("cdk.json").read_text()).get("context", {}).get("stepstone:workflows")
        except ValueError:
            setting = None
        patterns = [setting] if isinstance(setting, str) else list(setting or [])
    return sorted({f for p in (patterns or ["examples/*.py"]) for f in glob.glob(p)})


def find_workflow(name: str) -> tuple[str, WorkflowDef[..., Any]]:
    """``FILE[:NAME]``, or the name of a workflow in the project's workflow files: (spec, workflow)."""
    from compiler.errors import CompileError
    from compiler.loader import LoadError, load_workflows

    if name.endswith(".py") or ".py:" in name or os.sep in name:
        workflow = one_workflow(name, load_or_exit(name))
        return f"{name.rsplit(':', 1)[0] if '.py:' in name else name}:{workflow.name}", workflow
    known: list[str] = []
    for file in workflow_files():
        try:
            workflows = load_workflows(file)
        except (LoadError, CompileError):
            continue
        for workflow in workflows:
            if name in (workflow.name, workflow.fn.__name__):
                return f"{file}:{workflow.name}", workflow
            known.append(workflow.name)
    fail(f"no workflow named {name!r} in {', '.join(workflow_files()) or 'the project'}",
         hint=("name one of: " + ", ".join(sorted(set(known)))) if known else "name its file: FILE.py[:NAME]")


def local_record(home: str | None, run_id: str) -> RunRecord:
    record = find_run(store(home), run_id)
    if record is None:
        fail(f"no run {run_id!r} in {store(home).root}", hint="list runs with `stepstone runs`")
    return record


def remote_arn(target: Any, run_id: str) -> str:
    from ..localstack.target import NoSuchRun

    with remote_errors(target.label):
        try:
            return str(target.find(run_id))
        except NoSuchRun:
            fail(f"no run {run_id!r} on {target.label}",
                 hint=f"list runs with `stepstone runs --target {target.where}`")


def _params(definition: WorkflowDef[..., Any], pairs: tuple[str, ...], input_file: Path | None) -> dict[str, Any]:
    from .local import _describe_params, _parse_params

    try:
        return definition.validate_params(_parse_params(pairs, input_file))
    except ParamsError as exc:
        fail(f"parameters of {definition.name!r} do not validate: " + "; ".join(exc.errors),
             hint=f"pass --param NAME=VALUE; the parameters are: {_describe_params(definition)}")


# --- following a run ----------------------------------------------------------------------


def _answerer(approval: bool | None, view: LiveView) -> Any:
    def answer(question: str, state: str) -> bool | None:
        if approval is not None:
            return approval
        if not sys.stdin.isatty():
            return None
        with view.paused():
            return Confirm.ask(f"[bold]approval[/bold] {escape(state)}: {escape(question)}", default=False)

    return answer


def finish(record: RunRecord, where: str, artifacts: str, as_json: bool) -> NoReturn:
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
    else:
        out.print(run_summary(record, artifacts))
        if record.status == "failed":
            flag = "" if where == "local" else f" --target {where}"
            out.print(f"[dim]see the error in full: stepstone show {record.run_id}{flag}; its logs: "
                      f"stepstone logs {record.run_id}{flag}; go on after a fix: "
                      f"stepstone redrive {record.run_id}{flag}[/dim]")
    sys.exit(EXIT_OK if record.status == "succeeded" else EXIT_FAILED)


def follow_remote(target: Any, arn: str, *, approval: bool | None, as_json: bool) -> NoReturn:
    """Follow a run in Step Functions to its end in the live view; exit 0 if it succeeded, else 1."""
    report = err if as_json else out
    run_id = arn.split(":")[7] if len(arn.split(":")) > 7 else arn.rsplit(":", 1)[-1]
    flag = f" --target {target.where}"
    view = LiveView(report, live=out.is_terminal and not as_json)

    def waiting(state: str, question: str) -> None:
        report.print(f"[bold yellow]waiting[/bold yellow] for approval of {escape(state)}: {escape(question)}\n"
                     f"  answer from another terminal: stepstone approve {run_id} {escape(state)}{flag} "
                     "(or stepstone reject ...)")

    try:
        with remote_errors(target.label), view.running():
            record = target.follow(arn, view, _answerer(approval, view), waiting)
    except KeyboardInterrupt:
        err.print(f"\n[bold]stopped following[/bold]: run {run_id} goes on in {target.label}; see it with "
                  f"`stepstone show {run_id}{flag}`")
        sys.exit(EXIT_INTERRUPTED)
    with remote_errors(target.label):
        bucket = target.bucket(arn_machine(arn))
    finish(record, target.where, f"s3://{bucket}/{run_prefix(record.workflow, record.run_id)}", as_json)


def arn_machine(arn: str) -> str:
    parts = arn.split(":")
    return ":".join([*parts[:5], "stateMachine", parts[6]])


def follow_local(home: str | None, workflow: str, run_id: str, *, approval: bool | None, as_json: bool,
                 resumed: int = 0, poll: float = 0.25) -> NoReturn:
    """Follow a local run another process runs (``stepstone trigger``), from its run record
    (for a resumed run: from when its record says it was resumed ``resumed`` times)."""
    from ..local.approvals import answer, pending

    artifacts = store(home)
    key = run_prefix(workflow, run_id) + "run.json"
    view = LiveView(err if as_json else out, live=out.is_terminal and not as_json)
    ask = _answerer(approval, view)
    seen: dict[str, tuple[str, int]] = {}
    asked: set[str] = set()
    record: RunRecord | None = None
    deadline = time.monotonic() + 30
    try:
        with view.running():
            while True:
                try:
                    record = RunRecord.model_validate_json(artifacts.read(key))
                    if record.resumed < resumed:
                        record = None
                        raise LookupError("not resumed yet")
                except Exception:  # not written (or resumed) yet, or being written
                    if record is None and time.monotonic() > deadline:
                        fail(f"run {run_id} did not start: see {Path(artifacts.root) / run_prefix(workflow, run_id)}"
                             "console.log")
                    time.sleep(poll)
                    continue
                if not seen:
                    view(Event("run", record))
                for step_key, step in record.steps.items():
                    now = (step.status, step.attempts)
                    if seen.get(step_key) != now:
                        seen[step_key] = now
                        view(Event("step", record, step))
                for state, question in pending(artifacts, record).items():
                    if state not in asked:
                        asked.add(state)
                        decision = ask(question, state)
                        if decision is None:
                            (err if as_json else out).print(
                                f"[bold yellow]waiting[/bold yellow] for approval of {escape(state)}: "
                                f"{escape(question)}\n  answer from another terminal: stepstone approve "
                                f"{run_id} {escape(state)} (or stepstone reject ...)")
                        else:
                            answer(artifacts, record, state, decision, approver=manual()["by"])
                if record.status != "running":
                    view(Event("run", record))
                    break
                time.sleep(poll)
    except KeyboardInterrupt:
        err.print(f"\n[bold]stopped following[/bold]: run {run_id} goes on; see it with `stepstone show {run_id}`")
        sys.exit(EXIT_INTERRUPTED)
    assert record is not None
    finish(record, "local", str(Path(artifacts.root) / run_prefix(workflow, run_id)), as_json)


def start_local(spec: str, workflow: str, run_id: str, home: str | None, *, params: dict[str, Any] | None,
                trigger: dict[str, Any], resume: bool = False) -> Path:
    """Run ``spec`` in a process of its own that outlives this command (what a trigger does);
    its console output goes to console.log in the run's folder."""
    artifacts = store(home)
    folder = Path(artifacts.root) / run_prefix(workflow, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "stepstone", "run", spec, "--home", str(artifacts.root), "--approvals-wait",
               "--trigger-json", json.dumps(trigger)]
    command += ["--resume", run_id] if resume else ["--run-id", run_id]
    for name, value in (params or {}).items():
        command += ["--param", f"{name}={json.dumps(value)}"]
    log = folder / "console.log"
    with open(log, "ab") as sink:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                         start_new_session=True, env={**os.environ, "STEPSTONE_DEBUG": "0", "TERM": "dumb"})
    return log


# --- stepstone trigger ----------------------------------------------------------------------


@main.command()
@click.argument("workflow", metavar="WORKFLOW")
@click.option("-p", "--param", "pairs", multiple=True, metavar="NAME=VALUE",
              help="A workflow parameter (repeat for several); the value is JSON when it parses as JSON.")
@click.option("-i", "--input", "input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON file of parameters (--param values override it).")
@click.option("-w", "--wait", is_flag=True, help="Follow the run to its end (exit 0 if it succeeds, 1 if not).")
@click.option("--approve/--reject", "approval", default=None, help="With --wait: answer approval gates so.")
@click.option("--json", "as_json", is_flag=True, help="Print the run (its id; with --wait its record) as JSON.")
@home_option
@target_option
def trigger(workflow: str, pairs: tuple[str, ...], input_file: Path | None, wait: bool, approval: bool | None,
            as_json: bool, home: str | None, target: str) -> None:
    """Start a run of a deployed workflow and print its id; --wait follows it.

    WORKFLOW is a workflow's name (looked up in the project's workflow files: cdk.json's
    stepstone:workflows, or $STEPSTONE_WORKFLOWS) or FILE[:NAME]. The parameters are
    checked here, so a run never starts with parameters that do not validate. On the local
    target the run goes on in a process of its own (as a deployed workflow would);
    on LocalStack and AWS it is deployed already (`stepstone run --target localstack` or
    `stepstone deploy`). Exit code 0 when it started (with --wait: when it succeeded).

    \b
    Examples:
      stepstone trigger ml_training -p min_auc=0.8
      stepstone trigger etl_s3 -p key=sales/2024-06-02.csv --wait
      stepstone trigger ml_training --target aws        (prints the console link)
    """
    spec, definition = find_workflow(workflow)
    params = _params(definition, pairs, input_file)
    run_id = new_run_id()
    if target == "local":
        log = start_local(spec, definition.name, run_id, home, params=params, trigger=manual())
        if not wait:
            _started(run_id, definition.name, "local", None, as_json, f"console: {log}")
            return
        _started(run_id, definition.name, "local", None, False, "", console=err if as_json else out)
        follow_local(home, definition.name, run_id, approval=approval, as_json=as_json)
    sfn = remote(target)
    from ..localstack.target import NoSuchRun

    with remote_errors(sfn.label):
        try:
            machine = sfn.state_machine(definition.name)
        except NoSuchRun:
            how = "`stepstone run FILE --target localstack`" if target == "localstack" else "`stepstone deploy`"
            fail(f"{definition.name} is not deployed on {sfn.label}", hint=f"deploy it first: {how}")
        arn = sfn.start(machine, run_id, params, manual())
    if not wait:
        _started(run_id, definition.name, target, sfn.console_url(arn), as_json, "")
        return
    _started(run_id, definition.name, target, sfn.console_url(arn), False, "", console=err if as_json else out)
    follow_remote(sfn, arn, approval=approval, as_json=as_json)


def _started(run_id: str, workflow: str, where: str, url: str | None, as_json: bool, note: str,
             console: Any = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"run": run_id, "workflow": workflow, "target": where, "console": url}) + "\n")
        return
    flag = "" if where == "local" else f" --target {where}"
    (console or out).print(f"started run [bold]{run_id}[/bold] of {escape(workflow)} ({where})")
    if url:
        (console or out).print(f"  console: {escape(url)}")
    if console is None:
        out.print(f"[dim]  watch it: stepstone show {run_id}{flag}   logs: stepstone logs {run_id}{flag}"
                  + (f"\n  {escape(note)}" if note else "") + "[/dim]")


# --- stepstone runs -------------------------------------------------------------------------


def _since(text: str | None) -> datetime | None:
    """``30m``, ``2h``, ``7d`` ago, or a date/time (``2026-11-20``, ``2026-11-20T08:00``, UTC)."""
    if not text:
        return None
    units = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
    if text[:-1].isdigit() and text[-1] in units:
        return datetime.now(UTC) - timedelta(**{units[text[-1]]: int(text[:-1])})
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
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1, 0, 0))
    # 80 columns: the id (a unique prefix is enough to name a run), then what always fits
    table.add_column("run", no_wrap=True, min_width=20, max_width=20, overflow="ellipsis")
    table.add_column("workflow", no_wrap=True, min_width=8, max_width=14, overflow="ellipsis")
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("started", no_wrap=True, min_width=11)
    table.add_column("time", no_wrap=True, justify="right", min_width=6)
    table.add_column("trigger", no_wrap=True, overflow="ellipsis",
                     max_width=max(8, out.width - (20 + 14 + 9 + 11 + 6 + 5)))
    for row in rows:
        when = row["started"][5:16].replace("T", " ") if row["started"] else ""
        table.add_row(row["run"], row["workflow"], Text(row["status"], style=STYLES.get(row["status"], "")),
                      when, _duration(row["duration_ms"]), row["trigger"])
    out.print(table)


def _remote_runs(sfn: Any, workflow: str | None, status: str | None, after: datetime | None,
                 limit: int) -> list[dict[str, Any]]:
    from compiler.protocol import split_input

    from ..localstack.history import STATUS

    rows: list[dict[str, Any]] = []
    with remote_errors(sfn.label):
        machines = {str(m["stateMachineArn"]): sfn.workflow_of(m) for m in sfn.state_machines()}
        for execution in sfn.executions():
            name = machines.get(str(execution["stateMachineArn"]), "")
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
    if target == "local":
        record = local_record(home, run_id)
        location = str(Path(store(home).root) / run_prefix(record.workflow, record.run_id))
    else:
        sfn = remote(target)
        arn = remote_arn(sfn, run_id)
        with remote_errors(sfn.label):
            record = sfn.record(arn)
            location = f"s3://{sfn.bucket(arn_machine(arn))}/{run_prefix(record.workflow, record.run_id)}"
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
        failed_logs = {k: lines for k, _, lines in _logs(record.run_id, None, home, target)
                       if record.steps.get(k) is not None and record.steps[k].status == "failed"}
    print_run(record, location, graph, failed_logs)
    if mermaid_file is not None:
        out.print(f"[dim]graph (Mermaid): {escape(str(mermaid_file))}[/dim]")


def _graph(record: RunRecord) -> Any:
    """The workflow's graph (from its file), or None when the file is not here."""
    from compiler.errors import CompileError
    from compiler.graph import build_graph
    from compiler.loader import LoadError, import_ref
    from compiler.parse import parse_workflow

    definition = None
    if record.file and Path(record.file).exists():
        from compiler.loader import load_workflows

        try:
            definition = next((w for w in load_workflows(record.file) if w.name == record.workflow), None)
        except (LoadError, CompileError):
            definition = None
    if definition is None and record.ref:
        try:
            definition = import_ref(record.ref)
        except (ImportError, AttributeError, LoadError, CompileError, ValueError):
            definition = None
    if definition is None:
        for file in workflow_files():
            try:
                from compiler.loader import load_workflows

                definition = next((w for w in load_workflows(file) if w.name == record.workflow), None)
            except (LoadError, CompileError):
                continue
            if definition is not None:
                break
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
    found = _logs(run_id, step, home, target)
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


def _logs(run_id: str, step: str | None, home: str | None, target: str) -> list[tuple[str, int, tuple[str, ...]]]:
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


# --- stepstone redrive ----------------------------------------------------------------------


@main.command()
@click.argument("run_id")
@click.option("-w", "--wait", is_flag=True, help="Follow the run to its end (exit 0 if it succeeds, 1 if not).")
@click.option("--approve/--reject", "approval", default=None, help="With --wait: answer approval gates so.")
@click.option("--json", "as_json", is_flag=True, help="Print the run (with --wait its record) as JSON.")
@home_option
@target_option
def redrive(run_id: str, wait: bool, approval: bool | None, as_json: bool, home: str | None, target: str) -> None:
    """Go on with a failed run from where it failed, without running finished steps again.

    Local runs continue under the same id. On AWS, a Standard run is redriven by Step
    Functions (RedriveExecution: the same execution). LocalStack has no RedriveExecution
    (nor do Express runs): there a new run <id>_r1 starts with the same parameters and each
    finished step, same code on the same inputs, hands over its output instead of running.

    \b
    Examples:
      stepstone redrive 20261122-171512-3f9a --wait
      stepstone redrive 20261122-171512-3f9a --target localstack
    """
    if target == "local":
        record = local_record(home, run_id)
        if record.status in ("succeeded", "running"):
            fail(f"run {record.run_id} {'succeeded' if record.status == 'succeeded' else 'is running'}; only a "
                 "failed or interrupted run can be redriven", code=EXIT_FAILED)
        if record.parent:
            fail(f"run {record.run_id} is a nested run of {record.parent}; redrive that one")
        spec = f"{record.file}:{record.workflow}" if record.file else find_workflow(record.workflow)[0]
        log = start_local(spec, record.workflow, record.run_id, home, params=None, trigger={}, resume=True)
        if not wait:
            _started(record.run_id, record.workflow, "local", None, as_json, f"console: {log}")
            return
        follow_local(home, record.workflow, record.run_id, approval=approval, as_json=as_json,
                     resumed=record.resumed + 1)
    sfn = remote(target)
    arn = remote_arn(sfn, run_id)
    old = arn.split(":")[7]
    new_id = redrive_run_id(old)
    with remote_errors(sfn.label):
        while sfn.exists(new_id):
            new_id = redrive_run_id(new_id)
        went_on = sfn.redrive(arn, new_id)
    same = went_on == arn
    shown = old if same else new_id
    if not as_json or wait:
        (err if as_json else out).print(
            f"redriven run [bold]{old}[/bold]" + ("" if same else f" as run [bold]{new_id}[/bold] (finished steps "
                                                                  "reuse their outputs)"))
    if not wait:
        _started(shown, arn.split(":")[6], target, sfn.console_url(went_on), as_json, "")
        return
    follow_remote(sfn, went_on, approval=approval, as_json=as_json)


# --- stepstone approve / reject ----------------------------------------------------------------


def _answer(run_id: str, step: str | None, approved: bool, comment: str, home: str | None, target: str,
            as_json: bool) -> None:
    user = os.environ.get("USER") or "stepstone"
    if target == "local":
        from ..local.approvals import answer, pending

        record = local_record(home, run_id)
        waiting = pending(store(home), record)
        full_id = record.run_id
        flag = ""
    else:
        sfn = remote(target)
        arn = remote_arn(sfn, run_id)
        with remote_errors(sfn.label):
            waiting = dict(sfn.pending_approvals(arn))
        full_id = arn.split(":")[7]
        flag = f" --target {target}"
    if not waiting:
        fail(f"run {full_id} has no approval waiting for an answer",
             hint=f"see the run: stepstone show {full_id}{flag}", code=EXIT_FAILED)
    if step is None:
        if len(waiting) > 1:
            fail(f"run {full_id} waits at {len(waiting)} gates: {', '.join(sorted(waiting))}",
                 hint=f"name one: stepstone approve {full_id} {sorted(waiting)[0]}{flag}")
        step = next(iter(waiting))
    if step not in waiting:
        fail(f"{step!r} is not waiting for an answer in run {full_id}; waiting: {', '.join(sorted(waiting))}")
    if target == "local":
        answer(store(home), record, step, approved, approver=user, comment=comment)
    else:
        from ..localstack.target import NoSuchRun

        with remote_errors(sfn.label):
            try:
                sfn.approve(arn, step, approved, approver=user, comment=comment)
            except NoSuchRun:
                fail(f"the approval request of {step} is not in the artifact bucket yet", hint="try again in a moment")
    if as_json:
        sys.stdout.write(json.dumps({"run": full_id, "step": step, "approved": approved, "question": waiting[step],
                                     "approver": user, "comment": comment}) + "\n")
        return
    verdict = "[green]approved[/green]" if approved else "[red]rejected[/red]"
    out.print(f"{verdict} {escape(step)} of run {full_id}: {escape(waiting[step])}")


_ANSWER_HELP = """

    STEP is the gate's name as the run shows it; it may be left out when only one gate
    waits. Local runs started by `stepstone run` ask on the terminal (or take
    --approve/--reject); those started by `stepstone trigger` wait for this command. On
    LocalStack and AWS it sends the gate's task token (SendTaskSuccess with the answer).
    Exit code 0 when answered, 1 when nothing waits.
"""


@main.command()
@click.argument("run_id")
@click.argument("step", required=False)
@click.option("--reject", is_flag=True, help="Reject instead (the same as `stepstone reject`).")
@click.option("-m", "--comment", default="", help="A note kept with the answer.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer given as JSON.")
@home_option
@target_option
def approve(run_id: str, step: str | None, reject: bool, comment: str, as_json: bool, home: str | None,
            target: str) -> None:
    _answer(run_id, step, not reject, comment, home, target, as_json)


@main.command()
@click.argument("run_id")
@click.argument("step", required=False)
@click.option("-m", "--comment", default="", help="Why: kept with the answer.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer given as JSON.")
@home_option
@target_option
def reject(run_id: str, step: str | None, comment: str, as_json: bool, home: str | None, target: str) -> None:
    _answer(run_id, step, False, comment, home, target, as_json)


approve.help = "Approve a run's approval gate (the workflow reads the answer and goes on)." + _ANSWER_HELP + """
    \b
    Examples:
      stepstone approve 20261122-171512-3f9a approve_release
      stepstone approve 20261122-171512-3f9a --target localstack -m "AUC checked"
"""
reject.help = "Reject a run's approval gate (the workflow reads the answer and decides)." + _ANSWER_HELP + """
    \b
    Example:
      stepstone reject 20261122-171512-3f9a approve_release -m "AUC too close to the line"
"""
