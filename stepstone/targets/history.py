"""A run read back from Step Functions: its execution and history as a :class:`RunRecord`,
the same record the local target writes, so both targets show runs the same way.

Events carry no step name of their own: each event inherits the state of the event it
follows (``previousEventId``), and a ``*StateEntered`` event starts a new state. A step's
Task (Lambda invocation, approval gate, nested run) then shows up as ``TaskScheduled``
(an attempt starts), ``TaskSucceeded``, ``TaskFailed`` or ``TaskTimedOut``. The step
runner's payload in ``TaskScheduled`` names the step, the fan-out item (``map_path``) and
the attempt; whether a failure is retried follows from the state's ``Retry`` in the
definition, counted per retrier as Step Functions does.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from compiler.asl.matching import RetryBook
from compiler.asl.states import Retrier
from compiler.asl.walk import state_definitions
from compiler.protocol import MAP_PATH_KEY, Lineage, attempt_prefix, run_id_of, split_input, step_key, trigger_text

from ..records import RunRecord, RunStatus, StepRecord

__all__ = ["STATUS", "History", "record_from_history"]

JSON = Any
LineageReader = Callable[[str], JSON]  # key -> lineage record (or None)
STATUS: dict[str, RunStatus] = {"RUNNING": "running", "SUCCEEDED": "succeeded", "FAILED": "failed",
                                "TIMED_OUT": "failed", "ABORTED": "interrupted", "PENDING_REDRIVE": "failed"}
_ENTERED = "StateEntered"


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return str(value) if value else None


def _ms(start: Any, end: Any) -> float:
    if isinstance(start, datetime) and isinstance(end, datetime):
        return round((end - start).total_seconds() * 1000, 1)
    return 0.0


def _json(text: Any) -> JSON:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


@dataclass
class _Task:
    """What the history has said so far about one step (one state, one fan-out item)."""

    step: StepRecord
    retries: RetryBook | None = None  # the retries used, as Step Functions counts them (made at the first failure)
    attempt_started: Any = None
    attempt: int = 0  # the runner's attempt number of the latest TaskScheduled


class History:
    """Turns an execution's events into a run record; feed it events as they come."""

    def __init__(self, execution: Mapping[str, JSON], definition: Mapping[str, JSON] | None = None,
                 lineage: LineageReader | None = None) -> None:
        self.states = state_definitions(definition or {})
        self.lineage = lineage
        arn = str(execution.get("executionArn", ""))
        machine = str(execution.get("stateMachineArn", "")).rsplit(":", 1)[-1]
        params, trigger = split_input(_json(execution.get("input")))
        self.record = RunRecord(run_id=str(execution.get("name") or run_id_of(arn)), workflow=machine,
                                ref="", file="", params=params, trigger=trigger_text(trigger),
                                started=_iso(execution.get("startDate")) or "", transitions=0)
        self.tasks: dict[str, _Task] = {}
        self.context: dict[int, tuple[str, str | None] | None] = {0: None}
        self.seen = 0
        self.waiting: dict[str, str] = {}  # step key -> the question of an approval gate waiting for its answer
        self.questions: dict[str, str] = {}  # step key -> the question of each approval gate
        self.describe(execution)

    def describe(self, execution: Mapping[str, JSON]) -> None:
        """The run's own status, times, output and error (DescribeExecution)."""
        record = self.record
        record.started = _iso(execution.get("startDate")) or record.started
        record.status = STATUS.get(str(execution.get("status")), "running")
        record.finished = _iso(execution.get("stopDate"))
        if execution.get("stopDate"):
            record.duration_ms = _ms(execution.get("startDate"), execution.get("stopDate"))
        if execution.get("output") is not None:
            record.output = _json(execution.get("output"))
        if execution.get("error") or execution.get("status") in ("FAILED", "TIMED_OUT", "ABORTED"):
            record.error = str(execution.get("error") or ("States.Timeout" if execution.get("status") == "TIMED_OUT"
                                                          else execution.get("status")))
            cause = _json(execution.get("cause"))
            record.cause = cause.get("errorMessage", json.dumps(cause)) if isinstance(cause, dict) else cause

    def feed(self, events: Sequence[Mapping[str, JSON]]) -> Iterator[tuple[StepRecord, str]]:
        """Take the events not seen yet (in order); yields each step whose status changed, with a note."""
        for event in events:
            number = int(event["id"])
            if number <= self.seen:
                continue
            self.seen = number
            yield from self._event(number, event)

    def _event(self, number: int, event: Mapping[str, JSON]) -> Iterator[tuple[StepRecord, str]]:
        kind = str(event["type"])
        context = self.context.get(int(event.get("previousEventId") or 0))
        if kind.endswith(_ENTERED):
            self.record.transitions = (self.record.transitions or 0) + 1
            details = event.get("stateEnteredEventDetails") or {}
            data = _json(details.get("input"))
            map_path = data.get(MAP_PATH_KEY) if isinstance(data, dict) else None
            context = (str(details.get("name")), map_path if isinstance(map_path, str) else None)
            if kind == "FailStateEntered" and self.record.failed_state is None:  # a raise, a refused input
                self.record.failed_state = context[0]
        self.context[number] = context
        if context is None or not kind.startswith("Task") or kind == "TaskStateEntered":
            return
        state, map_path = context
        key = step_key(state, map_path)
        if kind == "TaskScheduled":
            yield from self._scheduled(key, state, map_path, event)
            return
        task = self.tasks.get(key)
        if task is None:
            return
        step = task.step
        if kind == "TaskStarted":
            task.attempt_started = event.get("timestamp")
        elif kind == "TaskSubmitted":
            if step.step == "approve":
                self.waiting[key] = self.questions.get(key, "")
                yield step, "waiting for approval"
        elif kind == "TaskSucceeded":
            self.waiting.pop(key, None)
            details = event.get("taskSucceededEventDetails") or {}
            yield from self._succeeded(task, _json(details.get("output")), event)
        elif kind in ("TaskFailed", "TaskTimedOut", "TaskStartFailed", "TaskSubmitFailed"):
            self.waiting.pop(key, None)
            failure: Mapping[str, JSON] = next((v for k, v in event.items() if k.endswith("EventDetails")), {}) or {}
            error = str(failure.get("error") or ("States.Timeout" if kind == "TaskTimedOut" else "States.TaskFailed"))
            yield from self._failed(task, state, error, failure.get("cause"), event)

    def _scheduled(self, key: str, state: str, map_path: str | None,
                   event: Mapping[str, JSON]) -> Iterator[tuple[StepRecord, str]]:
        details = event.get("taskScheduledEventDetails") or {}
        parameters = _json(details.get("parameters")) or {}
        payload = parameters.get("Payload") if isinstance(parameters, dict) else None
        payload = payload if isinstance(payload, dict) else {}
        if payload.get("step"):
            name = str(payload["step"]).rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        elif "token" in payload:
            name = "approve"
            self.questions[key] = str(payload.get("message", ""))
        elif isinstance(parameters, dict) and parameters.get("StateMachineArn"):
            name = str(parameters["StateMachineArn"]).rsplit(":", 1)[-1]
        else:
            name = state
        if isinstance(payload.get(MAP_PATH_KEY), str):
            map_path = payload[MAP_PATH_KEY]
            key = step_key(state, map_path)
        task = self.tasks.get(key)
        if task is None:
            task = self.tasks[key] = _Task(StepRecord(state=state, step=name, map_path=map_path,
                                                      batch=bool(payload.get("batch"))))
            self.record.steps[key] = task.step
        step = task.step
        step.attempts += 1
        step.status = "running"
        step.started = step.started or _iso(event.get("timestamp"))
        task.attempt_started = event.get("timestamp")
        task.attempt = int(payload.get("attempt", step.attempts - 1) or 0)
        yield step, "" if step.attempts == 1 else f"attempt {step.attempts}"

    def _succeeded(self, task: _Task, output: JSON, event: Mapping[str, JSON]) -> Iterator[tuple[StepRecord, str]]:
        step = task.step
        step.duration_ms = round(step.duration_ms + _ms(task.attempt_started, event.get("timestamp")), 1)
        step.error = step.cause = step.traceback = None
        note = ""
        if isinstance(output, dict) and "Payload" in output:  # a Lambda invocation: the runner's envelope
            envelope = output["Payload"]
        elif isinstance(output, dict) and "Output" in output:  # a nested run: the child's output
            envelope = _json(output["Output"])
        else:  # an approval: the answer sent with the token
            envelope = output
            if isinstance(output, dict) and "approved" in output:
                note = "approved" if output.get("approved") else "rejected"
        step.envelope = None if step.batch else envelope
        step.stored = envelope.get("ref") if isinstance(envelope, dict) and not step.batch else None
        step.status = "succeeded"
        lineage = self._lineage(task)
        if lineage is not None:
            step.output_bytes = lineage.output.bytes if lineage.output else None
            if step.batch:
                step.stored = lineage.output.ref if lineage.output else None
            if lineage.status in ("cached", "reused"):
                step.status = lineage.status
        elif envelope is not None and step.step != "approve":
            step.output_bytes = len(json.dumps(envelope, separators=(",", ":")).encode())
        yield step, note

    def _failed(self, task: _Task, state: str, error: str, cause: JSON,
                event: Mapping[str, JSON]) -> Iterator[tuple[StepRecord, str]]:
        step = task.step
        step.duration_ms = round(step.duration_ms + _ms(task.attempt_started, event.get("timestamp")), 1)
        detail = _json(cause)
        if isinstance(detail, dict) and "errorMessage" in detail:  # Lambda's error document
            step.cause = str(detail.get("errorMessage"))
            trace = detail.get("stackTrace")
            step.traceback = "".join(trace) if isinstance(trace, list) else None
        else:
            step.cause = detail if isinstance(detail, str) or detail is None else json.dumps(detail)
        step.error = error
        lineage = self._lineage(task)
        if lineage is not None and lineage.error is not None:
            step.traceback = lineage.error.traceback or step.traceback
        if self._will_retry(task, state, error):
            step.status = "retrying"
            yield step, ""
            return
        step.status = "failed"
        if self.record.failed_state is None:
            self.record.failed_state = step.key
        yield step, ""

    def _will_retry(self, task: _Task, state: str, error: str) -> bool:
        """Whether Step Functions retries this failure: the first retrier that matches decides."""
        if task.retries is None:
            task.retries = RetryBook([Retrier.from_asl(r) for r in self.states.get(state, {}).get("Retry") or []])
        return task.retries.next_delay(error, jitter=False) is not None

    def _lineage(self, task: _Task) -> Lineage | None:
        step = task.step
        if self.lineage is None or step.step in ("approve",):
            return None
        key = attempt_prefix(self.record.workflow, self.record.run_id, step.state, task.attempt,
                             step.map_path) + "lineage.json"
        try:
            found = self.lineage(key)
            return Lineage.decode(found) if found is not None else None
        except Exception:  # the record is informative; the history stands without it
            return None


def record_from_history(execution: Mapping[str, JSON], events: Sequence[Mapping[str, JSON]],
                        definition: Mapping[str, JSON] | None = None,
                        lineage: LineageReader | None = None) -> RunRecord:
    """The run record of a (finished or running) execution."""
    history = History(execution, definition, lineage)
    for _ in history.feed(events):
        pass
    return history.record
