"""Express workflows: at most 5 minutes, no waiting for jobs (.sync) or for people (task tokens)."""

from __future__ import annotations

from collections.abc import Iterable

from ..dsl.errors import CompileError
from ..dsl.quotas import EXPRESS_MAX_SECONDS
from ..ir import Approve, CallWorkflow, FanOut, StepCall
from ..limits import longest_run, step_seconds
from ..plan import all_nodes
from . import CheckContext, rule


@rule("express")
def express_integrations(context: CheckContext) -> Iterable[CompileError]:
    wf = context.workflow
    if wf.type != "express":
        return
    hint = "use type='standard' for this workflow"
    for node in all_nodes(wf.body):
        if isinstance(node, StepCall) and node.step.is_batch:
            yield CompileError(f"{node.name} runs on AWS Batch, which an Express workflow cannot wait for (.sync)",
                               rule="express", location=node.location, hint=hint)
        elif isinstance(node, CallWorkflow):
            yield CompileError(f"{node.name}: an Express workflow cannot wait for another workflow (.sync)",
                               rule="express", location=node.location, hint=hint)
        elif isinstance(node, Approve):
            yield CompileError("an Express workflow cannot wait for an approval (task token)", rule="express",
                               location=node.location, hint=hint)
        elif isinstance(node, FanOut) and node.mode == "distributed":
            yield CompileError(f"{node.name}: a distributed fan-out needs a Standard workflow", rule="express",
                               location=node.location,
                               hint=f"declare the list's size (max_items=N, N <= 100), or {hint}")
    if wf.timeout is not None and wf.timeout > EXPRESS_MAX_SECONDS:
        yield CompileError(f"timeout={wf.timeout}s: Express workflows stop after {EXPRESS_MAX_SECONDS} seconds",
                           rule="express-duration", location=wf.decorator or wf.location, hint=hint)


@rule("express-duration")
def express_duration(context: CheckContext) -> Iterable[CompileError]:
    wf = context.workflow
    if wf.type != "express":
        return
    seconds = longest_run(wf, context.planner)
    if seconds > EXPRESS_MAX_SECONDS and seconds != float("inf"):
        steps = [n for n in all_nodes(wf.body) if isinstance(n, StepCall) and n.step.timeout]
        slowest = max(steps, key=lambda n: step_seconds(n), default=None)
        detail = ""
        if slowest is not None:
            attempts = 1 + sum(max(p.attempts - 1, 0) for p in slowest.step.retry)
            detail = (f"; the longest step, {slowest.name}, alone can take {step_seconds(slowest):,.0f} seconds "
                      f"({attempts} attempt{'s' if attempts > 1 else ''} of up to {slowest.step.timeout} seconds"
                      + (" and the waits between them)" if attempts > 1 else ")"))
        yield CompileError(
            f"an Express run stops after {EXPRESS_MAX_SECONDS} seconds, but with its steps' timeouts and retries this "
            f"one can take up to {seconds:,.0f} seconds{detail}", rule="express-duration",
            location=wf.decorator or wf.location,
            hint="lower the steps' timeout= (Lambda(timeout=...)) or retries, or use type='standard'")
