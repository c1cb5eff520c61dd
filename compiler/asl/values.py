"""Where each value lives in a run's JSON state, and how states refer to it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..ir import (
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
    Truthy,
    Value,
)
from ..protocol import (
    MAP_PATH_KEY,
    VARS_KEY,
    Argument,
    Dynamic,
    ErrorArg,
    ResultArg,
    ResultsArg,
    ValueArg,
    envelope,
    output_key,
    template,
)

CONTEXT_RUN_NAME = "$$.Execution.Name"
CONTEXT_RUN_ID = "$$.Execution.Id"

__all__ = ["PassContent", "ValuePaths", "slug", "truthy_rule"]


@dataclass(frozen=True)
class PassContent:
    """What a Pass state puts in place: a literal ``Result``, the value at ``InputPath``, or
    ``Parameters`` (a template). Exactly one is set."""

    result: Any = None
    has_result: bool = False
    input_path: str | None = None
    parameters: Any = None


def slug(text: str) -> str:
    """``text`` in the characters S3 keys and Batch job names take: letters, digits, ``_`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "map"


def _segments(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


_OPERATORS = {"==": "Equals", "<": "LessThan", "<=": "LessThanEquals", ">": "GreaterThan",
              ">=": "GreaterThanEquals"}
_KINDS = {"numeric": "Numeric", "string": "String", "boolean": "Boolean", "timestamp": "Timestamp"}


class ValuePaths:
    """Renders values as JSONPath references, Lambda arguments and Choice rules."""

    def __init__(self, workflow_name: str, bindings: Mapping[str, Binding], param_fields: tuple[str, ...]) -> None:
        self.workflow = workflow_name
        self.bindings = bindings
        self.param_fields = param_fields
        # Where a state finds the run's name and execution id: the context object, except in
        # a distributed fan-out's items (child executions), which get them from the Map
        # (see RUN_KEY); the emitter switches these while it emits such a body.
        self.run_name = CONTEXT_RUN_NAME
        self.run_id = CONTEXT_RUN_ID

    @property
    def run_forwarded(self) -> bool:
        """Whether the states being emitted read the run from their input (inside a distributed fan-out)."""
        return self.run_name != CONTEXT_RUN_NAME

    def binding(self, key: str) -> Binding:
        return self.bindings[key]

    @staticmethod
    def var_path(key: str) -> str:
        return f"$.{VARS_KEY}.{key}"

    def deferred_ref(self, binding: Binding, in_map: bool) -> str:
        """The intrinsic that makes a Batch step's output key from the run (and item)."""
        assert binding.state is not None
        if in_map:
            template = output_key(self.workflow, "{}", binding.state, "{}")
            return f"States.Format('{template}', {self.run_name}, $.{MAP_PATH_KEY})"
        template = output_key(self.workflow, "{}", binding.state)
        return f"States.Format('{template}', {self.run_name})"

    def deferred_envelope(self, binding: Binding, in_map: bool) -> dict[str, Any]:
        """The envelope of a Batch step's output, as a template: its ref is made at run time."""
        made: dict[str, Any] = template(envelope(ref=Dynamic(self.deferred_ref(binding, in_map))))
        return made

    def whole_params(self) -> dict[str, str]:
        return {f"{name}.$": f"$.{name}" for name in self.param_fields}

    def state_path(self, value: Value) -> str | None:
        """The JSONPath of a plain (raw) value in the state, or None when it is not in the state."""
        if isinstance(value, ParamRef) and value.stored:  # a caller's step envelope, read as a result is
            name, *rest = value.path
            if not rest:
                return f"$.{name}"
            if len(rest) == 1 and isinstance(rest[0], str):
                return f"$.{name}.fields.{rest[0]}"
            return None
        if isinstance(value, ParamRef):
            return "$" + _segments(value.path)
        if isinstance(value, BindingRef):
            binding = self.binding(value.key)
            if binding.kind is BindingKind.RESULT and value.path:
                if len(value.path) == 1 and isinstance(value.path[0], str):
                    return f"{self.var_path(value.key)}.fields.{value.path[0]}"
                return None
            if binding.kind is BindingKind.DEFERRED:
                return None
            return self.var_path(value.key) + _segments(value.path)
        return None

    def plain(self, value: Value, in_map: bool, name: str) -> dict[str, Any]:
        """``{name: literal}`` or ``{name.$: path}``: a plain value inside Parameters."""
        if isinstance(value, LiteralValue):
            return {name: value.value}
        if isinstance(value, ParamRef) and value.whole_model:
            return {name: self.whole_params()}
        if isinstance(value, BindingRef) and not value.path and self.binding(value.key).kind is BindingKind.DEFERRED:
            return {name: self.deferred_envelope(self.binding(value.key), in_map)}  # a nested run's passed value
        path = self.state_path(value)
        assert path is not None, f"{value} has no path"
        return {f"{name}.$": path}

    def argument(self, value: Value, in_map: bool) -> Argument:
        """One argument of a Lambda step (see ``compiler.protocol.payload``)."""
        if isinstance(value, LiteralValue):
            return ValueArg(value.value)
        if isinstance(value, ParamRef) and value.stored:
            return ResultArg(Dynamic(f"$.{value.path[0]}"), value.path[1:])
        if isinstance(value, ParamRef):
            if value.whole_model:
                return ValueArg({name: Dynamic(f"$.{name}") for name in self.param_fields})
            return ValueArg(Dynamic("$" + _segments(value.path)))
        binding = self.binding(value.key)
        if binding.kind is BindingKind.RESULTS:
            return ResultsArg(Dynamic(self.var_path(value.key)))
        if binding.kind is BindingKind.RESULT:
            return ResultArg(Dynamic(self.var_path(value.key)), value.path)
        if binding.kind is BindingKind.DEFERRED:
            return ResultArg(envelope(ref=Dynamic(self.deferred_ref(binding, in_map))), value.path)
        annotation = binding.annotation
        if not value.path and isinstance(annotation, type) and issubclass(annotation, BaseException):
            return ErrorArg(Dynamic(self.var_path(value.key)))  # {"Error", "Cause"}: the runner rebuilds the exception
        return ValueArg(Dynamic(self.var_path(value.key) + _segments(value.path)), refs=True)

    def items_path(self, items: Value) -> str:
        """The Map's ItemsPath: the list itself (a step's list output is its envelope's value)."""
        if isinstance(items, BindingRef) and self.binding(items.key).kind is BindingKind.RESULT:
            return f"{self.var_path(items.key)}.value" + _segments(items.path)
        path = self.state_path(items)
        assert path is not None, f"{items} is not a list in the state"
        return path

    # --- what Pass states put in place -------------------------------------------------------

    def copied(self, value: Value, target: Binding, in_map: bool) -> PassContent:
        """A value copied to where a merged variable lives; a plain value merged with step
        results is wrapped as a step output."""
        source = self.binding(value.key).kind if isinstance(value, BindingRef) else BindingKind.RAW
        if isinstance(value, ParamRef) and value.stored:
            source = BindingKind.RESULT
        if source is BindingKind.RESULT and isinstance(value, (BindingRef, ParamRef)) and value.path[
                (1 if isinstance(value, ParamRef) else 0):]:
            source = BindingKind.RAW  # a field of a result is a plain value
        if isinstance(value, BindingRef) and source is BindingKind.DEFERRED:
            return PassContent(parameters=self.deferred_envelope(self.binding(value.key), in_map))
        if target.kind is BindingKind.RESULT and source is BindingKind.RAW:
            if isinstance(value, LiteralValue):
                return PassContent(result=envelope(value.value), has_result=True)
            return PassContent(parameters={"fields": {}, "ref": None, **self.plain(value, in_map, "value")})
        if isinstance(value, LiteralValue):
            return PassContent(result=value.value, has_result=True)
        if isinstance(value, ParamRef) and value.whole_model:
            return PassContent(parameters=self.whole_params())
        return PassContent(input_path=self.state_path(value))

    def returned(self, value: Value | None, in_map: bool) -> PassContent:
        """A workflow's output: always an envelope, like a step's."""
        if value is None:
            return PassContent(result=envelope(None), has_result=True)
        if isinstance(value, LiteralValue):
            return PassContent(result=envelope(value.value), has_result=True)
        if isinstance(value, ParamRef) and value.stored and len(value.path) == 1:
            return PassContent(input_path=self.state_path(value))  # the caller's envelope, handed back
        if isinstance(value, BindingRef) and not value.path:
            kind = self.binding(value.key).kind
            if kind is BindingKind.RESULT:
                return PassContent(input_path=self.var_path(value.key))
            if kind is BindingKind.DEFERRED:
                return PassContent(parameters=self.deferred_envelope(self.binding(value.key), in_map))
        return PassContent(parameters={"fields": {}, "ref": None, **self.plain(value, in_map, "value")})

    # --- conditions -------------------------------------------------------------------------

    def condition_path(self, value: Value) -> str:
        if isinstance(value, ParamRef) and value.stored and len(value.path) == 1:
            return f"$.{value.path[0]}.value"
        if isinstance(value, BindingRef):
            binding = self.binding(value.key)
            if binding.kind is BindingKind.RESULT and not value.path:
                return f"{self.var_path(value.key)}.value"
        path = self.state_path(value)
        assert path is not None, f"{value} cannot be tested"
        return path

    def rule(self, condition: Condition) -> dict[str, Any]:
        if isinstance(condition, And):
            return {"And": [self.rule(c) for c in condition.items]}
        if isinstance(condition, Or):
            return {"Or": [self.rule(c) for c in condition.items]}
        if isinstance(condition, Not):
            return {"Not": self.rule(condition.inner)}
        if isinstance(condition, IsNull):
            value = condition.value
            if isinstance(value, BindingRef) and not value.path and \
                    self.binding(value.key).kind is BindingKind.RESULT:
                # a step that returned None: its envelope holds neither a value nor a reference
                base = self.var_path(value.key)
                none = {"And": [{"IsNull": True, "Variable": f"{base}.value"},
                                {"IsNull": True, "Variable": f"{base}.ref"}]}
                return none if condition.is_null else {"Not": none}
            return {"IsNull": condition.is_null, "Variable": self.condition_path(value)}
        if isinstance(condition, Truthy):
            return truthy_rule(self.condition_path(condition.value))
        assert isinstance(condition, Compare)
        if condition.op == "!=":
            return {"Not": self.rule(Compare("==", condition.left, condition.right, condition.kind))}
        operator = _KINDS[condition.kind] + _OPERATORS[condition.op]
        variable = self.condition_path(condition.left)
        if isinstance(condition.right, LiteralValue):
            literal = condition.right.value
            if condition.kind == "numeric" and isinstance(literal, bool):
                literal = int(literal)
            return {operator: literal, "Variable": variable}
        return {f"{operator}Path": self.condition_path(condition.right), "Variable": variable}


def truthy_rule(variable: str) -> dict[str, Any]:
    """Python's truthiness of the field at ``variable``, as one Choice rule: not null, and not
    false, 0 or "" (each comparison guarded by its type test). A field that is a list, a dict
    or a stored value stands in the envelope's fields as its truthiness already
    (``lambdas/envelope.py``); a missing field fails the run (``States.Runtime``), as
    ``quality["missing"]`` raises ``KeyError`` in Python."""
    def falsy(test: str, value: dict[str, Any]) -> dict[str, Any]:
        return {"Not": {"And": [{"Variable": variable, test: True}, {"Variable": variable, **value}]}}

    return {"And": [{"IsNull": False, "Variable": variable},
                    falsy("IsBoolean", {"BooleanEquals": False}),
                    falsy("IsNumeric", {"NumericEquals": 0}),
                    falsy("IsString", {"StringEquals": ""})]}
