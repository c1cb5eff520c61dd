"""Runs on LocalStack: start one, follow it into the same live view as the local target,
list and find runs, answer approval gates. Everything is read back from Step Functions
(executions and their histories) and the artifact bucket; nothing is kept on the side.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from compiler.protocol import approval_key, run_id_of

from ..local.executor import Event
from ..local.records import RunRecord
from .clients import Clients, clients
from .deploy import ARTIFACT_BUCKET, BUCKET_TAG, TAG, log_group, state_machine_arn
from .harness import LocalStack, LocalStackError
from .history import History

__all__ = ["Answer", "LocalStackTarget", "NoSuchRun"]

JSON = Any
Answer = Callable[[str, str], bool | None]  # (question, state) -> approved? None: leave it waiting
POLL_SECONDS = 0.25
COMMENT = "stepstone workflow "  # how every compiled definition begins its Comment


class NoSuchRun(LookupError):
    """No run of that id on LocalStack."""


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
    parts = arn.split(":")
    described: dict[str, JSON] = {"executionArn": arn, "name": run_id_of(arn), "status": "RUNNING",
                                  "stateMachineArn": ":".join([*parts[:5], "stateMachine", parts[6]])}
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
    def __init__(self, aws: Clients | None = None) -> None:
        self.aws = aws or clients()
        self._buckets: dict[str, str] = {}

    def check(self) -> None:
        """Raise :class:`LocalStackError` with what to do when LocalStack is not answering."""
        harness = LocalStack(host=self.aws.host)
        if harness.health() is None:
            raise LocalStackError(f"LocalStack is not running on {self.aws.host}")

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
        history.record.target = "localstack"
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
        """The state machines of stepstone workflows here: tagged with their workflow (the
        deployer), or compiled by stepstone (``cdk deploy``: its definition says so)."""
        sfn = self.aws.sfn
        machines = []
        for page in sfn.get_paginator("list_state_machines").paginate():
            for machine in page["stateMachines"]:
                arn = machine["stateMachineArn"]
                if any(t.get("key") == TAG for t in self._tags(arn)) or str(
                        self.definition(arn).get("Comment", "")).startswith(COMMENT):
                    machines.append(machine)
        return machines

    def executions(self, workflow: str | None = None) -> list[dict[str, JSON]]:
        """Every run of stepstone's state machines (of ``workflow``), newest first, as
        ListExecutions lists them (Express runs from their logs)."""
        found: list[dict[str, JSON]] = []
        for machine in self.state_machines():
            if workflow and machine["name"] != workflow:
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

    def find(self, run_id: str) -> str:
        """The execution ARN of the run with this id (or the only one whose id starts with it)."""
        executions = self.executions()
        matches = [e for e in executions if e["name"] == run_id] or [
            e for e in executions if e["name"].startswith(run_id)]
        if len(matches) != 1:
            raise NoSuchRun(run_id)
        return str(matches[0]["executionArn"])

    # --- running ------------------------------------------------------------------------

    def start(self, state_machine: str, run_id: str, params: dict[str, JSON]) -> str:
        arn: str = self.aws.sfn.start_execution(stateMachineArn=state_machine, name=run_id,
                                                input=json.dumps(params))["executionArn"]
        return arn

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
                    self.approve(record.workflow, record.run_id, step.state, decision, approver="stepstone run")
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

    def approval_request(self, workflow: str, run_id: str, state: str, wait: float = 5.0) -> dict[str, JSON]:
        """The request the approval function left for this gate (it may take a moment to land)."""
        deadline = time.monotonic() + wait
        while True:
            request = self.lineage(approval_key(workflow, run_id, state), self.bucket(state_machine_arn(workflow)))
            if isinstance(request, dict) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        if not isinstance(request, dict):
            raise NoSuchRun(f"{run_id}/{state}")
        return request

    def approve(self, workflow: str, run_id: str, state: str, approved: bool, *, approver: str = "stepstone",
                comment: str = "") -> None:
        request = self.approval_request(workflow, run_id, state)
        answer = {"approved": approved, "approver": approver, "comment": comment}
        self.aws.sfn.send_task_success(taskToken=request["token"], output=json.dumps(answer))

    def pending_approvals(self, arn: str) -> Iterator[tuple[str, str]]:
        """(state, question) of each gate of the run that waits for an answer now."""
        history = self.read(arn)
        for key, question in history.waiting.items():
            yield history.record.steps[key].state, question

