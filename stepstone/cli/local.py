"""``stepstone run``: a workflow run here, in this process (the default), or on LocalStack."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.prompt import Confirm

from compiler.dsl.errors import ParamsError
from compiler.pipeline import CompiledWorkflow
from compiler.protocol import trigger_text
from lambdas.errors import FaultSpecError
from lambdas.faults import ENV as FAULTS_ENV
from lambdas.faults import parse_faults

from ..console import err, fail, out
from ..local import LocalRun, find_run, new_run_id
from ..local.approvals import waiting_approver
from ..local.records import RunRecord
from ..local.view import LiveView
from ..localstack.history import state_definitions
from . import main
from .common import compile_or_exit, load_or_exit, one_workflow, param_options
from .follow import finish
from .remote import DEFAULT_HOME, writable_store
from .remote import store as _store

EXIT_INTERRUPTED = 130
JSON = Any
run_target_option = click.option(
    "-t", "--target", type=click.Choice(("local", "localstack")), default="local", show_default=True,
    help="Where: local (in this process) or localstack (emulated AWS: `stepstone localstack up` first). For "
         "AWS: `stepstone deploy`, then `stepstone trigger --target aws`.")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different (json.loads would keep the last silently)."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the key {key!r} appears twice")
        found[key] = value
    return found


def _parse_params(pairs: tuple[str, ...], input_file: Path | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if input_file is not None:
        try:
            loaded = json.loads(input_file.read_text(encoding="utf-8"), object_pairs_hook=_unique_keys)
        except (OSError, ValueError) as exc:  # unreadable, not UTF-8, not JSON, a key twice
            fail(f"cannot read parameters from {input_file}: {exc}", hint="--input takes a JSON object")
        except RecursionError:
            fail(f"cannot read parameters from {input_file}: it nests deeper than stepstone reads",
                 hint="--input takes a JSON object of parameters")
        if not isinstance(loaded, dict):
            fail(f"{input_file} holds a {type(loaded).__name__}, not a JSON object of parameters",
                 hint='write {"NAME": VALUE, ...}')
        params.update(loaded)
    given: set[str] = set()
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            fail(f"--param {pair!r} is not NAME=VALUE", hint="write --param min_auc=0.8 (values are JSON when they "
                                                            "parse as JSON, text otherwise)")
        if name in given:
            fail(f"--param {name} is given twice", hint="give each parameter once")
        given.add(name)
        try:
            params[name] = json.loads(text, object_pairs_hook=_unique_keys)
        except ValueError:
            params[name] = text
        except RecursionError:
            fail(f"--param {name}: the value nests deeper than stepstone reads",
                 hint="pass large or deep data by reference (an S3 key or a path), not by value")
    return params


def _params_hint(definition: Any, errors: list[str], pairs: tuple[str, ...]) -> str:
    """What to pass instead; says so when a --param value meant as text was read as JSON."""
    hint = f"pass --param NAME=VALUE; the parameters are: {_describe_params(definition)}"
    for pair in pairs:
        name, _, text = pair.partition("=")
        name = name.strip()
        wanted_text = any(e.startswith(f"{name}:") and "valid string" in e for e in errors)
        try:
            read_as_json = not isinstance(json.loads(text), str)
        except (ValueError, RecursionError):
            read_as_json = False
        if wanted_text and read_as_json:
            return f"--param {name}={text} was read as JSON, not text; for text, quote it: --param '{name}=" \
                   f"{json.dumps(text)}'"
    return hint


def _faults_or_exit(specs: tuple[str, ...], compiled: CompiledWorkflow) -> str | None:
    """The ``STEPSTONE_FAULTS`` value ``--fault`` asks for, checked against the workflow's steps."""
    if not specs:
        return None
    text = ",".join(specs)
    try:
        faults = parse_faults(text)
    except FaultSpecError as exc:
        fail(str(exc).replace(f"{FAULTS_ENV}: ", "--fault: "))
    tasks = {name for name, state in state_definitions(compiled.definition).items() if state.get("Type") == "Task"}
    names = {step.name for step in compiled.workflow.steps.values()} | tasks
    for fault in faults:
        if fault.name not in names:
            fail(f"--fault {fault.describe()}: {compiled.workflow.name} has no step or state named {fault.name!r}",
                 hint="name one of: " + ", ".join(sorted(names)))
    return text


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
@param_options
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue a failed run, reusing every finished step.")
@click.option("--approve/--reject", "approval", default=None,
              help="Answer approval gates in advance (otherwise you are asked, or the run stops there).")
@click.option("--workers", default=8, show_default=True, help="Steps that may run at once.")
@click.option("--debug", is_flag=True, help="One step at a time in this thread, no live view: for breakpoint().")
@click.option("--home", metavar="DIR",
              help=f"Where runs and artifacts go (default: $STEPSTONE_HOME or {DEFAULT_HOME}).")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON at the end.")
@click.option("--run-id", hidden=True, help="The run's id (stepstone trigger picks it).")
@click.option("--trigger-json", hidden=True, help="What started the run (stepstone trigger says).")
@click.option("--approvals-wait", is_flag=True, hidden=True,
              help="Without a terminal, wait for `stepstone approve` instead of failing (stepstone trigger).")
@click.option("--fault", "faults", multiple=True, metavar="STEP=KIND",
              help="Inject a fault to see what the workflow does then: STEP=transient:N (its first N attempts "
                   "fail), STEP=permanent or STEP=timeout; @ErrorName after it names the error raised. "
                   "Repeatable. (Sets STEPSTONE_FAULTS for the step runner: lambdas/faults.py.)")
@run_target_option
def run(spec: str, pairs: tuple[str, ...], input_file: Path | None, resume_id: str | None, approval: bool | None,
        workers: int, debug: bool, home: str | None, as_json: bool, run_id: str | None, trigger_json: str | None,
        approvals_wait: bool, faults: tuple[str, ...], target: str) -> None:
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
      stepstone run examples/etl_s3.py --fault download=transient:2 --fault load_to_warehouse=permanent
    """
    if target == "localstack" and (resume_id or debug or home):
        used = "--resume" if resume_id else "--debug" if debug else "--home"
        fail(f"{used} is for the local target; on LocalStack the run lives in Step Functions",
             hint="leave it out, or run with --target local")
    store = writable_store(home) if target == "local" else _store(home)
    previous: RunRecord | None = None
    started_by = json.loads(trigger_json) if trigger_json else {"kind": "manual", "by": os.environ.get("USER")}
    if resume_id is not None:
        previous = find_run(store, resume_id)
        if previous is None:
            fail(f"no run {resume_id!r} in {store.root}", hint="list runs with `stepstone runs`")
        if previous.status == "succeeded":
            fail(f"run {previous.run_id} succeeded; there is nothing to resume")
        if pairs or input_file:
            fail("--resume continues a run with its own parameters; leave out --param and --input")
    definition = one_workflow(spec, load_or_exit(spec))
    compiled = compile_or_exit(definition)  # what would not deploy does not run here either
    fault_spec = _faults_or_exit(faults, compiled)
    if previous is not None and previous.workflow != definition.name:
        fail(f"run {previous.run_id} is of workflow {previous.workflow!r}, not {definition.name!r}")
    try:
        params = definition.validate_params(previous.params if previous else _parse_params(pairs, input_file))
    except ParamsError as exc:
        fail(f"parameters of {definition.name!r} do not validate: " + "; ".join(exc.errors),
             hint=_params_hint(definition, exc.errors, pairs))
    if target == "localstack":
        from .localstack import run_on_localstack

        run_on_localstack(spec, definition, params, approval, as_json, faults=fault_spec)
    if fault_spec is not None:
        os.environ[FAULTS_ENV] = fault_spec  # the step runner in this process reads it
    live = out.is_terminal and not debug and not as_json
    view = LiveView(err if as_json else out, live=live)

    run_id = previous.run_id if previous else run_id or new_run_id()
    waiter = waiting_approver(store, definition.name, run_id)

    def approver(question: str, state: str) -> bool:
        if approval is not None:
            return approval
        if approvals_wait:
            return waiter(question, state)
        if not sys.stdin.isatty():
            from ..local.executor import RunFailure

            raise RunFailure("ApprovalNeeded", f"{question!r} needs an answer, and there is no terminal to ask; "
                             "run again with --resume and --approve or --reject", state)
        with view.paused():
            return Confirm.ask(f"[bold]approval[/bold] {escape(state)}: {escape(question)}", default=False)

    local = LocalRun(definition, store, run_id=run_id, file=spec.rsplit(":", 1)[0] if ".py:" in spec
                     else spec, workers=workers, sequential=debug, approver=approver, on_event=view,
                     resume=previous, trigger=trigger_text(started_by), echo_output=not as_json)
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
    finish(result.record, "local", str(Path(store.root) / "runs" / result.record.workflow / result.record.run_id),
           as_json)
