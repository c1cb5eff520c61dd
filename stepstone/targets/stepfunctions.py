"""Runs in Step Functions, on LocalStack or on AWS: one target, told apart by its clients
(the endpoint and credentials) and its :class:`Profile` (what that place can do).

Start a run, follow it into the same live view as the local target, list and find runs,
read their steps' logs, redrive a failed one, answer approval gates. Everything is read
back from Step Functions (executions and their histories), CloudWatch Logs and the artifact
bucket; nothing is kept on the side.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from compiler.asl.walk import task_functions
from compiler.deployment.names import BUCKET_TAG, COMMENT_PREFIX, LOCAL_ARTIFACT_BUCKET, WORKFLOW_TAG, log_group
from compiler.dsl.workflows import WorkflowDef
from compiler.protocol import (
    ApprovalRequest,
    RedriveRecord,
    RedriveStep,
    approval_key,
    cache_prefix,
    machine_of,
    redrive_key,
    redrive_run_id,
    run_id_of,
    run_input,
    run_name,
    run_prefix,
    split_input,
    trigger_text,
)
from lambdas.store import S3Store

from ..errors import DeployError, NoSuchRunError, NothingToDoError, RunInterruptedError, TargetError
from ..localstack.clients import Clients
from ..records import Event, RunRecord, RunStatus, new_run_id
from .base import Answer, OnEvent, OnWaiting, RunRequest, RunSummary, Say, Started, StepLog, Target, TargetName
from .executions import ExpressRun, StandardRun, describe_from_events, express_events, source
from .history import STATUS, History
from .steplogs import invocations

__all__ = ["AWS", "LOCALSTACK", "Profile", "StepFunctionsTarget"]

JSON = Any
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Profile:
    """What one place that runs Step Functions can do, and how to say what to do there."""

    name: TargetName
    label: str
    redrive_execution: bool  # RedriveExecution exists; elsewhere a new run goes on, reusing what finished
    log_margin_ms: int | None  # how long after a run its steps' log lines may be stamped (None: no bound)
    console: bool  # runs have a page in the Step Functions console
    deploys_on_run: bool  # `stepstone run` deploys the workflow there first (the quick deployer)
    batch_as_lambda: bool  # Batch steps run as Lambda functions there
    deploy_hint: str
    unreachable_hint: str


LOCALSTACK = Profile(
    name="localstack", label="LocalStack", redrive_execution=False,
    # AWS stamps a line when it is printed; LocalStack when it stores an invocation's logs (one
    # queue a function, one PutLogEvents an invocation), which falls behind under load: 25 s
    # behind after a 500-item fan-out. So no bound there.
    log_margin_ms=None, console=False, deploys_on_run=True, batch_as_lambda=True,
    deploy_hint="deploy it first: `stepstone run FILE --target localstack` (or `stepstone deploy --localstack`)",
    unreachable_hint="is LocalStack running? `stepstone localstack status`; else start it with "
                     "`stepstone localstack up`")
AWS = Profile(
    name="aws", label="AWS", redrive_execution=True, log_margin_ms=5000, console=True, deploys_on_run=False,
    batch_as_lambda=False, deploy_hint="deploy it first: `stepstone deploy`",
    unreachable_hint="check your credentials and region: `aws sts get-caller-identity`")


class StepFunctionsTarget(Target):
    def __init__(self, aws: Clients, profile: Profile) -> None:
        self.aws = aws
        self.profile = profile
        self.name = profile.name
        self.label = profile.label
        self._buckets: dict[str, str] = {}
        self._machines: dict[tuple[str, str], str] = {}  # (workflow, run) -> the state machine it ran in

    @property
    def flag(self) -> str:
        return f" --target {self.name}"

    @property
    def runs_place(self) -> str:
        return f"on {self.label}"

    logs_note = " (CloudWatch Logs may take a few seconds)"

    @property
    def unreachable_hint(self) -> str:
        return self.profile.unreachable_hint

    def check(self) -> None:
        self.aws.check()

    def console_url(self, run: str) -> str | None:
        if not self.profile.console:
            return None
        arn = self.arn(run)
        region = arn.split(":")[3]
        return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{arn}"

    # --- finding ------------------------------------------------------------------------

    def arn(self, run: str) -> str:
        """The execution ARN of a run named by its ARN, its id or a unique prefix of its id."""
        return run if run.startswith("arn:") else self.find(run)

    def find(self, run_id: str) -> str:
        """The execution ARN of the run with this id (or the only one whose id starts with it)."""
        executions = self.executions()
        matches = [e for e in executions if e["name"] == run_id] or [
            e for e in executions if e["name"].startswith(run_id)]
        if len(matches) != 1:
            raise NoSuchRunError(f"no run {run_id!r} on {self.label}",
                                 f"list runs with `stepstone runs{self.flag}`")
        return str(matches[0]["executionArn"])

    def exists(self, run_id: str) -> bool:
        return any(e["name"] == run_id for e in self.executions())

    def state_machines(self) -> list[dict[str, JSON]]:
        """The state machines of stepstone workflows here, each with its ``workflow`` name (its
        definition is read once): compiled by stepstone (the definition's Comment says so), or
        tagged with their workflow by the deployer."""
        sfn = self.aws.sfn
        machines = []
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                arn = machine["stateMachineArn"]
                comment = str(self.definition(arn).get("Comment", ""))
                if comment.startswith(COMMENT_PREFIX):
                    machines.append({**machine, "workflow": comment[len(COMMENT_PREFIX):].split()[0]})
                elif any(t.get("key") == WORKFLOW_TAG for t in self._tags(arn)):
                    machines.append({**machine, "workflow": machine["name"]})
        return machines

    def state_machine(self, workflow: str) -> str:
        """The ARN of the deployed state machine of ``workflow``."""
        for machine in self.state_machines():
            if machine["workflow"] == workflow:
                return str(machine["stateMachineArn"])
        raise NoSuchRunError(f"{workflow} is not deployed on {self.label}", self.profile.deploy_hint)

    def executions(self, workflow: str | None = None,
                   machines: list[dict[str, JSON]] | None = None) -> list[dict[str, JSON]]:
        """Every run of stepstone's state machines (``machines``, default all; of ``workflow``),
        newest first, as ListExecutions lists them (Express runs from their logs)."""
        found: list[dict[str, JSON]] = []
        for machine in self.state_machines() if machines is None else machines:
            if workflow and machine["workflow"] != workflow:
                continue
            if machine.get("type") == "EXPRESS":
                for arn, events in express_events(self.aws, log_group(machine["name"])).items():
                    described = describe_from_events(arn, events)
                    if "startDate" in described:
                        found.append(described)
                continue
            for page in self.aws.sfn.get_paginator("list_executions").paginate(
                    stateMachineArn=machine["stateMachineArn"]):
                found.extend(page["executions"])
        return sorted(found, key=lambda e: e["startDate"], reverse=True)

    # --- reading ------------------------------------------------------------------------

    def bucket(self, state_machine: str) -> str:
        """Where a workflow's runs keep their artifacts: its ``stepstone:bucket`` tag (the
        deployer's), else what its step functions are told (``cdk deploy``'s; CloudFormation
        on LocalStack drops state machine tags), else the quick deployer's bucket."""
        if state_machine not in self._buckets:
            found = [t["value"] for t in self._tags(state_machine) if t.get("key") == BUCKET_TAG]
            if not found:
                for function in task_functions(self.definition(state_machine))[:1]:
                    settings = self.aws.lambda_.get_function_configuration(FunctionName=function)
                    bucket = settings.get("Environment", {}).get("Variables", {}).get("STEPSTONE_ARTIFACT_BUCKET")
                    found = [bucket] if bucket else []
            self._buckets[state_machine] = found[0] if found else LOCAL_ARTIFACT_BUCKET
        return self._buckets[state_machine]

    def _tags(self, state_machine: str) -> list[dict[str, str]]:
        try:
            tags: list[dict[str, str]] = self.aws.sfn.list_tags_for_resource(resourceArn=state_machine).get("tags", [])
        except self.aws.sfn.exceptions.ResourceNotFound:
            return []
        return tags

    def lineage(self, key: str, bucket: str = LOCAL_ARTIFACT_BUCKET) -> JSON:
        """A JSON object of the artifact bucket (None when it is not there)."""
        s3 = self.aws.s3
        try:
            return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
            return None

    def source(self, arn: str) -> StandardRun | ExpressRun:
        return source(self.aws, arn)

    def definition(self, state_machine: str) -> dict[str, JSON]:
        described = self.aws.sfn.describe_state_machine(stateMachineArn=state_machine)
        definition: dict[str, JSON] = json.loads(described["definition"])
        return definition

    def history(self, execution: Mapping[str, JSON]) -> History:
        """A reader of the run DescribeExecution (or its logs) describes."""
        bucket = self.bucket(execution["stateMachineArn"])
        history = History(execution, self.definition(execution["stateMachineArn"]),
                          lambda key: self.lineage(key, bucket))
        record = history.record
        record.target, record.where, record.batch_as_lambda = self.name, self.label, self.profile.batch_as_lambda
        self._machines[(record.workflow, record.run_id)] = str(execution["stateMachineArn"])
        return history

    def read(self, arn: str) -> History:
        """The run as it is now: described and every event so far read, once each."""
        described, events = self.source(arn).poll()
        history = self.history(described)
        for _ in history.feed(events):
            pass
        return history

    def record(self, run: str) -> RunRecord:
        return self.read(self.arn(run)).record

    def artifacts(self, record: RunRecord) -> str:
        machine = self._machines.get((record.workflow, record.run_id)) or self.state_machine(record.workflow)
        bucket = self.bucket(machine)
        return f"s3://{bucket}/{run_prefix(record.workflow, record.run_id)}"

    def value_store(self, record: RunRecord) -> S3Store:
        machine = self._machines.get((record.workflow, record.run_id)) or self.state_machine(record.workflow)
        return S3Store(self.bucket(machine), self.aws.s3)

    def runs(self, workflow: str | None = None, status: RunStatus | None = None, since: datetime | None = None,
             limit: int = 20) -> list[RunSummary]:
        rows: list[RunSummary] = []
        machines = self.state_machines()
        names = {str(m["stateMachineArn"]): str(m["workflow"]) for m in machines}
        for execution in self.executions(workflow, machines):
            name = names.get(str(execution["stateMachineArn"]), "")
            state = STATUS.get(execution["status"], "running")
            if (workflow and name != workflow) or (status and state != status) or (
                    since and execution["startDate"] < since):
                continue
            described = execution if "input" in execution else self.source(execution["executionArn"]).describe()
            _, started_by = split_input(json.loads(described.get("input") or "null"))
            stop = execution.get("stopDate")
            rows.append(RunSummary(execution["name"], name, state, execution["startDate"],
                                   (stop - execution["startDate"]).total_seconds() * 1000 if stop else None,
                                   trigger_text(started_by)))
            if len(rows) >= limit:
                break
        return rows

    def logs(self, run: str, step: str | None = None) -> list[StepLog]:
        """What each attempt printed and logged, from its function's CloudWatch Logs: the
        invocations whose step-runner log line names this execution, START to REPORT."""
        arn = self.arn(run)
        described = self.source(arn).describe()
        start = int(described["startDate"].timestamp() * 1000) - 1000
        stop = described.get("stopDate")
        margin = self.profile.log_margin_ms
        end = int(stop.timestamp() * 1000) + margin if stop and margin is not None else None
        found: list[StepLog] = []
        for function in task_functions(self.definition(described["stateMachineArn"])):
            found.extend(invocations(self.aws, "/aws/lambda/" + function.rsplit(":", 1)[-1], arn, start, end))
        if step is not None:
            found = [s for s in found if step in (s.key, s.key.rsplit("/", 1)[-1]) or s.key.startswith(step + "/")]
        return sorted(found, key=lambda s: (s.key, s.attempt))

    # --- running ------------------------------------------------------------------------

    def start(self, state_machine: str, run_id: str, params: Mapping[str, JSON],
              trigger: Mapping[str, JSON] | None = None) -> str:
        """Start a run of ``state_machine``; returns its execution ARN."""
        document = run_input(dict(params), dict(trigger or {"kind": "manual"}))
        arn: str = self.aws.sfn.start_execution(stateMachineArn=state_machine, name=run_id,
                                                input=json.dumps(document))["executionArn"]
        return arn

    def refusal(self, request: RunRequest) -> TargetError | None:
        if request.resume or request.debug:
            used = "--resume" if request.resume else "--debug"
            return TargetError(f"{used} is for the local target; on {self.label} the run lives in Step Functions",
                               f"leave it out, or run with --target local (a failed run goes on with "
                               f"`stepstone redrive RUN{self.flag}`)")
        if not self.profile.deploys_on_run:
            return TargetError(f"stepstone run deploys to LocalStack; on {self.label} the CDK app deploys",
                               f"`stepstone deploy`, then `stepstone trigger {request.definition.name}{self.flag}`")
        return None

    def run(self, request: RunRequest, on_event: OnEvent, answer: Answer | None, on_waiting: OnWaiting,
            say: Say) -> RunRecord:
        """Deploy (the quick deployer: state machine, step functions, bucket, trigger rules; left
        deployed), start and follow."""
        refused = self.refusal(request)
        if refused is not None:
            raise refused
        from ..localstack.deploy import Deployer

        try:
            deployed = Deployer(self.aws, progress=say, faults=request.faults).deploy(request.definition)
        except DeployError as exc:
            raise TargetError(str(exc)) from None
        changed = [*(c for child in deployed.children for c in child.changed), *deployed.changed]
        say(f"deployed {deployed.workflow} to {self.label} in {deployed.seconds:.1f} s ({len(changed)} change"
            f"{'s' if len(changed) != 1 else ''})")
        for name in deployed.batch_as_lambda:
            say(f"{name} runs on AWS Batch; {self.label} has no Batch, so here it runs as a Lambda function")
        if request.refresh_cache:
            store = S3Store(self.bucket(deployed.state_machine), self.aws.s3)
            cleared = store.delete(store.keys(cache_prefix(deployed.workflow)))
            say(f"cleared {cleared} cached result{'s' if cleared != 1 else ''} of {deployed.workflow}")
        run_id = request.run_id or run_name(new_run_id(), request.trigger)  # the name says what started it
        arn = self.start(deployed.state_machine, run_id, request.params or {}, request.trigger)
        say(f"running {deployed.workflow} as run {run_id} ({self.label}, artifacts in "
            f"s3://{self.bucket(deployed.state_machine)}/{run_prefix(deployed.workflow, run_id)})")
        return self.follow(arn, on_event, answer, on_waiting)

    def trigger(self, spec: str, definition: WorkflowDef[..., Any], params: Mapping[str, Any],
                trigger: Mapping[str, Any]) -> Started:
        arn = self.start(self.state_machine(definition.name), run_name(new_run_id(), trigger), params, trigger)
        return Started(run_id_of(arn), definition.name, self.console_url(arn))

    def redrive(self, run: str) -> Started:
        """Go on with a failed run without running again what finished. Step Functions'
        RedriveExecution where it can (a Standard run where the profile has it: same
        execution, same id); elsewhere (LocalStack has no RedriveExecution; Express runs
        cannot be redriven) a new run ``<id>_r1`` with the same parameters, told through the
        artifact bucket which run it continues: the step runner then reuses each finished
        step's output (same code, same inputs) instead of running it."""
        arn = self.arn(run)
        described = self.source(arn).describe()
        old = run_id_of(arn)
        if described.get("status") in ("RUNNING", "SUCCEEDED"):
            raise NothingToDoError(f"run {old} is {str(described['status']).lower()}; only a failed, timed out or "
                                   "aborted run can be redriven")
        machine = str(described["stateMachineArn"])
        previous = self.read(arn).record
        workflow = previous.workflow
        if self.profile.redrive_execution and ":express:" not in arn:
            self.aws.sfn.redrive_execution(executionArn=arn)
            return Started(old, workflow, self.console_url(arn), continues=old)
        new_id = redrive_run_id(old)
        while self.exists(new_id):
            new_id = redrive_run_id(new_id)
        reuse = {key: RedriveStep(step.envelope if isinstance(step.envelope, dict) else None, step.status,
                                  step.attempts - 1)
                 for key, step in previous.steps.items()
                 if step.status in ("succeeded", "cached", "reused") and step.step != "approve"
                 and (step.batch or isinstance(step.envelope, dict))}
        self.aws.s3.put_object(Bucket=self.bucket(machine), Key=redrive_key(previous.workflow, new_id),
                               Body=RedriveRecord(from_run=previous.run_id, steps=reuse).encode())
        params, _ = split_input(json.loads(described.get("input") or "{}"))
        went_on = self.start(machine, new_id, params, {"kind": "redrive", "run": previous.run_id})
        return Started(new_id, workflow, self.console_url(went_on), continues=old, same=False,
                       note="finished steps reuse their outputs")

    def follow(self, run: str, on_event: OnEvent, answer: Answer | None = None,
               on_waiting: OnWaiting | None = None, timeout: float | None = None) -> RunRecord:
        """Poll the run until it ends (see :meth:`Target.follow`)."""
        arn = self.arn(run)
        deadline = None if timeout is None else time.monotonic() + timeout
        runs = self.source(arn)
        try:
            described, events = runs.poll()
            history = self.history(described)
            record = history.record
            asked: set[str] = set()
            on_event(Event("run", record))
            while True:
                for step, note in history.feed(events):
                    on_event(Event("step", record, step, note))
                for key, question in list(history.waiting.items()):
                    if key in asked:
                        continue
                    asked.add(key)
                    step = record.steps[key]
                    on_event(Event("approval", record, step, question))
                    decision = answer(question, step.state) if answer else None
                    if decision is None:
                        if on_waiting:
                            on_waiting(step.state, question)
                    else:
                        self._send(arn, step.state, decision, approver="stepstone run")
                if record.status != "running":
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"run {record.run_id} still runs after {timeout:.0f} s")
                time.sleep(POLL_SECONDS)
                described, events = runs.poll()  # described first: a finished run's events are all there
                history.describe(described)
        except KeyboardInterrupt:
            raise RunInterruptedError(run_id_of(arn), goes_on=True) from None
        on_event(Event("run", record))
        return record

    # --- approvals ----------------------------------------------------------------------

    def approval_request(self, arn: str, state: str, wait: float = 5.0) -> ApprovalRequest:
        """The request the approval function left for this gate of the run ``arn`` (it may
        take a moment to land)."""
        deadline = time.monotonic() + wait
        machine = machine_of(arn)
        key = approval_key(machine.rsplit(":", 1)[-1], run_id_of(arn), state)
        while True:
            request = self.lineage(key, self.bucket(machine))
            if isinstance(request, dict) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if not isinstance(request, dict):
            raise NoSuchRunError(f"the approval request of {state} is not in the artifact bucket yet",
                                 "try again in a moment")
        return ApprovalRequest.decode(request)

    def _send(self, arn: str, state: str, approved: bool, *, approver: str, comment: str = "") -> None:
        """Answer a gate with SendTaskSuccess: the workflow reads ``approved`` and decides."""
        request = self.approval_request(arn, state)
        if not request.token:
            raise NoSuchRunError(f"the approval request of {state} holds no task token")
        answer = {"approved": approved, "approver": approver, "comment": comment}
        self.aws.sfn.send_task_success(taskToken=request.token, output=json.dumps(answer))

    def answer(self, run: str, state: str, approved: bool, *, approver: str, comment: str = "") -> None:
        self._send(self.arn(run), state, approved, approver=approver, comment=comment)

    def pending_approvals(self, run: str) -> tuple[str, dict[str, str]]:
        arn = self.arn(run)
        history = self.read(arn)
        return run_id_of(arn), {history.record.steps[key].state: question for key, question in history.waiting.items()}
