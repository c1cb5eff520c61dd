"""A step's logs on Step Functions: the Lambda invocations of a run's attempts, read from the
step functions' CloudWatch Logs. The step runner's first log line (Powertools, JSON) names
the execution (its correlation id), the state, the fan-out item and the attempt; an
invocation's lines run from Lambda's ``START`` line to its ``REPORT`` line."""

from __future__ import annotations

import json
from typing import Any

from ..localstack.clients import Clients
from .base import StepLog

__all__ = ["invocations"]

JSON = Any


def invocations(aws: Clients, group: str, arn: str, start: int, end: int | None) -> list[StepLog]:
    """The attempts of the run ``arn`` in one function's log group, from ``start`` to ``end`` (ms)."""
    logs = aws.logs
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
