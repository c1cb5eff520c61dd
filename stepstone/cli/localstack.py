"""LocalStack from the command line: ``stepstone localstack up|down|status|upload|logs``.
(Runs there are every run command's, with ``--target localstack``.)"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from rich.markup import escape

from ..console import EXIT_FAILED, EXIT_OK, fail, out
from ..view import duration_text
from . import main
from .targets import opened, progress, target_errors

UP_HINT = "start it with `stepstone localstack up`"


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
        with progress("starting LocalStack") as step:
            now = harness.start(progress=step)
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
    with progress("stopping LocalStack (and its function processes)"):
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
        since = f", up {duration_text((time.time() - now.started) * 1000)}" if now.started else ""
        memory = f", {now.rss_mb:.0f} MB" if now.rss_mb else ""
        owner = f"pid {now.pid}" if now.ours else "not started by stepstone"
        out.print(f"[green]LocalStack {escape(now.version or '')} is running[/green] on {now.endpoint} "
                  f"({owner}{since}{memory})")
        if now.log:
            out.print(f"[dim]  logs: {escape(str(now.log))}[/dim]")
        if harness.plugin_outdated():
            out.print("[yellow]  stepstone's LocalStack plugin has changed since it was installed; it is loaded by "
                      "a restart: stepstone localstack down, then up[/yellow]")
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
    from ..targets.stepfunctions import StepFunctionsTarget

    bucket, _, key = destination.removeprefix("s3://").partition("/")
    if not destination.startswith("s3://") or not bucket or not key or key.endswith("/"):
        fail(f"{destination!r} is not s3://BUCKET/KEY", hint="write the whole key: s3://raw-data/sales/day.csv")
    target = opened("localstack")
    assert isinstance(target, StepFunctionsTarget)
    with target_errors(target):
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
