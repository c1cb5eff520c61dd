"""A run's events as Step Functions keeps them: a Standard run's execution history
(DescribeExecution, GetExecutionHistory), or an Express run's events as its state machine
logged them to CloudWatch Logs (Express runs have no history), in the same shapes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from compiler.deployment.names import log_group
from compiler.protocol import machine_of, run_id_of

from ..localstack.clients import Clients

__all__ = ["ExpressRun", "StandardRun", "describe_from_events", "express_events", "history_event", "source"]

JSON = Any


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


def source(aws: Clients, arn: str) -> StandardRun | ExpressRun:
    """The reader of the run ``arn`` (an Express run's ARN says ``:express:``)."""
    return ExpressRun(aws, arn) if ":express:" in arn else StandardRun(aws, arn)
