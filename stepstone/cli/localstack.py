"""LocalStack from the command line: ``stepstone localstack up|down|status|logs``, runs with
``--target localstack`` (the run, runs and show commands call in here), and ``approve``."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.prompt import Confirm
from rich.table import Table
from rich.text import Text

from ..console import EXIT_FAILED, EXIT_OK, err, fail, out
from ..local import new_run_id
from ..local.view import STYLES, LiveView, _duration, run_summary
from . import main

EXIT_INTERRUPTED = 130
UP_HINT = "start it with `stepstone localstack up`"


@contextmanager
def _aws_errors() -> Iterator[None]:
    """LocalStack going away mid-command is one line, not a traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ..localstack import LocalStackError

    try:
        yield
    except LocalStackError as exc:
        fail(str(exc), hint=UP_HINT)
    except (BotoCoreError, ClientError) as exc:
        fail(f"LocalStack: {exc}", hint=f"is LocalStack running? `stepstone localstack status`; else {UP_HINT}")


@contextmanager
def _progress(first: str) -> Iterator[Any]:
    """A spinner with the current step on a terminal; elsewhere (CI, pipes) a line per step taken."""
    if err.is_terminal:
        with err.status(escape(first)) as status:
            yield lambda line: status.update(escape(line))
        return
    yield lambda line: err.print(f"[dim]{escape(line)}[/dim]")


def _target() -> Any:
    from ..localstack.target import LocalStackTarget

    target = LocalStackTarget()
    with _aws_errors():
        target.check()
    return target


# --- stepstone localstack ... ------------------------------------------------------------


@main.group()
def localstack() -> None:
    """Run LocalStack here (no Docker needed): emulated AWS for `--target localstack`.

    \b
    Examples:
      stepstone localstack up          install (the first time) and start it
      stepstone run examples/ml_training.py --target localstack
      stepstone localstack down
    """


@localstack.command()
def up() -> None:
    """Install (the first time, about a minute) and start LocalStack on 127.0.0.1:4566.

    It runs in the background in its own virtual environment under .stepstone/localstack/
    ($STEPSTONE_LOCALSTACK_HOME), with a plugin that runs Lambda functions as processes of
    this machine under this Python. Exit code 0 once it answers; 2 if it cannot start.
    """
    from ..localstack import LocalStack, LocalStackError

    harness = LocalStack()
    before = harness.status()
    if before.running:
        whose = "" if before.ours else " (not started by stepstone: Lambda steps need stepstone's plugin)"
        out.print(f"LocalStack {before.version or ''} is already running on {harness.endpoint}{whose}")
        return
    clock = time.perf_counter()
    try:
        with _progress("starting LocalStack") as progress:
            now = harness.start(progress=progress)
    except LocalStackError as exc:
        fail(str(exc), hint="see `stepstone localstack status`; the log is in " + str(harness.log))
    problem = harness.executor_problem()
    if problem:
        harness.stop()
        fail(f"LocalStack started without stepstone's Lambda plugin: {problem}",
             hint=f"remove {harness.venv} and run `stepstone localstack up` again")
    out.print(f"[green]LocalStack {escape(now.version or '')} is up[/green] on {now.endpoint} "
              f"(pid {now.pid}, {time.perf_counter() - clock:.1f} s, {now.rss_mb or 0:.0f} MB)")
    out.print(f"[dim]  logs: {escape(str(harness.log))}\n  stop it with: stepstone localstack down[/dim]")


@localstack.command()
def down() -> None:
    """Stop the LocalStack that `stepstone localstack up` started (and its function processes)."""
    from ..localstack import LocalStack

    harness = LocalStack()
    clock = time.perf_counter()
    with _progress("stopping LocalStack (and its function processes)"):
        stopped = harness.stop()
    if stopped:
        out.print(f"LocalStack stopped ({time.perf_counter() - clock:.1f} s)")
    elif harness.health() is not None:
        fail(f"the LocalStack on {harness.endpoint} was not started by stepstone from here; stop it where it "
             "was started", code=EXIT_FAILED)
    else:
        out.print("LocalStack is not running")


@localstack.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status(as_json: bool) -> None:
    """Whether LocalStack runs, where, since when, and how much memory it uses.

    Exit code 0 when it is running, 1 when it is not.
    """
    from ..localstack import LocalStack

    harness = LocalStack()
    now = harness.status()
    if as_json:
        data = {"running": now.running, "endpoint": now.endpoint, "pid": now.pid, "ours": now.ours,
                "version": now.version, "rss_mb": now.rss_mb, "started": now.started,
                "log": str(now.log) if now.log else None, "installed": harness.installed()}
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif not now.running:
        out.print(f"LocalStack is not running on {now.endpoint}; {UP_HINT}")
    else:
        since = f", up {_duration((time.time() - now.started) * 1000)}" if now.started else ""
        memory = f", {now.rss_mb:.0f} MB" if now.rss_mb else ""
        owner = f"pid {now.pid}" if now.ours else "not started by stepstone"
        out.print(f"[green]LocalStack {escape(now.version or '')} is running[/green] on {now.endpoint} "
                  f"({owner}{since}{memory})")
        if now.log:
            out.print(f"[dim]  logs: {escape(str(now.log))}[/dim]")
    sys.exit(EXIT_OK if now.running else EXIT_FAILED)


@localstack.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("destination", metavar="s3://BUCKET/KEY")
def upload(file: Path, destination: str) -> None:
    """Put a file into a LocalStack bucket (made if missing), as data arriving would:
    a workflow whose s3_upload trigger matches the key starts a run.

    \b
    Example:
      stepstone localstack upload sales.csv s3://raw-data/sales/2024-06-02.csv
      stepstone runs --target localstack
    """
    from ..localstack.deploy import Deployer

    bucket, _, key = destination.removeprefix("s3://").partition("/")
    if not destination.startswith("s3://") or not bucket or not key or key.endswith("/"):
        fail(f"{destination!r} is not s3://BUCKET/KEY", hint="write the whole key: s3://raw-data/sales/day.csv")
    target = _target()
    with _aws_errors():
        Deployer(target.aws).bucket(bucket)
        target.aws.s3.put_object(Bucket=bucket, Key=key, Body=file.read_bytes())
    out.print(f"uploaded {escape(str(file))} to s3://{escape(bucket)}/{escape(key)} "
              f"({file.stat().st_size:,} bytes); runs it started: stepstone runs --target localstack")


@localstack.command()
@click.option("-n", "--lines", default=40, show_default=True, help="How many lines from the end.")
def logs(lines: int) -> None:
    """The end of LocalStack's own log (step logs: CloudWatch Logs, /aws/lambda/<function>)."""
    from ..localstack import LocalStack

    out.print(LocalStack().log_tail(lines), markup=False)


# --- runs with --target localstack --------------------------------------------------------


def run_on_localstack(spec: str, definition: Any, params: dict[str, Any], approval: bool | None,
                      as_json: bool) -> None:
    """``stepstone run FILE --target localstack``: deploy, start, follow, summarize."""
    from ..localstack.deploy import ARTIFACT_BUCKET, Deployer, DeployError

    target = _target()
    try:
        with _aws_errors(), _progress("deploying to LocalStack") as progress:
            deployed = Deployer(target.aws, progress=progress).deploy(definition)
    except DeployError as exc:
        fail(str(exc))
    changed = [*(c for child in deployed.children for c in child.changed), *deployed.changed]
    report = err if as_json else out
    report.print(f"[dim]deployed {escape(deployed.workflow)} to LocalStack in {deployed.seconds:.1f} s"
                 f" ({len(changed)} change{'s' if len(changed) != 1 else ''})[/dim]")
    for name in deployed.batch_as_lambda:
        report.print(f"[dim]{escape(name)} runs on AWS Batch; LocalStack has no Batch, so here it runs as a "
                     "Lambda function[/dim]")
    run_id = new_run_id()
    with _aws_errors():
        arn = target.start(deployed.state_machine, run_id, params)
    report.print(f"running [bold]{escape(deployed.workflow)}[/bold] as run [bold]{run_id}[/bold] "
                 f"[dim](LocalStack, artifacts in s3://{ARTIFACT_BUCKET}/runs/{escape(deployed.workflow)}/"
                 f"{run_id}/)[/dim]")
    view = LiveView(err if as_json else out, live=out.is_terminal and not as_json)

    def answer(question: str, state: str) -> bool | None:
        if approval is not None:
            return approval
        if not sys.stdin.isatty():
            return None
        with view.paused():
            return Confirm.ask(f"[bold]approval[/bold] {escape(state)}: {escape(question)}", default=False)

    def waiting(state: str, question: str) -> None:
        report.print(f"[bold yellow]waiting[/bold yellow] for approval of {escape(state)}: {escape(question)}\n"
                     f"  answer from another terminal: stepstone approve {run_id} {escape(state)} "
                     f"[--reject]")

    try:
        with _aws_errors(), view.running():
            record = target.follow(arn, view, answer, waiting)
    except KeyboardInterrupt:
        err.print(f"\n[bold]stopped following[/bold]: run {run_id} goes on in LocalStack; see it with "
                  f"`stepstone show {run_id} --target localstack`")
        sys.exit(EXIT_INTERRUPTED)
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
    else:
        out.print(run_summary(record, f"s3://{ARTIFACT_BUCKET}/runs/{record.workflow}/{record.run_id}/"))
        if record.status == "failed":
            out.print(f"[dim]see the error in full: stepstone show {record.run_id} --target localstack[/dim]")
    sys.exit(EXIT_OK if record.status == "succeeded" else EXIT_FAILED)


def runs_on_localstack(workflow: str | None, status: str | None, limit: int, as_json: bool) -> None:
    from ..localstack.history import STATUS

    target = _target()
    with _aws_errors():
        executions = [e for e in target.executions(workflow)
                      if status is None or STATUS.get(e["status"], "running") == status][:limit]
    rows = [{"run": e["name"], "workflow": e["stateMachineArn"].rsplit(":", 1)[-1],
             "status": STATUS.get(e["status"], "running"), "started": e["startDate"].isoformat(timespec="seconds"),
             "duration_ms": (e["stopDate"] - e["startDate"]).total_seconds() * 1000 if e.get("stopDate") else None}
            for e in executions]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if not rows:
        out.print(f"no runs{' of ' + escape(workflow) if workflow else ''} on LocalStack")
        return
    # one space between columns: a run an S3 upload started is named by its event's UUID (36 characters)
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 1, 0, 0))
    for column in ("run", "workflow", "status", "started", "time"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        table.add_row(row["run"], row["workflow"], Text(row["status"], style=STYLES.get(row["status"], "")),
                      row["started"][5:16].replace("T", " "), _duration(row["duration_ms"]))
    out.print(table)


def show_on_localstack(run_id: str, as_json: bool) -> None:
    from ..localstack.target import NoSuchRun
    from .local import print_run

    target = _target()
    with _aws_errors():
        try:
            record = target.record(target.find(run_id))
        except NoSuchRun:
            fail(f"no run {run_id!r} on LocalStack", hint="list runs with `stepstone runs --target localstack`")
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
        return
    print_run(record)


# --- stepstone approve ---------------------------------------------------------------------


@main.command()
@click.argument("run_id")
@click.argument("step", required=False)
@click.option("--reject", is_flag=True, help="Reject instead of approve (the workflow decides what follows).")
@click.option("-m", "--comment", default="", help="A note kept with the answer.")
def approve(run_id: str, step: str | None, reject: bool, comment: str) -> None:
    """Answer an approval gate of a run on LocalStack (SendTaskSuccess with its task token).

    STEP is the gate's name as the run shows it; it may be left out when only one gate
    waits. Local runs ask on the terminal instead, or take --approve/--reject.

    \b
    Examples:
      stepstone approve 20261122-171512-3f9a approve_decision
      stepstone approve 20261122-171512-3f9a --reject -m "AUC too close to the line"
    """
    from ..localstack.target import NoSuchRun

    target = _target()
    with _aws_errors():
        try:
            arn = target.find(run_id)
        except NoSuchRun:
            fail(f"no run {run_id!r} on LocalStack", hint="list runs with `stepstone runs --target localstack`")
        waiting = dict(target.pending_approvals(arn))
        record_workflow = arn.split(":")[-2]
        full_id = arn.rsplit(":", 1)[-1]
        if not waiting:
            fail(f"run {full_id} has no approval waiting for an answer",
                 hint=f"see the run: stepstone show {full_id} --target localstack", code=EXIT_FAILED)
        if step is None:
            if len(waiting) > 1:
                fail(f"run {full_id} waits at {len(waiting)} gates: {', '.join(sorted(waiting))}",
                     hint=f"name one: stepstone approve {full_id} {sorted(waiting)[0]}")
            step = next(iter(waiting))
        if step not in waiting:
            fail(f"{step!r} is not waiting for an answer in run {full_id}; waiting: {', '.join(sorted(waiting))}")
        user = os.environ.get("USER") or "stepstone"
        try:
            target.approve(record_workflow, full_id, step, not reject, approver=user, comment=comment)
        except NoSuchRun:
            fail(f"the approval request of {step} is not in the artifact bucket yet", hint="try again in a moment")
    verdict = "[red]rejected[/red]" if reject else "[green]approved[/green]"
    out.print(f"{verdict} {escape(step)} of run {full_id}: {escape(waiting[step])}")

