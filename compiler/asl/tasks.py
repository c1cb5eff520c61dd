"""The Task states: a Lambda step, a Batch step, a nested run, an approval gate.

Each function renders one Task with its parameters, result handling and retries; the
emitter decides where it goes and what it stores.
"""

from __future__ import annotations

from typing import Any

from ..dsl.options import error_names, permanent_error_names
from ..ir import Approve, BindingKind, BindingRef, CallWorkflow, LiteralValue, ParamRef, StepCall, StepInfo, Workflow
from ..protocol import MAP_PATH_KEY, BatchArg, BatchJob, Dynamic, StepPayload
from .resources import ResourceUse
from .states import Catcher, Retrier, TaskState
from .values import ValuePaths, slug

__all__ = ["LAMBDA_SERVICE_ERRORS", "TaskBuilder"]

LAMBDA_SERVICE_ERRORS = (
    "Lambda.AWSLambdaException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.SdkClientException",
    "Lambda.ServiceException",
    "Lambda.TooManyRequestsException",
)
RESULT_SELECTOR = {"fields.$": "$.Payload.fields", "ref.$": "$.Payload.ref", "value.$": "$.Payload.value"}
CHILD_RESULT_SELECTOR = {"fields.$": "$.Output.fields", "ref.$": "$.Output.ref", "value.$": "$.Output.value"}


def retriers(step: StepInfo | None, *, lambda_invoke: bool) -> list[Retrier]:
    """The step's Retry list: Lambda's own transient errors first, then the user's policies
    (a catch-all policy is preceded by one that never retries a PermanentError)."""
    found: list[Retrier] = []
    if lambda_invoke:
        found.append(Retrier(LAMBDA_SERVICE_ERRORS, max_attempts=3, interval=1, backoff=2.0, jitter=True))
    if step is None:
        return found
    guarded = False
    for policy in step.retry:
        if policy.attempts <= 1:
            continue
        names = error_names(policy.on)
        if names == ("States.ALL",) and not guarded:
            found.append(Retrier(permanent_error_names(), max_attempts=0))
            guarded = True
        found.append(Retrier(names, max_attempts=policy.attempts - 1, interval=policy.interval_seconds,
                             backoff=float(policy.backoff), max_delay=policy.max_delay_seconds, jitter=policy.jitter))
    return found


class TaskBuilder:
    def __init__(self, workflow: Workflow, paths: ValuePaths, inline_limit: int, resources: ResourceUse) -> None:
        self.wf = workflow
        self.paths = paths
        self.inline_limit = inline_limit
        self.resource = resources

    def lambda_step(self, node: StepCall, in_map: bool, catchers: list[Catcher], result_path: str | None,
                    outer_names: frozenset[str] = frozenset(), *, batch: bool = False) -> TaskState:
        """A Lambda invocation of the step runner. With ``batch``, a Batch step run as Lambda
        (where there is no Batch, as on LocalStack): the runner writes the output where the
        job would, and the state keeps nothing, exactly as after the job."""
        step = node.step
        retry = retriers(step, lambda_invoke=True)
        matched = [*(r.errors for r in retry), *(c.errors for c in catchers), tuple(outer_names)]
        names = sorted({n for errors in matched for n in errors if not n.startswith(("States.", "Lambda."))})
        payload = StepPayload(
            step=step.ref, workflow=self.wf.name, state=node.name, run=Dynamic(self.paths.run_name),
            execution=Dynamic(self.paths.run_id), attempt=Dynamic("$$.State.RetryCount"),
            args={name: self.paths.argument(value, in_map) for name, value in node.args},
            map_path=Dynamic(f"$.{MAP_PATH_KEY}") if in_map else None, inline_limit=self.inline_limit,
            store=self.wf.stores.get(node.binding or ""),
            cache=step.cache, error_names=tuple(names),  # the runner reports a subclass under these (Python's except)
            batch=batch)
        return TaskState(
            node.name,
            resource="arn:aws:states:::lambda:invoke",
            parameters={"FunctionName": self.resource("function", step.name), "Payload": payload.encode()},
            result_selector=None if batch else RESULT_SELECTOR,
            result_path=None if batch else result_path,
            timeout=step.timeout,
            retry=retry,
            catch=catchers,
        )

    def batch_step(self, node: StepCall, in_map: bool, catchers: list[Catcher]) -> TaskState:
        """A Batch job: its inputs go by S3 reference in environment variables (container
        overrides are small); it writes its output to S3 and returns nothing to the state."""
        step = node.step
        args: dict[str, BatchArg] = {}
        for name, value in node.args:
            if isinstance(value, LiteralValue):
                args[name] = BatchArg("value", value=value.value)
            elif isinstance(value, ParamRef) and value.whole_model:
                args[name] = BatchArg("fields", fields=self.wf.params.names)
            elif isinstance(value, BindingRef) and self.wf.bindings[value.key].kind in (BindingKind.RESULT,
                                                                                     BindingKind.DEFERRED):
                binding = self.wf.bindings[value.key]
                ref = (self.paths.deferred_ref(binding, in_map) if binding.kind is BindingKind.DEFERRED
                       else f"{self.paths.var_path(value.key)}.ref")
                args[name] = BatchArg("ref", source=ref, path=value.path)
            else:
                path = self.paths.state_path(value)
                assert path is not None, f"{value} has no path"
                args[name] = BatchArg("json", source=path, refs=isinstance(value, BindingRef))
        job = BatchJob(step=step.ref, workflow=self.wf.name, state=node.name, args=args,
                       run=Dynamic(self.paths.run_name), execution=Dynamic(self.paths.run_id),
                       in_map=Dynamic(f"$.{MAP_PATH_KEY}") if in_map else None, heartbeat=step.heartbeat is not None)
        return TaskState(
            node.name,
            resource="arn:aws:states:::batch:submitJob.sync",
            parameters={
                "ContainerOverrides": {"Environment": job.environment()},
                "JobDefinition": self.resource("job_definition", step.name),
                "JobName": slug(node.name),
                "JobQueue": self.resource("job_queue", step.name),
            },
            result_path=None,
            timeout=step.timeout,
            heartbeat=step.heartbeat,
            retry=retriers(step, lambda_invoke=False),
            catch=catchers,
        )

    def nested_run(self, node: CallWorkflow, in_map: bool, catchers: list[Catcher],
                   result_path: str | None) -> TaskState:
        child_input: dict[str, Any] = {"AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}
        for name, value in node.params:
            child_input.update(self.paths.plain(value, in_map, name))
        return TaskState(
            node.name,
            resource="arn:aws:states:::states:startExecution.sync:2",
            parameters={"Input": child_input, "StateMachineArn": self.resource("workflow", node.workflow)},
            result_selector=CHILD_RESULT_SELECTOR,
            result_path=result_path,
            catch=catchers,
        )

    def approval(self, node: Approve, catchers: list[Catcher], result_path: str | None) -> TaskState:
        return TaskState(
            node.name,
            resource="arn:aws:states:::lambda:invoke.waitForTaskToken",
            parameters={
                "FunctionName": self.resource("approval_function"),
                "Payload": {"execution.$": self.paths.run_id, "message": node.message, "state": node.name,
                            "token.$": "$$.Task.Token", "workflow": self.wf.name},
            },
            result_path=result_path,
            timeout=node.timeout,
            retry=retriers(None, lambda_invoke=True),
            catch=catchers,
        )
