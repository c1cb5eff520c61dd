"""Error names that Step Functions never reports.

A Lambda step reports a raised exception by its class name, so ``Retry(on=[MyError])`` and
``except MyError`` match it. An AWS Batch job and a nested workflow do not: Step Functions
sees only that the job or the child run failed (``States.TaskFailed``) or timed out
(``States.Timeout``). A policy that names a Python class there would silently never fire.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..dsl.errors import CompileError
from ..dsl.options import error_names
from ..ir import Block, CallWorkflow, FanOut, Node, StepCall, Try
from ..plan import all_nodes, blocks_of
from . import CheckContext, rule

OPAQUE_HINT = "name 'States.TaskFailed' (and 'States.Timeout') instead, or leave on= out to retry every failure"


def _named(names: tuple[str, ...]) -> list[str]:
    return [n for n in names if not n.startswith("States.")]


@rule("opaque-error")
def batch_retry(context: CheckContext) -> Iterable[CompileError]:
    seen: set[str] = set()
    for node in all_nodes(context.workflow.body):
        if not isinstance(node, StepCall) or not node.step.is_batch or node.step.name in seen:
            continue
        seen.add(node.step.name)
        for policy in node.step.retry:
            named = _named(error_names(policy.on))
            if named:
                yield CompileError(
                    f"{node.step.name} runs on AWS Batch, whose failures Step Functions reports as "
                    f"States.TaskFailed, never as {', '.join(named)}; this retry would never happen",
                    rule="opaque-error", location=node.step.location, hint=OPAQUE_HINT)


def _opaque_states(block: Block) -> Iterator[Node]:
    """Batch steps and nested runs anywhere in a block: their failures reach a Catch as States.TaskFailed."""
    for unit in block.units:
        node = unit.node
        if (isinstance(node, StepCall) and node.step.is_batch) or isinstance(node, CallWorkflow):
            yield node
        if isinstance(node, (FanOut, Try)) or blocks_of(node):
            for inner in blocks_of(node):
                yield from _opaque_states(inner)


@rule("opaque-except")
def opaque_except(context: CheckContext) -> Iterable[CompileError]:
    for node in all_nodes(context.workflow.body):
        if not isinstance(node, Try):
            continue
        opaque = list(_opaque_states(node.body))
        if not opaque:
            continue
        for handler in node.handlers:
            named = _named(handler.errors)
            if named and len(named) == len(handler.errors):
                what = ", ".join(
                    f"{n.name} (a nested workflow)" if isinstance(n, CallWorkflow) else f"{n.name} (an AWS Batch job)"
                    for n in opaque[:3])
                yield CompileError(
                    f"except {' | '.join(named)} cannot catch a failure of {what}: Step Functions reports those as "
                    "States.TaskFailed", rule="opaque-error", location=handler.location,
                    hint="catch Exception around them, or move them out of this try")
