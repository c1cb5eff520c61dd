"""``stepstone run``: a workflow run now and followed to its end, on any target: here, in this
process (the default), or on LocalStack (deployed there first)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.markup import escape

from compiler.asl.walk import state_definitions
from compiler.dsl.errors import ParamsError
from compiler.pipeline import CompiledWorkflow
from lambdas.errors import FaultSpecError
from lambdas.faults import ENV as FAULTS_ENV
from lambdas.faults import parse_faults

from ..console import err, fail, out
from ..errors import RunInterruptedError
from ..targets import RunRequest
from ..view import LiveView
from . import main
from .common import compile_or_exit, load_or_exit, one_workflow
from .follow import answerer, finish, interrupted, waiting_note
from .params import param_options, params_hint, parse_params
from .targets import home_option, opened, target_errors, target_option


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


@main.command()
@click.argument("spec", metavar="FILE[:NAME]")
@param_options
@click.option("--resume", "resume_id", metavar="RUN_ID", help="Continue a failed run, reusing every finished step.")
@click.option("--approve/--reject", "approval", default=None,
              help="Answer approval gates in advance (otherwise you are asked, or the run stops there).")
@click.option("--refresh-cache", is_flag=True,
              help="Run every cache=True step again: the workflow's cached results are cleared first.")
@click.option("--workers", default=8, show_default=True, help="Steps that may run at once.")
@click.option("--debug", is_flag=True, help="One step at a time in this thread, no live view: for breakpoint().")
@click.option("--json", "as_json", is_flag=True, help="Print the run record as JSON at the end.")
@click.option("--run-id", hidden=True, help="The run's id (stepstone trigger picks it).")
@click.option("--trigger-json", hidden=True, help="What started the run (stepstone trigger says).")
@click.option("--approvals-wait", is_flag=True, hidden=True,
              help="Without a terminal, wait for `stepstone approve` instead of failing (stepstone trigger).")
@click.option("--fault", "faults", multiple=True, metavar="STEP=KIND",
              help="Inject a fault to see what the workflow does then: STEP=transient:N (its first N attempts "
                   "fail), STEP=permanent or STEP=timeout; @ErrorName after it names the error raised. "
                   "Repeatable. (Sets STEPSTONE_FAULTS for the step runner: lambdas/faults.py.)")
@home_option
@target_option
def run(spec: str, pairs: tuple[str, ...], input_file: Path | None, resume_id: str | None, approval: bool | None,
        refresh_cache: bool, workers: int, debug: bool, home: str | None, as_json: bool, run_id: str | None,
        trigger_json: str | None, approvals_wait: bool, faults: tuple[str, ...], target: str) -> None:
    """Run a workflow and follow it: here, in this process (the default: no AWS, no set-up), or on LocalStack.

    On the local target, steps run through the same step runner as in AWS; their outputs
    and lineage go to .stepstone/ in the same layout as the S3 artifact bucket. With
    --target localstack the workflow is compiled, deployed to LocalStack (state machine,
    step functions, bucket, trigger rules; left deployed) and run there, with the same
    live view. On AWS, workflows are deployed with `stepstone deploy` and started with
    `stepstone trigger`. Exit code 0 when the run succeeds, 1 when it fails, 2 for bad
    input, 130 when interrupted.

    \b
    Examples:
      stepstone run examples/ml_training.py --param min_auc=0.8
      stepstone run examples/etl_s3.py -p key=sales/broken.csv
      stepstone run examples/ml_training.py --resume 20261122-171512-3f9a
      stepstone run examples/ml_training.py --refresh-cache       # cached steps run again
      stepstone run examples/ml_training.py --target localstack
      stepstone run examples/etl_s3.py --fault download=transient:2 --fault load_to_warehouse=permanent
    """
    where = opened(target, home, check=False)
    if resume_id is not None and (pairs or input_file):
        fail("--resume continues a run with its own parameters; leave out --param and --input")
    definition = one_workflow(spec, load_or_exit(spec))
    compiled = compile_or_exit(definition)  # what would not deploy does not run here either
    fault_spec = _faults_or_exit(faults, compiled)
    params = None
    if resume_id is None:
        try:
            params = definition.validate_params(parse_params(pairs, input_file))
        except ParamsError as exc:
            fail(f"parameters of {definition.name!r} do not validate: " + "; ".join(exc.errors),
                 hint=params_hint(definition, exc.errors, pairs))
    started_by = json.loads(trigger_json) if trigger_json else {"kind": "manual", "by": os.environ.get("USER")}
    request = RunRequest(spec=spec, definition=definition, params=params, trigger=started_by, run_id=run_id,
                         resume=resume_id, faults=fault_spec, workers=workers, debug=debug,
                         echo_output=not as_json, approvals_wait=approvals_wait, refresh_cache=refresh_cache)
    refused = where.refusal(request)
    if refused is not None:
        fail(str(refused), hint=refused.hint or None)
    with target_errors(where):
        where.check()
    report = err if as_json else out
    view = LiveView(report, live=out.is_terminal and not debug and not as_json)
    try:
        with target_errors(where), view.running():
            record = where.run(request, view, answerer(approval, view), waiting_note(where, view, report),
                               lambda line: report.print(f"[dim]{escape(line)}[/dim]"))
    except RunInterruptedError as exc:
        interrupted(exc, where)
    finish(record, where, as_json)
