"""Commands for runs: run, runs, show, on the local target (the default) or on LocalStack."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.prompt import Confirm
from rich.table import Table
from rich.text import Text

from compiler.workflows import ParamsError

from ..console import EXIT_FAILED, EXIT_OK, EXIT_USAGE, err, fail, out
from ..local import LocalRun, find_run, list_runs, new_run_id
from ..local.records import RunRecord
from ..local.view import STYLES, LiveView, _duration, run_summary, steps_table
from . import main
from .common import compile_or_exit, load_or_exit, one_workflow

EXIT_INTERRUPTED = 130
DEFAULT_HOME = ".stepstone"
TARGETS = ("local", "localstack")
target_option = click.option(
    "-t", "--target", type=click.Choice(TARGETS), default="local", show_default=True,
    help="Where: local (in this process) or localstack (emulated AWS: `stepstone localstack up` first).")


def _store(home: str | None) -> Any:
    from lambdas.store import LocalStore

    return LocalStore(home or os.environ.get("STEPSTONE_HOME", DEFAULT_HOME))


def _parse_params(pairs: tuple[str, ...], input_file: Path | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if input_file is not None:
        try:
            loaded = json.loads(input_file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            fail(f"cannot read parameters from {input_file}: {exc}", hint="--input takes a JSON object")
        if not isinstance(loaded, dict):
            fail(f"{input_file} holds a {type(loaded).__name__}, not a JSON object of parameters")
        params.update(loaded)
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            fail(f"--param {pair!r} is not NAME=VALUE", hint="write --param min_auc=0.8 (values are JSON when they "
                                                            "parse as JSON, text otherwise)")
        try:
            params[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            params[name.strip()] = text
    return params


def _describe_params(definition: Any) -> str:
    """``name: type = default`` for each parameter, the way they are declared."""
    parts = []
    for name, info in definition.params_model.model_fields.items():
        annotation = getattr(info.annotation, "__name__", None) or str(info.annotation).replace("typing.", "")
        default = "" if info.is_required() else f" = {info.default!r}"
        parts.append(f"{name}: {annotation}{default}")
    return ", ".join(parts)


@main.command()
@click.argument("spec", metavar="FILE[:NAME]")
@click.option("-p", "--param", "pairs", multiple=True, metavar="NAME=VALUE",
              help="A workflow parameter (repeat for several); the value is JSON when it parses as JSON.")
@click.option("-i", "--input", "input_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON file of parameters (--param values override it).")
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue a failed run, reusing every finished step.")
@click.option("--approve/--reject", "approval", default=None,
              help="Answer approval gates in advance (otherwise you are asked, or the run stops there).")
@click.option("--workers", default=8, show_default=True, help="Steps that may run at once.")
@click.option("--debug", is_flag=True, help="One step at a time in this thread, no live view: for breakpoint().")
@click.option("--home", metavar="DIR",
              help=f"Where runs and artifacts go (default: $STEPSTONE_HOME or {DEFAULT_HOME}).")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON at the end.")
@target_option
def run(spec: str, pairs: tuple[str, ...], input_file: Path | None, resume_id: str | None, approval: bool | None,
        workers: int, debug: bool, home: str | None, as_json: bool, target: str) -> None:
    """Run a workflow: here, in this process (the default: no AWS, no set-up), or on LocalStack.

    On the local target, steps run through the same step runner as in AWS; their outputs
    and lineage go to .stepstone/ in the same layout as the S3 artifact bucket. With
    --target localstack the workflow is compiled, deployed to LocalStack (state machine,
    step functions, bucket, trigger rules; left deployed) and run there, with the same
    live view. Exit code 0 when the run succeeds, 1 when it fails, 2 for bad input, 130
    when interrupted.

    \b
    Examples:
      stepstone run examples/ml_training.py --param min_auc=0.8
      stepstone run examples/etl_s3.py -p key=sales/broken.csv
      stepstone run examples/ml_training.py --resume 20261122-171512-3f9a
      stepstone run examples/ml_training.py --target localstack
    """
    if target == "localstack" and (resume_id or debug or home):
        used = "--resume" if resume_id else "--debug" if debug else "--home"
        fail(f"{used} is for the local target; on LocalStack the run lives in Step Functions",
             hint="leave it out, or run with --target local")
    store = _store(home)
    previous: RunRecord | None = None
    if resume_id is not None:
        previous = find_run(store, resume_id)
        if previous is None:
            fail(f"no run {resume_id!r} in {store.root}", hint="list runs with `stepstone runs`")
        if previous.status == "succeeded":
            fail(f"run {previous.run_id} succeeded; there is nothing to resume")
        if pairs or input_file:
            fail("--resume continues a run with its own parameters; leave out --param and --input")
    definition = one_workflow(spec, load_or_exit(spec))
    compile_or_exit(definition)  # what would not deploy does not run here either
    if previous is not None and previous.workflow != definition.name:
        fail(f"run {previous.run_id} is of workflow {previous.workflow!r}, not {definition.name!r}")
    try:
        params = definition.validate_params(previous.params if previous else _parse_params(pairs, input_file))
    except ParamsError as exc:
        fail(f"parameters of {definition.name!r} do not validate: " + "; ".join(exc.errors),
             hint=f"pass --param NAME=VALUE; the parameters are: {_describe_params(definition)}")
    if target == "localstack":
        from .localstack import run_on_localstack

        run_on_localstack(spec, definition, params, approval, as_json)
    live = out.is_terminal and not debug and not as_json
    view = LiveView(err if as_json else out, live=live)

    def approver(question: str, state: str) -> bool:
        if approval is not None:
            return approval
        if not sys.stdin.isatty():
            from ..local.executor import RunFailure

            raise RunFailure("ApprovalNeeded", f"{question!r} needs an answer, and there is no terminal to ask; "
                             "run again with --resume and --approve or --reject", state)
        with view.paused():
            return Confirm.ask(f"[bold]approval[/bold] {escape(state)}: {escape(question)}", default=False)

    local = LocalRun(definition, store, run_id=new_run_id(), file=spec, workers=workers, sequential=debug,
                     approver=approver, on_event=view, resume=previous)
    if not as_json:
        verb = "resuming" if previous else "running"
        out.print(f"{verb} [bold]{escape(definition.name)}[/bold] as run [bold]{local.run_id}[/bold] "
                  f"[dim](local target, artifacts in {escape(str(store.root))})[/dim]")
    try:
        with view.running():
            result = local.run(params)
    except KeyboardInterrupt:
        record = local.record
        err.print(f"\n[bold red]interrupted[/bold red]: run {record.run_id} is recorded; continue it with "
                  f"`stepstone run {escape(spec)} --resume {record.run_id}`")
        sys.stdout.flush()
        os._exit(EXIT_INTERRUPTED)  # do not wait for steps still running in worker threads
    record = result.record
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
    else:
        out.print(run_summary(record, str(Path(store.root) / "runs" / record.workflow / record.run_id)))
        if record.status == "failed":
            out.print(f"[dim]see the error in full: stepstone show {record.run_id}; continue after a fix: "
                      f"stepstone run {escape(spec)} --resume {record.run_id}[/dim]")
    sys.exit(EXIT_OK if record.status == "succeeded" else EXIT_FAILED)


@main.command()
@click.argument("workflow", required=False)
@click.option("--status", type=click.Choice(["running", "succeeded", "failed", "interrupted"]),
              help="Only runs with this status.")
@click.option("-n", "--limit", default=20, show_default=True, help="At most this many (newest first).")
@click.option("--home", metavar="DIR", help=f"Where runs are kept (default: $STEPSTONE_HOME or {DEFAULT_HOME}).")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@target_option
def runs(workflow: str | None, status: str | None, limit: int, home: str | None, as_json: bool, target: str) -> None:
    """List past runs, newest first.

    \b
    Examples:
      stepstone runs
      stepstone runs ml_training --status failed
      stepstone runs --target localstack
    """
    if target == "localstack":
        from .localstack import runs_on_localstack

        runs_on_localstack(workflow, status, limit, as_json)
        return
    store = _store(home)
    records = [r for r in list_runs(store, workflow) if status is None or r.status == status][:limit]
    if as_json:
        sys.stdout.write(json.dumps([r.model_dump(mode="json", exclude={"steps"}) for r in records], indent=2)
                         + "\n")
        return
    if not records:
        out.print(f"no runs{' of ' + escape(workflow) if workflow else ''} in {escape(str(store.root))}")
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("run", "workflow", "status", "started", "time", "steps"):
        table.add_column(column, no_wrap=True)
    for record in records:
        steps = sum(1 for s in record.steps.values())
        table.add_row(record.run_id, record.workflow, Text(record.status, style=STYLES.get(record.status, "")),
                      record.started[:19].replace("T", " "), _duration(record.duration_ms), str(steps))
    out.print(table)


@main.command()
@click.argument("run_id")
@click.option("--home", metavar="DIR", help=f"Where runs are kept (default: $STEPSTONE_HOME or {DEFAULT_HOME}).")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON.")
@target_option
def show(run_id: str, home: str | None, as_json: bool, target: str) -> None:
    """Show one run: its parameters, each step, and the failed step's error and traceback.

    \b
    Examples:
      stepstone show 20261122-171512-3f9a      (a unique prefix of the id is enough)
      stepstone show 20261122-171512-3f9a --target localstack
    """
    if target == "localstack":
        from .localstack import show_on_localstack

        show_on_localstack(run_id, as_json)
        return
    store = _store(home)
    record = find_run(store, run_id)
    if record is None:
        fail(f"no run {run_id!r} in {store.root}", hint="list runs with `stepstone runs`", code=EXIT_USAGE)
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
        return
    print_run(record)


def print_run(record: RunRecord) -> None:
    """The run's head line, parameters, steps table, errors with tracebacks, and output."""
    out.print(Text.assemble(("run ", "bold"), (record.run_id, "bold"), f"  {record.workflow}  ",
                            (record.status, STYLES.get(record.status, "")), f"  started {record.started[:19]}",
                            f"  {_duration(record.duration_ms)}"))
    out.print(Text(f"parameters: {json.dumps(record.params)[:500]}", style="dim"))
    if record.resumed:
        out.print(Text(f"resumed {record.resumed} time(s)", style="dim"))
    out.print(steps_table(record))
    failed = [s for s in record.steps.values() if s.status == "failed"]
    for step in failed:
        out.print(Text.assemble(("\n✗ ", "bold red"), (step.key, "bold"), f": {step.error}: {step.cause or ''}"))
        if step.traceback:
            out.print(Text(step.traceback.rstrip(), style="dim"))
    if record.error and not failed:
        out.print(Text.assemble(("error: ", "bold red"), f"{record.failed_state}: {record.error}: {record.cause}"))
    if record.output is not None and record.status == "succeeded":
        value = record.output.get("value") if isinstance(record.output, dict) else record.output
        out.print(Text.assemble(("output: ", "bold"), json.dumps(value)[:500]))
