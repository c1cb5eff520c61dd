"""Compiled workflows executed by moto's Step Functions interpreter, in this process.

moto (pinned: 5.2.5) executes Amazon States Language when asked to. This module makes it
execute *our* state machines end to end, with no AWS account and no LocalStack:

- Lambda tasks call Python: by default the real step runner (``lambdas.runner``) against
  moto's S3 as the artifact bucket, so the steps' own code runs; or handlers a test gives.
- Batch jobs (``batch:submitJob.sync``) run the step runner's Batch entry point with the
  environment the compiled task sets; a nested workflow (``startExecution.sync:2``) runs
  as a child state machine; an approval gate calls a handler with its task token.

moto 5.2.5 needs a few patches for that, each applied only inside
:class:`MotoStepFunctions` and undone on exit (they rely on moto's internals, hence the pin):

1. ``LambdaSimpleBackend.invoke``: moto's no-Docker Lambda echoes its payload; here it
   calls the handler for the function, and turns an exception into a function error whose
   ``errorType`` is the error name (so Retry/Catch on custom errors work).
2. ``BatchSimpleBackend._mark_job_as_finished``: runs the job's handler; a failure fails it.
3. ``StateTaskService._normalise_parameters``/``_normalise_response``: moto passes the ASL's
   PascalCase parameters of the Batch and Step Functions integrations to boto3 unchanged
   (``'ContainerOverrides'`` fails as a KeyError); they are mapped through botocore's shapes.
4. ``StepFunctionsParserBackend.start_execution``: a child run started without a name gets
   a UUID (moto names it "None", so the second child start would already exist).
5. The retrier's and the .sync poller's sleeps are skipped or shortened (``fast=True``): the
   intervals are recorded instead of waited.
6. Parsing a definition (ANTLR, twice per run) is cached per definition text.
7. ``StateTaskService._eval_execution``: a task's evaluation of its resource, parameters and
   timeout is made atomic with respect to a stop of its frame (a sibling Parallel branch
   failed, or the task timed out); moto's version pops values a stopped frame never pushed
   and invokes the function with them (see :func:`_task_eval_execution`).
8. ``ResourceEvalS3._handle_put_object`` of a distributed Map's result writer: moto's copy
   of LocalStack's interpreter drops the results (``env.stack.pop()  # TODO: results``) and
   writes an empty manifest; here they are written as AWS writes them, by the function the
   LocalStack plugin patches LocalStack's copy with (found by tests/e2e/value_flows.py).

Known limit (moto 5.2.5): a Batch ``.sync`` task that is *retried* fails the run with a
spurious ``States.Timeout``; the first attempt's failure and its Catch work.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.metadata
import json
import logging
import re
import threading
import time
import types
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from ..errors import LambdaError

__all__ = ["LambdaError", "MotoRun", "MotoStepFunctions"]

JSON = Any
Handler = Callable[[JSON], JSON]
REGION = "us-east-1"
BUCKET = "stepstone-artifacts"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_-]+)\}")


@dataclass
class MotoRun:
    status: str
    output: JSON
    states: list[str]  # names of the states entered, in order
    error: str | None = None
    cause: str | None = None
    calls: list[dict[str, JSON]] = field(default_factory=list)  # Lambda invocations: function, event, result
    jobs: list[dict[str, JSON]] = field(default_factory=list)  # Batch jobs: definition, environment
    history: list[dict[str, JSON]] = field(default_factory=list)
    execution_arn: str = ""
    waits: list[float] = field(default_factory=list)  # retry intervals that were skipped


def _short_function_name(name: str) -> str:
    if ":function:" in name:
        name = name.split(":function:", 1)[1]
    return name.split(":", 1)[0]


_OPERATIONS: dict[str, Any] = {}


def _operation(service: str, action: str) -> Any:
    key = f"{service}.{action}"
    if key not in _OPERATIONS:
        import botocore.session
        from botocore import xform_name

        model = botocore.session.get_session().get_service_model(service)
        for name in model.operation_names:
            _OPERATIONS[f"{service}.{xform_name(name)}"] = model.operation_model(name)
    return _OPERATIONS[key]


_NORMALISED = {"StateTaskServiceBatch", "StateTaskServiceSfn"}


def _normalise_parameters(self: Any, parameters: dict[str, Any], boto_service_name: str | None = None,
                          service_action_name: str | None = None) -> None:
    if type(self).__name__ in _NORMALISED:
        op = _operation(self._get_boto_service_name(boto_service_name),
                        self._get_boto_service_action(service_action_name))
        self._to_boto_request(parameters, op.input_shape)


def _normalise_response(self: Any, response: Any, boto_service_name: str | None = None,
                        service_action_name: str | None = None) -> None:
    if type(self).__name__ in _NORMALISED:
        op = _operation(self._get_boto_service_name(boto_service_name),
                        self._get_boto_service_action(service_action_name))
        self._from_boto_response(response, op.output_shape)


def _put_map_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """moto 5.2.5's ``ResourceEvalS3._handle_put_object``, with the results written (patch 8)."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3,
    )

    from ..localstack.plugin.stepstone_lambda_host.stepfunctions import write_results

    parameters = env.stack.pop()
    results = env.stack.pop()  # the Map's outputs, in item order
    s3 = resource_eval_s3.ResourceEvalS3._get_s3_client(resource_runtime_part=resource_runtime_part,
                                                        state_credentials=state_credentials)
    map_run_arn = env.map_run_record_pool_manager.get_all().pop().map_run_arn
    env.stack.append(write_results(s3, parameters["Bucket"], parameters.get("Prefix") or "", map_run_arn, results))


def _task_eval_execution(self: Any, env: Any) -> None:
    """moto 5.2.5's ``StateTaskService._eval_execution``
    (moto/stepfunctions/parser/asl/component/state/exec/state_task/service/state_task_service.py),
    with its prologue (resource, parameters, credentials, then ``_before_eval_execution``:
    timeout, heartbeat, the TaskScheduled/TaskStarted events) run under the frame's state mutex.

    Why: the task runs in its own thread on a frame (``ExecutionState._evaluate_with_timeout``,
    execute_state.py) whose stack starts as a copy of the state's (its input on top). A failing
    Parallel branch stops its siblings from another thread (``BranchesDecl._eval_body`` ->
    ``BranchWorker.stop`` -> ``Environment.set_stop``, which reaches this frame), and a timed-out
    task's frame is ended. From then on every ``EvalComponent.eval`` on the frame is skipped
    ("Pruning", eval_component.py) while the code after it still pops the stack: a stop between
    two steps of the prologue hands the task the state's input as its parameters or as its
    ``timeoutInSeconds`` (the function is invoked with that as its Payload, or the history gets
    a TaskScheduled event no GetExecutionHistory can serialise). ``set_stop``/``set_ended``/
    ``set_error`` take that mutex, so under it the frame's state cannot change: a task stopped
    before it is scheduled is skipped whole (its frame's stack, the input, is its pruned output,
    as for any state a stop skips); one scheduled before the stop runs to its end, as on AWS.
    """
    with env._state_mutex:
        if not env.is_running():
            if not env.stack:
                env.stack.append(env.states.get_input())
            return
        self.resource.eval(env=env)
        resource_runtime_part = env.stack.pop()
        raw_parameters = self._eval_parameters(env=env)
        state_credentials = self._eval_state_credentials(env=env)
        self._before_eval_execution(env=env, resource_runtime_part=resource_runtime_part,
                                    raw_parameters=raw_parameters, state_credentials=state_credentials)

    normalised_parameters = copy.deepcopy(raw_parameters)
    self._normalise_parameters(normalised_parameters)
    if env.is_mocked_mode():
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.mock_eval_utils import (
            eval_mocked_response,
        )

        eval_mocked_response(env=env, mocked_response=env.get_current_mocked_response())
    else:
        self._eval_service_task(env=env, resource_runtime_part=resource_runtime_part,
                                normalised_parameters=normalised_parameters, state_credentials=state_credentials)
    self._normalise_response(env.stack[-1])
    self._after_eval_execution(env=env, resource_runtime_part=resource_runtime_part,
                               normalised_parameters=normalised_parameters, state_credentials=state_credentials)


_PARSED: dict[str, Any] = {}
_PARSE_LOCK = threading.Lock()


class MotoStepFunctions:
    """An in-process AWS (moto) that runs compiled workflows. Use as a context manager."""

    def __init__(self, *, fast: bool = True) -> None:
        self.fast = fast
        self._stack: contextlib.ExitStack | None = None
        self._lock = threading.Lock()
        self._handlers: dict[str, Handler] = {}
        self._batch: dict[str, Handler] = {}
        self._calls: list[dict[str, JSON]] = []
        self._jobs: list[dict[str, JSON]] = []
        self._waits: list[float] = []
        self._resources: dict[str, str] = {}
        self._runs = 0
        self.clients: dict[str, Any] = {}

    # --- the mock -------------------------------------------------------------------------

    def __enter__(self) -> MotoStepFunctions:
        import boto3
        from moto import mock_aws
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.batch_simple.models import BatchSimpleBackend
        from moto.stepfunctions.parser import models as sfn_models
        from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_callback as callback,
        )
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
            StateTaskService,
        )
        from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        stack = contextlib.ExitStack()
        stack.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                             "lambda": {"use_docker": False}, "batch": {"use_docker": False}}))
        harness = self

        def invoke(backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
                   response_headers: dict[str, str]) -> bytes:
            return harness._invoke(backend, function_name, qualifier, body, response_headers)

        def finish_job(backend: Any, include_start_attempt: bool, job: Any) -> None:
            harness._finish_job(backend, include_start_attempt, job)

        original_start = sfn_models.StepFunctionsParserBackend.start_execution

        def start_execution(backend: Any, state_machine_arn: str, name: str | None = None, *args: Any,
                            **kwargs: Any) -> Any:
            return original_start(backend, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)

        original_parse = AmazonStateLanguageParser.parse

        def parse(definition: str) -> Any:
            with _PARSE_LOCK:
                hit = _PARSED.get(definition)
            if hit is None:
                hit = original_parse(definition)
                with _PARSE_LOCK:
                    _PARSED[definition] = hit
            program, tree = hit
            return copy.deepcopy(program), tree

        patches: list[Any] = [
            mock.patch.object(LambdaSimpleBackend, "invoke", invoke),
            mock.patch.object(BatchSimpleBackend, "_mark_job_as_finished", finish_job),
            mock.patch.object(sfn_models.StepFunctionsParserBackend, "start_execution", start_execution),
            mock.patch.object(StateTaskService, "_normalise_parameters", _normalise_parameters),
            mock.patch.object(StateTaskService, "_normalise_response", _normalise_response),
            mock.patch.object(AmazonStateLanguageParser, "parse", staticmethod(parse)),
        ]
        if importlib.metadata.version("moto") == "5.2.5":  # _task_eval_execution is a copy of 5.2.5's
            from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
                resource_eval_s3,
            )

            patches.append(mock.patch.object(StateTaskService, "_eval_execution", _task_eval_execution))
            patches.append(mock.patch.object(resource_eval_s3.ResourceEvalS3, "_handle_put_object",
                                             staticmethod(_put_map_results)))
        if self.fast:
            clock = types.SimpleNamespace(sleep=self._waits.append, time=time.time)
            patches += [mock.patch.object(retrier_decl, "time", clock),
                        mock.patch.object(callback, "_DELAY_SECONDS_SYNC_CONDITION_CHECK", 0.01)]
        for patch in patches:
            stack.enter_context(patch)
        self._stack = stack
        for service in ("iam", "lambda", "stepfunctions", "batch", "s3"):
            self.clients[service] = boto3.client(service, region_name=REGION)
        self.role = self.clients["iam"].create_role(RoleName="stepstone-moto",
                                                    AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        self.clients["s3"].create_bucket(Bucket=BUCKET)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stack is not None
        self._stack.close()
        self._stack = None

    @property
    def sfn(self) -> Any:
        return self.clients["stepfunctions"]

    @property
    def s3(self) -> Any:
        return self.clients["s3"]

    def keys(self, prefix: str, bucket: str = BUCKET) -> list[str]:
        """The artifact bucket's keys under ``prefix``, sorted (as ``LocalStackSession.keys``)."""
        found: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    def read(self, key: str, bucket: str = BUCKET) -> bytes:
        data: bytes = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return data

    # --- what the patched services do ------------------------------------------------------

    def _invoke(self, backend: Any, function_name: str, qualifier: Any, body: Any,
                response_headers: dict[str, str]) -> bytes:
        name = _short_function_name(function_name)
        backend.get_function(name, qualifier)  # a missing function fails as on AWS
        event = json.loads(body.decode() if isinstance(body, bytes) else body or "{}")
        handler = self._handlers.get(name) or self._handlers.get("*")
        call: dict[str, JSON] = {"function": name, "event": event}
        with self._lock:
            self._calls.append(call)
        try:
            if handler is None:
                raise LambdaError("NoHandler", f"no handler for function {name!r}")
            call["result"] = handler(event)
            payload = json.dumps(call["result"])
        except Exception as exc:  # a function error: Step Functions' Error is its errorType
            error: dict[str, JSON] = {"errorType": getattr(exc, "error_type", None) or type(exc).__name__,
                     "errorMessage": str(exc), "stackTrace": []}
            call["error"] = error
            response_headers["x-amz-function-error"] = "Unhandled"
            payload = json.dumps(error)
        data = payload.encode()
        response_headers["Content-Length"] = str(len(data))
        return data

    def _finish_job(self, backend: Any, include_start_attempt: bool, job: Any) -> None:
        import datetime

        backend.backend._jobs[job.job_id] = job
        job.job_started_at = datetime.datetime.now()
        job.log_stream_name = job._stream_name
        if include_start_attempt:
            job._start_attempt()
        overrides = job.container_overrides or {}
        variables = overrides.get("environment", overrides.get("Environment", [])) or []
        env = {v.get("name") or v.get("Name"): v.get("value", v.get("Value")) for v in variables}
        info: dict[str, JSON] = {"definition": job.job_definition.name, "environment": env}
        with self._lock:
            self._jobs.append(info)
        handler = self._batch.get(job.job_definition.name) or self._batch.get("*")
        succeeded = True
        if handler is not None:
            try:
                info["result"] = handler(env)
            except Exception as exc:
                info["error"] = f"{type(exc).__name__}: {exc}"
                succeeded = False
        job._mark_stopped(success=succeeded)

    # --- resources the ${...} placeholders name ----------------------------------------------

    def resource(self, placeholder: str, children: Mapping[str, JSON]) -> str:
        if placeholder in self._resources:
            return self._resources[placeholder]
        lam, batch = self.clients["lambda"], self.clients["batch"]
        if placeholder.startswith("Function_") or placeholder == "ApprovalFunction":
            import io
            import zipfile

            code = io.BytesIO()
            with zipfile.ZipFile(code, "w") as archive:
                archive.writestr("index.py", "def handler(event, context):\n    return event\n")
            name = placeholder.removeprefix("Function_")
            value = lam.create_function(FunctionName=name, Runtime="python3.12", Role=self.role,
                                        Handler="index.handler", Code={"ZipFile": code.getvalue()})["FunctionArn"]
        elif placeholder.startswith("JobQueue_") and "JobQueue" in self._resources:  # one queue for all the jobs
            value = self._resources["JobQueue"]
        elif placeholder.startswith("JobQueue_"):
            environment = batch.create_compute_environment(computeEnvironmentName="stepstone", type="UNMANAGED",
                                                           state="ENABLED", serviceRole=self.role)
            value = batch.create_job_queue(jobQueueName="stepstone", state="ENABLED", priority=1,
                                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment":
                                                                     environment["computeEnvironmentArn"]}]
                                           )["jobQueueArn"]
            self._resources["JobQueue"] = value
        elif placeholder.startswith("JobDefinition_"):
            value = batch.register_job_definition(
                jobDefinitionName=placeholder.removeprefix("JobDefinition_"), type="container",
                containerProperties={"image": "stepstone-runner", "vcpus": 1, "memory": 128, "command": ["true"]},
            )["jobDefinitionArn"]
        elif placeholder == "ArtifactBucket":
            value = BUCKET
        elif placeholder.startswith("Workflow_") and placeholder.removeprefix("Workflow_") in children:
            child = self.substitute(children[placeholder.removeprefix("Workflow_")], children)
            value = self.sfn.create_state_machine(name=placeholder, definition=json.dumps(child),
                                                  roleArn=self.role)["stateMachineArn"]
        else:
            raise KeyError(f"no resource for ${{{placeholder}}}")
        self._resources[placeholder] = value
        return str(value)

    def substitute(self, definition: JSON, children: Mapping[str, JSON] | None = None) -> JSON:
        text = json.dumps(definition)
        return json.loads(_PLACEHOLDER.sub(lambda m: self.resource(m.group(1), children or {}), text))

    # --- runs ------------------------------------------------------------------------------

    def run(self, definition: JSON, params: JSON, *, handlers: Mapping[str, Handler],
            batch: Mapping[str, Handler] | None = None, children: Mapping[str, JSON] | None = None,
            timeout: float = 60.0) -> MotoRun:
        """Start one execution of an ASL definition and wait for it to end."""
        self._handlers, self._batch = dict(handlers), dict(batch or {})
        self._calls, self._jobs, self._waits[:] = [], [], []
        self._runs += 1
        machine = self.sfn.create_state_machine(name=f"stepstone-{self._runs}",
                                                definition=json.dumps(self.substitute(definition, children)),
                                                roleArn=self.role)["stateMachineArn"]
        arn = self.sfn.start_execution(stateMachineArn=machine, name=f"run-{self._runs}",
                                       input=json.dumps(params))["executionArn"]
        deadline = time.monotonic() + timeout
        while (described := self.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                self.sfn.stop_execution(executionArn=arn, error="Timeout")
                break
            time.sleep(0.005)
        history = self.history(arn)
        status = described["status"]
        output: JSON = None
        error, cause = described.get("error"), described.get("cause")
        for event in reversed(history):  # moto's describe_execution drops some outputs: read the history
            details = event.get("executionSucceededEventDetails")
            if details is not None:
                output = json.loads(details["output"]) if "output" in details else None
                break
            failed = event.get("executionFailedEventDetails")
            if failed is not None and error is None:
                error, cause = failed.get("error"), failed.get("cause")
        states = [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
        return MotoRun(status, output, states, error, cause, list(self._calls), list(self._jobs), history, arn,
                       list(self._waits))

    def history(self, arn: str) -> list[dict[str, JSON]]:
        events: list[dict[str, JSON]] = []
        kwargs: dict[str, JSON] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = self.sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            if not page.get("nextToken"):
                return events
            kwargs["nextToken"] = page["nextToken"]

    # --- compiled workflows with their real steps ------------------------------------------

    def run_workflow(self, definition: Any, params: Mapping[str, JSON] | None = None, *,
                     approve: bool = True, timeout: float = 60.0, checked: bool = True) -> MotoRun:
        """Compile a ``@workflow`` (and the workflows it calls) and run it with its real steps.

        Lambda and Batch steps run through the step runner with moto's S3 as the artifact
        bucket; an approval gate is answered ``approve`` through its task token. ``checked``:
        the parameters are validated and the defaults filled in first, as ``stepstone run``
        does; False starts the run with ``params`` as given, as the console or an SDK does.
        """
        from compiler import compile_workflow
        from compiler.protocol import StepPayload, batch_payload
        from lambdas.errors import StepFailedError
        from lambdas.runner import run_step
        from lambdas.store import S3Store

        store = S3Store(BUCKET, self.s3)

        def step(event: JSON) -> JSON:
            try:
                return run_step(StepPayload.decode(event), store)
            except StepFailedError as failed:
                raise LambdaError(failed.error, failed.cause) from None

        def job(env: JSON) -> JSON:
            return run_step(batch_payload(env), store)

        def approval(event: JSON) -> JSON:
            answer = {"approved": approve, "approver": "moto", "comment": ""}
            threading.Timer(0.05, lambda: self.sfn.send_task_success(taskToken=event["token"],
                                                                      output=json.dumps(answer))).start()
            return {}

        children = dict(_called_workflows(definition, compile_workflow))
        asl = compile_workflow(definition).definition
        given = dict(params or {})
        return self.run(asl, definition.validate_params(given) if checked else given,
                        handlers={"*": step, "ApprovalFunction": approval}, batch={"*": job}, children=children,
                        timeout=timeout)


def _called_workflows(definition: Any, compile_workflow: Callable[[Any], Any]) -> Iterator[tuple[str, JSON]]:
    """Each workflow ``definition`` calls (transitively), compiled: the child state machines."""
    from compiler.pipeline import nested_workflows

    for callee in nested_workflows(definition):
        yield callee.name, compile_workflow(callee).definition
