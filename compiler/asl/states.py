"""Typed Amazon States Language states that render themselves, and the graph that holds them.

Each state class knows its own fields, so a misspelt field is a Python error here, not a
silently broken definition. :class:`StateMachine` enforces what ASL requires of a graph:
unique state names (across nested branches too), every ``Next`` pointing to a state of the
same machine, exactly one of ``Next``/``End`` on every state that needs one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..dsl.quotas import STATE_NAME_LIMIT
from ..names import unique_name

__all__ = [
    "Catcher",
    "ChoiceState",
    "FailState",
    "MapState",
    "NameRegistry",
    "ParallelState",
    "PassState",
    "Retrier",
    "State",
    "StateMachine",
    "TaskState",
]

JSON = Any
_UNSET: Any = object()


class NameRegistry:
    """State names must be unique in a whole state machine, nested branches included."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def claim(self, name: str) -> None:
        if name in self.names:
            raise ValueError(f"duplicate state name {name!r}")
        if not 1 <= len(name) <= STATE_NAME_LIMIT:
            raise ValueError(f"state name {name!r} must have 1 to {STATE_NAME_LIMIT} characters")
        self.names.add(name)

    def fresh(self, base: str) -> str:
        return unique_name(base[:76].rstrip() or "state", self.names)


@dataclass
class Retrier:
    errors: tuple[str, ...]
    max_attempts: int
    interval: int | None = None
    backoff: float | None = None
    max_delay: int | None = None
    jitter: bool = False

    @classmethod
    def from_asl(cls, retrier: Any) -> Retrier:
        """A retrier as a definition holds it (Step Functions' defaults where it says nothing)."""
        return cls(tuple(retrier.get("ErrorEquals") or ()), int(retrier.get("MaxAttempts", 3)),
                   retrier.get("IntervalSeconds"), retrier.get("BackoffRate"), retrier.get("MaxDelaySeconds"),
                   retrier.get("JitterStrategy") == "FULL")

    def render(self) -> JSON:
        out: dict[str, Any] = {"ErrorEquals": list(self.errors), "MaxAttempts": self.max_attempts}
        if self.interval is not None:
            out["IntervalSeconds"] = self.interval
        if self.backoff is not None:
            out["BackoffRate"] = float(self.backoff)
        if self.max_delay is not None:
            out["MaxDelaySeconds"] = self.max_delay
        if self.jitter:
            out["JitterStrategy"] = "FULL"
        return out


@dataclass
class Catcher:
    errors: tuple[str, ...]
    next: str
    result_path: str | None

    def render(self) -> JSON:
        return {"ErrorEquals": list(self.errors), "Next": self.next, "ResultPath": self.result_path}


@dataclass
class State:
    name: str
    comment: str | None = field(default=None, kw_only=True)
    next: str | None = field(default=None, kw_only=True)
    end: bool = field(default=False, kw_only=True)
    output_path: str | None = field(default=None, kw_only=True)

    type_name = "State"
    needs_transition = True

    def fields(self) -> dict[str, Any]:
        return {}

    def render(self) -> JSON:
        out: dict[str, Any] = {"Type": self.type_name}
        if self.comment:
            out["Comment"] = self.comment
        out.update({k: v for k, v in self.fields().items() if v is not _UNSET})
        if self.output_path is not None:
            out["OutputPath"] = self.output_path
        if self.needs_transition:
            if self.end == (self.next is not None):
                raise ValueError(f"state {self.name!r} needs exactly one of Next and End")
            if self.end:
                out["End"] = True
            else:
                out["Next"] = self.next
        return out

    def targets(self) -> list[str]:
        return [self.next] if self.next else []


def _opt(value: Any) -> Any:
    return _UNSET if value is None else value


def _path_or_null(value: str | Any | None) -> Any:
    return value  # None renders as JSON null: "discard the result, keep the input"


@dataclass
class TaskState(State):
    resource: str = ""
    parameters: JSON = None
    result_selector: JSON = None
    result_path: str | None = None
    timeout: int | None = None
    heartbeat: int | None = None
    retry: list[Retrier] = field(default_factory=list)
    catch: list[Catcher] = field(default_factory=list)

    type_name = "Task"

    def fields(self) -> dict[str, Any]:
        return {
            "Resource": self.resource,
            "Parameters": _opt(self.parameters),
            "ResultSelector": _opt(self.result_selector),
            "ResultPath": _path_or_null(self.result_path),
            "TimeoutSeconds": _opt(self.timeout),
            "HeartbeatSeconds": _opt(self.heartbeat),
            "Retry": [r.render() for r in self.retry] if self.retry else _UNSET,
            "Catch": [c.render() for c in self.catch] if self.catch else _UNSET,
        }

    def targets(self) -> list[str]:
        return super().targets() + [c.next for c in self.catch]


@dataclass
class PassState(State):
    result: JSON = _UNSET
    parameters: JSON = None
    input_path: str | None = None
    result_path: Any = _UNSET

    type_name = "Pass"

    def fields(self) -> dict[str, Any]:
        return {
            "InputPath": _opt(self.input_path),
            "Parameters": _opt(self.parameters),
            "Result": self.result,
            "ResultPath": self.result_path,
        }


@dataclass
class FailState(State):
    error: str | None = None
    cause: str | None = None
    error_path: str | None = None
    cause_path: str | None = None

    type_name = "Fail"
    needs_transition = False

    def fields(self) -> dict[str, Any]:
        return {"Error": _opt(self.error), "Cause": _opt(self.cause), "ErrorPath": _opt(self.error_path),
                "CausePath": _opt(self.cause_path)}


@dataclass
class ChoiceState(State):
    choices: list[tuple[JSON, str | None]] = field(default_factory=list)  # (rule, Next)
    default: str | None = None

    type_name = "Choice"
    needs_transition = False

    def fields(self) -> dict[str, Any]:
        rules = []
        for rule, target in self.choices:
            if target is None:
                raise ValueError(f"choice in {self.name!r} has no target")
            rules.append({**rule, "Next": target})
        return {"Choices": rules, "Default": _opt(self.default)}

    def targets(self) -> list[str]:
        return [t for _, t in self.choices if t] + ([self.default] if self.default else [])


@dataclass
class ParallelState(State):
    branches: list[StateMachine] = field(default_factory=list)
    parameters: JSON = None
    result_selector: JSON = None
    result_path: str | None = None
    catch: list[Catcher] = field(default_factory=list)

    type_name = "Parallel"

    def fields(self) -> dict[str, Any]:
        return {
            "Branches": [b.render() for b in self.branches],
            "Parameters": _opt(self.parameters),
            "ResultSelector": _opt(self.result_selector),
            "ResultPath": _path_or_null(self.result_path),
            "Catch": [c.render() for c in self.catch] if self.catch else _UNSET,
        }

    def targets(self) -> list[str]:
        return super().targets() + [c.next for c in self.catch]


@dataclass
class MapState(State):
    processor: StateMachine | None = None
    mode: str = "INLINE"
    items_path: str | None = None
    item_reader: JSON = None
    item_selector: JSON = None
    max_concurrency: int | None = None
    result_selector: JSON = None
    result_writer: JSON = None
    result_path: str | None = None
    catch: list[Catcher] = field(default_factory=list)

    type_name = "Map"

    def fields(self) -> dict[str, Any]:
        assert self.processor is not None
        processor = self.processor.render()
        config: dict[str, Any] = {"Mode": self.mode}
        if self.mode == "DISTRIBUTED":
            config["ExecutionType"] = "STANDARD"
        return {
            "ItemsPath": _opt(self.items_path),
            "ItemReader": _opt(self.item_reader),
            "ItemSelector": _opt(self.item_selector),
            "ItemProcessor": {"ProcessorConfig": config, **processor},
            "MaxConcurrency": _opt(self.max_concurrency),
            "ResultSelector": _opt(self.result_selector),
            "ResultWriter": _opt(self.result_writer),
            "ResultPath": _path_or_null(self.result_path),
            "Catch": [c.render() for c in self.catch] if self.catch else _UNSET,
        }

    def targets(self) -> list[str]:
        return super().targets() + [c.next for c in self.catch]


@dataclass
class StateMachine:
    """One graph of states: the whole machine, a Parallel branch or a Map's item processor."""

    registry: NameRegistry
    states: dict[str, State] = field(default_factory=dict)
    start_at: str | None = None

    def add(self, state: State) -> State:
        if state.name in self.states:
            raise ValueError(f"duplicate state name {state.name!r}")
        self.states[state.name] = state
        return state

    def render(self) -> JSON:
        if self.start_at is None:
            raise ValueError("a state machine needs at least one state")
        for state in self.states.values():
            for target in state.targets():
                if target not in self.states:
                    raise ValueError(f"state {state.name!r} goes to {target!r}, which is not in its machine")
        return {"StartAt": self.start_at, "States": {name: s.render() for name, s in self.states.items()}}
