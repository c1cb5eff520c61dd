"""Acting on runs wherever they are (--target local | localstack | aws): ``trigger`` a
deployed workflow, ``redrive`` a failed run, ``approve`` or ``reject`` an approval gate."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click
from rich.markup import escape

from ..console import EXIT_FAILED, err, fail, out
from . import main
from .common import compile_or_exit
from .find import find_workflow, manual
from .follow import follow, started
from .params import param_options, params_or_exit
from .targets import home_option, opened, target_errors, target_option

__all__ = ["approve", "redrive", "reject", "trigger"]


# --- stepstone trigger ----------------------------------------------------------------------


@main.command()
@click.argument("workflow", metavar="WORKFLOW")
@param_options
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
    where = opened(target, home)
    spec, definition = find_workflow(workflow)
    compile_or_exit(definition)  # on the local target the run would fail to start in its own process, unseen
    params = params_or_exit(definition, pairs, input_file)
    with target_errors(where):
        begun = where.trigger(spec, definition, params, manual())
    if not wait:
        started(begun, where, as_json)
        return
    started(begun, where, False, console=err if as_json else out)
    follow(where, begun.run, approval=approval, as_json=as_json)


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
    where = opened(target, home)
    with target_errors(where):
        begun = where.redrive(run_id)
    if not as_json or wait:
        (err if as_json else out).print(
            f"redriven run [bold]{begun.continues}[/bold]" + ("" if begun.same else
                                                               f" as run [bold]{begun.run}[/bold] ({begun.note})"))
    if not wait:
        started(begun, where, as_json)
        return
    follow(where, begun.run, approval=approval, as_json=as_json)


# --- stepstone approve / reject ----------------------------------------------------------------


def _answer(run_id: str, step: str | None, approved: bool, comment: str, home: str | None, target: str,
            as_json: bool) -> None:
    user = os.environ.get("USER") or "stepstone"
    where = opened(target, home)
    with target_errors(where):
        full_id, waiting = where.pending_approvals(run_id)
    if not waiting:
        fail(f"run {full_id} has no approval waiting for an answer",
             hint=f"see the run: stepstone show {full_id}{where.flag}", code=EXIT_FAILED)
    if step is None:
        if len(waiting) > 1:
            fail(f"run {full_id} waits at {len(waiting)} gates: {', '.join(sorted(waiting))}",
                 hint=f"name one: stepstone approve {full_id} {sorted(waiting)[0]}{where.flag}")
        step = next(iter(waiting))
    if step not in waiting:
        fail(f"{step!r} is not waiting for an answer in run {full_id}; waiting: {', '.join(sorted(waiting))}")
    with target_errors(where):
        where.answer(full_id, step, approved, approver=user, comment=comment)
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
