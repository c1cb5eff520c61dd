"""The local target's view of a run's data: the same values, read the same way as in ASL.

A local run keeps what the state machine's JSON state keeps (parameters, and per key an
envelope, a list of envelopes or a plain value), and reads it exactly as the compiled
paths do (``compiler/asl/values.py``): a condition on ``quality.passed`` reads the
envelope's ``fields``; an argument from a step result passes the envelope for the runner
to open. So a workflow that works locally works the same in Step Functions.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compiler.ir import (
    And,
    Binding,
    BindingKind,
    BindingRef,
    Compare,
    Condition,
    IsNull,
    LiteralValue,
    Not,
    Or,
    ParamRef,
    Value,
    Workflow,
)
from compiler.protocol import output_key
from lambdas.envelope import read_envelope
from lambdas.store import ArtifactStore

__all__ = ["Frame", "RunDataError"]

JSON = Any


class RunDataError(Exception):
    """A path the state machine would fail to read (``States.Runtime`` in Step Functions)."""

    error_name = "States.Runtime"


def _walk(value: JSON, path: tuple[str | int, ...], what: str) -> JSON:
    for part in path:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            raise RunDataError(f"{what}: no {part!r} in {str(value)[:80]}") from None
    return value


@dataclass
class Frame:
    """One scope of a run: its parameters, its values, and where it is (a fan-out item's map_path)."""

    workflow: Workflow
    run: str
    params: Mapping[str, JSON]
    store: ArtifactStore
    map_path: str | None = None
    values: dict[str, JSON] = field(default_factory=dict)
    catch_names: frozenset[str] = frozenset()  # what the excepts around this point catch

    def child(self, map_path: str, values: dict[str, JSON]) -> Frame:
        return Frame(self.workflow, self.run, self.params, self.store, map_path, values, self.catch_names)

    def binding(self, key: str) -> Binding:
        return self.workflow.bindings[key]

    def deferred(self, binding: Binding) -> dict[str, JSON]:
        """A Batch step's output, found where the compiled states look for it."""
        assert binding.state is not None
        return {"fields": {}, "ref": output_key(self.workflow.name, self.run, binding.state, self.map_path),
                "value": None}

    def get(self, key: str) -> JSON:
        if key not in self.values:
            raise RunDataError(f"{self.binding(key).var} is not set on this path")
        return self.values[key]

    # --- what a step receives -------------------------------------------------------------

    def argument(self, value: Value) -> dict[str, JSON]:
        """The ``args`` entry a compiled Task would send (see ``ValuePaths.argument``)."""
        if isinstance(value, LiteralValue):
            return {"value": value.value}
        if isinstance(value, ParamRef):
            if value.whole_model:
                return {"value": {name: self.params[name] for name in self.workflow.params.names}}
            return {"value": _walk(self.params, value.path, "parameter")}
        binding = self.binding(value.key)
        path_part: dict[str, JSON] = {"path": list(value.path)} if value.path else {}
        if binding.kind is BindingKind.RESULTS:
            return {"results": self.get(value.key)}
        if binding.kind is BindingKind.RESULT:
            return {"result": self.get(value.key), **path_part}
        if binding.kind is BindingKind.DEFERRED:
            return {"result": self.deferred(binding), **path_part}
        annotation = binding.annotation
        if not value.path and isinstance(annotation, type) and issubclass(annotation, BaseException):
            return {"error": self.get(value.key)}
        return {"value": _walk(self.get(value.key), value.path, binding.var)}

    def plain(self, value: Value) -> JSON:
        """A value as the state holds it (what a Pass state copies, a nested run's input)."""
        if isinstance(value, LiteralValue):
            return value.value
        if isinstance(value, ParamRef):
            if value.whole_model:
                return {name: self.params[name] for name in self.workflow.params.names}
            return _walk(self.params, value.path, "parameter")
        binding = self.binding(value.key)
        if binding.kind is BindingKind.DEFERRED:
            return self.deferred(binding)
        if binding.kind is BindingKind.RESULT and value.path:
            return _walk(self.get(value.key), ("fields", *value.path), binding.var)
        return _walk(self.get(value.key), value.path, binding.var)

    def items(self, value: Value) -> list[JSON]:
        """The list a fan-out goes over, read as the Map's ItemsPath or ItemReader reads it."""
        if isinstance(value, BindingRef) and self.binding(value.key).kind is BindingKind.RESULT:
            listed = _walk(read_envelope(self.get(value.key), self.store), value.path, self.binding(value.key).var)
        else:
            listed = self.plain(value)
        if not isinstance(listed, list):
            raise RunDataError(f"a fan-out needs a list, got {type(listed).__name__}")
        return listed

    # --- what a Choice tests --------------------------------------------------------------

    def tested(self, value: Value) -> JSON:
        if isinstance(value, BindingRef) and self.binding(value.key).kind is BindingKind.RESULT and not value.path:
            return _walk(self.get(value.key), ("value",), self.binding(value.key).var)
        return self.plain(value)

    def holds(self, condition: Condition) -> bool:
        if isinstance(condition, And):
            return all(self.holds(c) for c in condition.items)
        if isinstance(condition, Or):
            return any(self.holds(c) for c in condition.items)
        if isinstance(condition, Not):
            return not self.holds(condition.inner)
        if isinstance(condition, IsNull):
            value = condition.value
            if isinstance(value, BindingRef) and not value.path and \
                    self.binding(value.key).kind is BindingKind.RESULT:
                envelope = self.get(value.key)
                none = envelope is None or (envelope.get("value") is None and envelope.get("ref") is None)
            else:
                none = self.tested(value) is None
            return none == condition.is_null
        assert isinstance(condition, Compare)
        if condition.op == "!=":
            return not self.holds(Compare("==", condition.left, condition.right, condition.kind))
        left = self.tested(condition.left)
        right = self.tested(condition.right)
        return _compare(condition.op, condition.kind, left, right)


def _typed(kind: str, value: JSON) -> JSON | None:
    """The value as a Choice rule of that kind sees it; None when the types do not match (the rule is false)."""
    if kind == "numeric":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if kind == "string":
        return value if isinstance(value, str) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _compare(op: str, kind: str, left: JSON, right: JSON) -> bool:
    a, b = _typed(kind, left), _typed(kind, right)
    if a is None or b is None:
        return False
    if op == "==":
        return bool(a == b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    return bool(a >= b)
