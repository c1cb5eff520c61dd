"""Runs in Step Functions, on LocalStack or on AWS: start one, follow it into the same live
view as the local target, list and find runs, read their steps' logs, redrive a failed one,
answer approval gates. Everything is read back from Step Functions (executions and their
histories), CloudWatch Logs and the artifact bucket; nothing is kept on the side.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from compiler.protocol import (
    ApprovalRequest,
    RedriveRecord,
    RedriveStep,
    approval_key,
    machine_of,
    redrive_key,
    run_id_of,
    run_input,
    split_input,
)

from ..local.executor import Event
from ..local.records import RunRecord
from .clients import AwsClients, Clients, clients
from .deploy import ARTIFACT_BUCKET, BUCKET_TAG, TAG, log_group
from .harness import LocalStack, LocalStackError
from .history import History

__all__ = ["Answer", "AwsTarget", "LocalStackTarget", "NoSuchRun", "StepLog", "TargetError"]

JSON = Any
Answer = Callable[[str, str], bool | None]  # (question, state) -> approved? None: leave it waiting
POLL_SECONDS = 0.25
COMMENT = "stepstone workflow "  # how every compiled definition begins its Comment


class NoSuchRun(LookupError):
    """No run of that id on LocalStack."""


class TargetError(Exception):
    """Step Functions cannot be reached, or refuses: the message says why, the hint what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class StepLog:
    """What one attempt of a step printed and logged (one Lambda invocation)."""

    key: str  # [map_path/]state
    attempt: int
    lines: tuple[str, ...]


_FUNCTION = re.compile(r"arn:aws:lambda:[^:\"]+:\d+:function:[A-Za-z0-9_-]+")


_TERMINAL = {"ExecutionSucceeded": "SUCCEEDED", "ExecutionFailed": "FAILED", "ExecutionTimedOut": "TIMED_OUT",
             "ExecutionAborted": "ABORTED"}


def _details_key(kind: str) -> str:
    if kind.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if kind.endswith("StateExited"):
        return "stateExitedEventDetails"
    return kind[0].lower() + kind[1:] + "EventDetails"


def history_event(message: dict[str, JSON]) -> dict[str, JSON]:
    """A logged execution event (Express workflows, CloudWatch Logs) in GetExecutionHistory's shape."""
    kind = str(message["type"])
    return {"id": int(message["id"]), "previousEventId": int(message.get("previous_event_id") or 0), "type": kind,
            "timestamp": datetime.fromisoformat(str(message["event_timestamp"])),
            _details_key(kind): message.get("details") or {}}


def describe_from_events(arn: str, events: list[dict[str, JSON]]) -> dict[str, JSON]:
    """What DescribeExecution would say of a run, from its events (Express runs have no DescribeExecution)."""
    described: dict[str, JSON] = {"executionArn": arn, "name": run_id_of(arn), "status": "RUNNING",
                                  "stateMachineArn": machine_of(arn)}
    for event in events:
        kind = event["type"]
        details = event.get(_details_key(kind)) or {}
        if kind == "ExecutionStarted":
            described.update(startDate=event["timestamp"], input=details.get("input"))
        elif kind in _TERMINAL:
            described.update(status=_TERMINAL[kind], stopDate=event["timestamp"], output=details.get("output"),
                             error=details.get("error"), cause=details.get("cause"))
    return described


class StandardRun:
    """A Standard workflow's run: DescribeExecution and GetExecutionHistory."""

    def __init__(self, aws: Clients, arn: str) -> None:
        self.aws, self.arn = aws, arn

    def describe(self) -> dict[str, JSON]:
        described: dict[str, JSON] = self.aws.sfn.describe_execution(executionArn=self.arn)
        return described

    def poll(self) -> tuple[dict[str, JSON], list[dict[str, JSON]]]:
        """The run as described now, and its events so far (described first: no event is missed)."""
        described = self.describe()
        return described, self.events()

    def events(self) -> list[dict[str, JSON]]:
        found: list[dict[str, JSON]] = []
        token: str | None = None
        while True:
            page = self.aws.sfn.get_execution_history(executionArn=self.arn, maxResults=1000,
                                                      **({"nextToken": token} if token else {}))
            found.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return found


class ExpressRun:
    """An Express workflow's run: its events as its state machine logged them to CloudWatch Logs."""

    def __init__(self, aws: Clients, arn: str) -> None:
        self.aws, self.arn = aws, arn
        self.group = log_group(arn.split(":")[6])

    def events(self) -> list[dict[str, JSON]]:
        return express_events(self.aws, self.group).get(self.arn, [])

    def describe(self) -> dict[str, JSON]:
        return describe_from_events(self.arn, self.events())

    def poll(self) -> tuple[dict[str, JSON], list[dict[str, JSON]]]:
        events = self.events()  # one read of the log group for both
        return describe_from_events(self.arn, events), events


def express_events(aws: Clients, group: str) -> dict[str, list[dict[str, JSON]]]:
    """Every logged execution event in ``group``, by execution ARN, in order."""
    by_run: dict[str, list[dict[str, JSON]]] = {}
    logs = aws.logs
    try:
        for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
            for item in page.get("events", []):
                try:
                    message = json.loads(item["message"])
                    by_run.setdefault(str(message["execution_arn"]), []).append(history_event(message))
                except (ValueError, KeyError, TypeError):
                    continue
    except logs.exceptions.ResourceNotFoundException:
        return {}
    for events in by_run.values():
        events.sort(key=lambda e: e["id"])
    return by_run


class LocalStackTarget:
    where = "localstack"
    label = "LocalStack"
    # How long after a run ends its steps' log events can be stamped. AWS stamps a line when it
    # is printed; LocalStack when it stores an invocation's logs (one queue a function, one
    # PutLogEvents an invocation), which falls behind under load: 25 s behind after a 500-item
    # fan-out. So no bound here.
    log_margin_ms: int | None = None

    def __init__(self, aws: Clients | None = None) -> None:
        self.aws = aws or clients()
        self._buckets: dict[str, str] = {}

    def check(self) -> None:
        """Raise :class:`LocalStackError` with what to do when LocalStack is not answering."""
        harness = LocalStack(host=self.aws.host)
        if harness.health() is None:
            raise LocalStackError(f"LocalStack is not running on {self.aws.host}")

    def console_url(self, arn: str) -> str | None:
        """Where a person sees the run in a browser (the Step Functions console on AWS)."""
        return None

    # --- reading ------------------------------------------------------------------------

    def bucket(self, state_machine: str) -> str:
        """Where a workflow's runs keep their artifacts: its ``stepstone:bucket`` tag (the
        deployer's), else what its step functions are told (``cdk deploy``'s; CloudFormation
        on LocalStack drops state machine tags), else the deployer's default."""
        if state_machine not in self._buckets:
            found = [t["value"] for t in self._tags(state_machine) if t.get("key") == BUCKET_TAG]
            if not found:
                functions = re.findall(r"arn:aws:lambda:[^:\"]+:\d+:function:[A-Za-z0-9_-]+",
                                       json.dumps(self.definition(state_machine)))
                for function in functions[:1]:
                    settings = self.aws.lambda_.get_function_configuration(FunctionName=function)
                    bucket = settings.get("Environment", {}).get("Variables", {}).get("STEPSTONE_ARTIFACT_BUCKET")
                    found = [bucket] if bucket else []
            self._buckets[state_machine] = found[0] if found else ARTIFACT_BUCKET
        return self._buckets[state_machine]

    def _tags(self, state_machine: str) -> list[dict[str, str]]:
        try:
            tags: list[dict[str, str]] = self.aws.sfn.list_tags_for_resource(resourceArn=state_machine).get("tags", [])
        except self.aws.sfn.exceptions.ResourceNotFound:
            return []
        return tags

    def lineage(self, key: str, bucket: str = ARTIFACT_BUCKET) -> JSON:
        s3 = self.aws.s3
        try:
            return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except (s3.exceptions.NoSuchKey, s3.exceptions.NoSuchBucket):
            return None

    def source(self, arn: str) -> StandardRun | ExpressRun:
        return ExpressRun(self.aws, arn) if ":express:" in arn else StandardRun(self.aws, arn)

    def definition(self, state_machine: str) -> dict[str, JSON]:
        described = self.aws.sfn.describe_state_machine(stateMachineArn=state_machine)
        definition: dict[str, JSON] = json.loads(described["definition"])
        return definition

    def history(self, execution: dict[str, JSON]) -> History:
        """A reader of the run DescribeExecution (or its logs) describes."""
        bucket = self.bucket(execution["stateMachineArn"])
        history = History(execution, self.definition(execution["stateMachineArn"]),
                          lambda key: self.lineage(key, bucket))
        history.record.target = self.where
        return history

    def read(self, arn: str) -> History:
        """The run as it is now: described and every event so far read, once each."""
        described, events = self.source(arn).poll()
        history = self.history(described)
        for _ in history.feed(events):
            pass
        return history

    def record(self, arn: str) -> RunRecord:
        return self.read(arn).record

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
                if comment.startswith(COMMENT):
                    machines.append({**machine, "workflow": comment[len(COMMENT):].split()[0]})
                elif any(t.get("key") == TAG for t in self._tags(arn)):
                    machines.append({**machine, "workflow": machine["name"]})
        return machines

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
            paginator = self.aws.sfn.get_paginator("list_executions")
            for page in paginator.paginate(stateMachineArn=machine["stateMachineArn"]):
                found.extend(page["executions"])
        return sorted(found, key=lambda e: e["startDate"], reverse=True)

    def state_machine(self, workflow: str) -> str:
        """The ARN of the deployed state machine of ``workflow``; NoSuchRun when it is not deployed."""
        for machine in self.state_machines():
            if machine["workflow"] == workflow:
                return str(machine["stateMachineArn"])
        raise NoSuchRun(workflow)

    def exists(self, run_id: str) -> bool:
        return any(e["name"] == run_id for e in self.executions())

    def find(self, run_id: str) -> str:
        """The execution ARN of the run with this id (or the only one whose id starts with it)."""
        executions = self.executions()
        matches = [e for e in executions if e["name"] == run_id] or [
            e for e in executions if e["name"].startswith(run_id)]
        if len(matches) != 1:
            raise NoSuchRun(run_id)
        return str(matches[0]["executionArn"])

    # --- running ------------------------------------------------------------------------

    def start(self, state_machine: str, run_id: str, params: dict[str, JSON],
              trigger: dict[str, JSON] | None = None) -> str:
        document = run_input(params, trigger or {"kind": "manual"})
        arn: str = self.aws.sfn.start_execution(stateMachineArn=state_machine, name=run_id,
                                                input=json.dumps(document))["executionArn"]
        return arn

    def redrive(self, arn: str, run_id: str) -> str:
        """Go on with a failed run without running again what finished. Step Functions'
        RedriveExecution where it can (a Standard run on AWS: same execution, same id);
        elsewhere (LocalStack has no RedriveExecution; Express runs cannot be redriven) a new
        run ``run_id`` with the same parameters, told through the artifact bucket which run it
        continues: the step runner then reuses each finished step's output (same code, same
        inputs) instead of running it. Returns the ARN of the execution that goes on."""
        described = self.source(arn).describe()
        if described.get("status") in ("RUNNING", "SUCCEEDED"):
            raise TargetError(f"run {run_id_of(arn)} is {str(described['status']).lower()}; only a failed, timed out "
                              "or aborted run can be redriven")
        if self.where == "aws" and ":express:" not in arn:
            self.aws.sfn.redrive_execution(executionArn=arn)
            return arn
        previous = self.read(arn).record
        reuse = {key: RedriveStep(step.envelope if isinstance(step.envelope, dict) else None, step.status,
                                  step.attempts - 1)
                 for key, step in previous.steps.items()
                 if step.status in ("succeeded", "cached", "reused") and step.step != "approve"
                 and (step.batch or isinstance(step.envelope, dict))}
        machine = str(described["stateMachineArn"])
        record = RedriveRecord(from_run=previous.run_id, steps=reuse)
        self.aws.s3.put_object(Bucket=self.bucket(machine), Key=redrive_key(previous.workflow, run_id),
                               Body=record.encode())
        params, _ = split_input(json.loads(described.get("input") or "{}"))
        return self.start(machine, run_id, params, {"kind": "redrive", "run": previous.run_id})

    # --- logs ---------------------------------------------------------------------------

    def logs(self, arn: str, step: str | None = None) -> list[StepLog]:
        """What each attempt of the run's steps (or of ``step``: a state, a step name or a
        fan-out item's key) printed and logged, from its function's CloudWatch Logs: the
        invocations whose step-runner log line names this execution, START to REPORT."""
        described = self.source(arn).describe()
        start = int(described["startDate"].timestamp() * 1000) - 1000
        stop = described.get("stopDate")
        end = int(stop.timestamp() * 1000) + self.log_margin_ms if stop and self.log_margin_ms is not None else None
        found: list[StepLog] = []
        functions = sorted(set(_FUNCTION.findall(json.dumps(self.definition(described["stateMachineArn"])))))
        for function in functions:
            group = "/aws/lambda/" + function.rsplit(":", 1)[-1]
            found.extend(self._invocations(group, arn, start, end))
        if step is not None:
            found = [s for s in found if step in (s.key, s.key.rsplit("/", 1)[-1]) or s.key.startswith(step + "/")]
        return sorted(found, key=lambda s: (s.key, s.attempt))

    def _invocations(self, group: str, arn: str, start: int, end: int | None) -> list[StepLog]:
        logs = self.aws.logs
        by_stream: dict[str, list[dict[str, JSON]]] = {}
        window: dict[str, JSON] = {"logGroupName": group, "startTime": start, **({"endTime": end} if end else {})}
        try:
            for page in logs.get_paginator("filter_log_events").paginate(**window):
                for event in page.get("events", []):
                    by_stream.setdefault(str(event.get("logStreamName", "")), []).append(event)
        except logs.exceptions.ResourceNotFoundException:
            return []
        found: list[StepLog] = []
        for events in by_stream.values():
            events.sort(key=lambda e: (e.get("timestamp", 0), e.get("ingestionTime", 0)))
            lines: list[str] = []
            mine: dict[str, JSON] | None = None
            for event in events:
                for line in str(event.get("message", "")).splitlines():
                    if line.startswith("START RequestId:"):
                        lines, mine = [], None
                    lines.append(line)
                    if line.startswith("{") and mine is None:
                        try:
                            entry = json.loads(line)
                        except ValueError:
                            entry = None
                        if isinstance(entry, dict) and entry.get("correlation_id") == arn and entry.get("state"):
                            mine = entry
                    if line.startswith("REPORT RequestId:") and mine is not None:
                        state, map_path = str(mine["state"]), mine.get("map_path")
                        key = f"{map_path}/{state}" if map_path else state
                        found.append(StepLog(key, int(mine.get("attempt") or 0), tuple(lines)))
                        lines, mine = [], None
        return found

    def follow(self, arn: str, on_event: Callable[[Event], None], answer: Answer | None = None,
               on_waiting: Callable[[str, str], None] | None = None, timeout: float | None = None) -> RunRecord:
        """Poll the run until it ends, sending each step's changes to ``on_event``. An approval
        gate is put to ``answer``; when it gives no answer, ``on_waiting(state, question)`` is
        told once and the run waits for ``stepstone approve``. After ``timeout`` seconds
        (if given) it gives up with TimeoutError; the run goes on."""
        deadline = None if timeout is None else time.monotonic() + timeout
        source = self.source(arn)
        described, events = source.poll()
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
                    self.approve(arn, step.state, decision, approver="stepstone run")
            if record.status != "running":
                break
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {record.run_id} still runs after {timeout:.0f} s")
            time.sleep(POLL_SECONDS)
            described, events = source.poll()  # described first: a finished run's events are all there
            history.describe(described)
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
            raise NoSuchRun(f"{run_id_of(arn)}/{state}")
        return ApprovalRequest.decode(request)

    def approve(self, arn: str, state: str, approved: bool, *, approver: str = "stepstone",
                comment: str = "") -> None:
        """Answer a gate with SendTaskSuccess: the workflow reads ``approved`` and decides."""
        request = self.approval_request(arn, state)
        answer = {"approved": approved, "approver": approver, "comment": comment}
        if not request.token:
            raise NoSuchRun(f"{run_id_of(arn)}/{state}")
        self.aws.sfn.send_task_success(taskToken=request.token, output=json.dumps(answer))

    def pending_approvals(self, arn: str) -> Iterator[tuple[str, str]]:
        """(state, question) of each gate of the run that waits for an answer now."""
        history = self.read(arn)
        for key, question in history.waiting.items():
            yield history.record.steps[key].state, question



class AwsTarget(LocalStackTarget):
    """The same, on AWS: the default credentials and region; state machines ``cdk deploy`` made."""

    where = "aws"
    label = "AWS"
    log_margin_ms = 5000

    def __init__(self, aws: AwsClients | None = None) -> None:
        super().__init__(aws or AwsClients())

    def check(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        aws = self.aws
        assert isinstance(aws, AwsClients)
        try:
            if not aws.session.region_name:
                raise NoRegionError()
            aws.sts.get_caller_identity()
        except NoCredentialsError:
            raise TargetError("no AWS credentials found", "configure them (`aws configure`, AWS_PROFILE or "
                              "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or use --target localstack") from None
        except NoRegionError:
            raise TargetError("no AWS region set", "set AWS_DEFAULT_REGION (or a region in ~/.aws/config)") from None
        except (BotoCoreError, ClientError) as exc:
            raise TargetError(f"AWS refuses these credentials: {exc}",
                              "check them with `aws sts get-caller-identity`") from None

    def console_url(self, arn: str) -> str | None:
        region = arn.split(":")[3]
        return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{arn}"
