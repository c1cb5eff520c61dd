"""``if`` tests -> typed Choice conditions.

A condition compares step results, their top-level scalar fields, parameters and
literals: ``quality.passed``, ``evaluation.auc >= request.min_auc``, ``x.status in ("a",
"b")``, ``model is None``, combined with ``and``, ``or`` and ``not``. The type of each side
(from the annotations) picks the Choice operator: Numeric, String, Boolean or Timestamp.
"""

from __future__ import annotations

import ast
from typing import Any

from .. import typeinfo
from ..ir import And, BindingRef, ChoiceKind, Compare, CompareOp, Condition, IsNull, LiteralValue, Not, Or, Truthy
from .context import Scope, VarInfo, WorkflowContext
from .values import read_value

__all__ = ["read_condition"]

_OPS: dict[type[ast.cmpop], CompareOp] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
}
_FLIPPED: dict[CompareOp, CompareOp] = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _literal_kind(value: Any) -> ChoiceKind | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "numeric"
    if isinstance(value, str):
        return "string"
    return None


def _operand(ctx: WorkflowContext, scope: Scope, node: ast.expr) -> VarInfo:
    root = node
    while isinstance(root, (ast.Attribute, ast.Subscript)):
        root = root.value
    if isinstance(root, ast.Call):
        ctx.fail(node, f"a call ({ctx.source(root)[:50]}) inside an if test is not supported",
                 rule="call-in-condition", hint="assign the step's result to a variable first, then test it")
    info = read_value(ctx, scope, node, what="a condition")
    manifest = isinstance(info.value, BindingRef) and ctx.bindings[info.value.key].manifest
    if info.kind == "results" or manifest:
        ctx.fail(node, f"{ctx.source(node)} is the list of results of a fan-out and cannot be tested",
                 rule="unsupported-condition", hint="pass the list to a step that returns what to test")
    if info.kind == "deferred":
        ctx.fail(node, f"{ctx.source(node)} comes from an AWS Batch step, whose output Step Functions never "
                 "sees, so a condition cannot test it", rule="condition-on-batch-output",
                 hint="test the result of a Lambda step that reads it (e.g. an evaluation step)")
    if info.kind == "result" and isinstance(info.value, BindingRef):
        path = info.value.path
        if len(path) > 1 or (path and not isinstance(path[0], str)):
            ctx.fail(node, f"{ctx.source(node)}: a condition can test only top-level fields of a step result",
                     rule="unsupported-condition",
                     hint="return the value to test as a top-level field of the step's result model")
    return info


def _kind_of(ctx: WorkflowContext, node: ast.expr, info: VarInfo) -> ChoiceKind | None:
    if isinstance(info.value, LiteralValue):
        return _literal_kind(info.value.value)
    return typeinfo.scalar_kind(info.annotation)


def _check_result_field_is_scalar(ctx: WorkflowContext, node: ast.expr, info: VarInfo) -> None:
    if info.kind == "result" and isinstance(info.value, BindingRef) and info.value.path and \
            not typeinfo.is_scalar(info.annotation) and typeinfo.strip(info.annotation) is not typeinfo.UNKNOWN:
        ctx.fail(node, f"{ctx.source(node)} is not a number, string or boolean, so a condition cannot "
                 "test it", rule="unsupported-condition",
                 hint="return a scalar field (e.g. passed: bool) from the step and test that")


def _untyped_field(info: VarInfo) -> bool:
    """A top-level field of a step result whose annotations say nothing of it (``-> dict``,
    ``dict[str, Any]``): tested by Python's truthiness."""
    return (info.kind == "result" and isinstance(info.value, BindingRef) and len(info.value.path) == 1
            and isinstance(info.value.path[0], str) and typeinfo.strip(info.annotation) is typeinfo.UNKNOWN)


def _compare(ctx: WorkflowContext, scope: Scope, node: ast.Compare, left_node: ast.expr, op_node: ast.cmpop,
             right_node: ast.expr) -> Condition:
    text = f"{ctx.source(left_node)} ... {ctx.source(right_node)}"
    if isinstance(op_node, (ast.Is, ast.IsNot)):
        if not (isinstance(right_node, ast.Constant) and right_node.value is None):
            ctx.fail(node, "'is' can only test for None here", rule="unsupported-condition",
                     hint="write x is None, or compare values with ==")
        info = _operand(ctx, scope, left_node)
        return IsNull(info.value, is_null=isinstance(op_node, ast.Is))
    if isinstance(op_node, (ast.In, ast.NotIn)):
        info = _operand(ctx, scope, left_node)
        options = read_value(ctx, scope, right_node, what="a condition")
        if not isinstance(options.value, LiteralValue) or not isinstance(options.value.value, list):
            ctx.fail(right_node, "'in' works only with a literal list or tuple, e.g. x in ('a', 'b')",
                     rule="unsupported-condition", hint="test each value with == and combine them with or")
        values = options.value.value
        if not values:
            ctx.fail(right_node, "'in' with an empty list is always false", rule="unsupported-condition")
        kinds = {_literal_kind(v) for v in values}
        kind = typeinfo.scalar_kind(info.annotation) or (kinds.pop() if len(kinds) == 1 else None)
        if kind is None or any(_literal_kind(v) != kind for v in values):
            ctx.fail(right_node, f"the values in {ctx.source(right_node)} must all be of one kind "
                     "(numbers, strings or booleans) matching the value tested", rule="type-mismatch")
        _check_result_field_is_scalar(ctx, left_node, info)
        tests: tuple[Condition, ...] = tuple(Compare("==", info.value, LiteralValue(v), kind) for v in values)
        condition: Condition = tests[0] if len(tests) == 1 else Or(tests)
        return Not(condition) if isinstance(op_node, ast.NotIn) else condition
    op = _OPS.get(type(op_node))
    if op is None:
        ctx.fail(node, f"the comparison in {ctx.source(node)} is not supported", rule="unsupported-condition")
    left = _operand(ctx, scope, left_node)
    right = _operand(ctx, scope, right_node)
    if isinstance(left.value, LiteralValue) and isinstance(right.value, LiteralValue):
        ctx.fail(node, f"{ctx.source(node)} compares two constants", rule="unsupported-condition",
                 hint="compare a step result or a parameter with a value")
    if isinstance(left.value, LiteralValue):
        left, right, left_node, right_node, op = right, left, right_node, left_node, _FLIPPED[op]
    if isinstance(right.value, LiteralValue) and right.value.value is None:
        if op not in ("==", "!="):
            ctx.fail(node, f"{text}: None can only be tested with 'is None'", rule="unsupported-condition")
        return IsNull(left.value, is_null=op == "==")
    _check_result_field_is_scalar(ctx, left_node, left)
    _check_result_field_is_scalar(ctx, right_node, right)
    left_kind = _kind_of(ctx, left_node, left)
    right_kind = _kind_of(ctx, right_node, right)
    kind = left_kind or right_kind
    if kind is None:
        ctx.fail(node, f"cannot tell what kind of values {ctx.source(node)} compares",
                 rule="unknown-type",
                 hint="annotate the step's return type (a pydantic model with typed fields) or the parameter")
    if left_kind and right_kind and left_kind != right_kind:
        ctx.fail(node, f"{ctx.source(node)} compares a {left_kind} value with a {right_kind} value",
                 rule="type-mismatch", hint="compare values of the same type")
    if kind == "boolean" and op not in ("==", "!="):
        ctx.fail(node, f"booleans can only be compared with == or != ({ctx.source(node)})",
                 rule="unsupported-condition")
    return Compare(op, left.value, right.value, kind)


def read_condition(ctx: WorkflowContext, scope: Scope, node: ast.expr) -> Condition:
    """The Choice condition for an ``if`` test, or a CompileError at the part that cannot be one."""
    if isinstance(node, ast.BoolOp):
        items = tuple(read_condition(ctx, scope, v) for v in node.values)
        return And(items) if isinstance(node.op, ast.And) else Or(items)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        inner = read_condition(ctx, scope, node.operand)
        if isinstance(inner, Compare) and inner.kind == "boolean" and isinstance(inner.right, LiteralValue) \
                and inner.op == "==":
            return Compare("==", inner.left, LiteralValue(not inner.right.value), "boolean")
        return Not(inner)
    if isinstance(node, ast.Compare):
        parts: list[Condition] = []
        left = node.left
        for op_node, right in zip(node.ops, node.comparators, strict=True):
            parts.append(_compare(ctx, scope, node, left, op_node, right))
            left = right
        return parts[0] if len(parts) == 1 else And(tuple(parts))
    if isinstance(node, ast.Constant):
        ctx.fail(node, f"if {ctx.source(node)}: the test is a constant", rule="unsupported-condition",
                 hint="test a step result or a parameter")
    info = _operand(ctx, scope, node)
    kind = typeinfo.scalar_kind(info.annotation)
    if kind is None and _untyped_field(info):  # `if quality["passed"]:` on a step annotated `-> dict`
        return Truthy(info.value)
    if kind != "boolean":
        text = ctx.source(node)
        stripped = typeinfo.strip(info.annotation)
        if typeinfo.is_record(info.annotation):
            described = f"a {stripped.__name__}"
            flags = [f for f in typeinfo.field_names(stripped)
                     if typeinfo.scalar_kind(typeinfo.field_annotation(stripped, f)) == "boolean"]
            hint = (f"test one of its fields, e.g. `if {text}.{flags[0]}:`" if flags else
                    f"test one of its fields, e.g. `if {text}.<field> > 0:`, or `if {text} is not None:`")
        elif kind == "numeric":
            described, hint = "a number", f"compare it explicitly, e.g. `if {text} > 0:`"
        elif kind == "string":
            described, hint = "a string", f"compare it explicitly, e.g. `if {text} != \"\":`"
        else:
            described = "of unknown type"
            hint = ("annotate the step's return type (a pydantic model with typed fields), or compare "
                    f"explicitly, e.g. `if {text} is not None:`")
        ctx.fail(node, f"if {text}: {text} is {described}, not a boolean", rule="truthiness", hint=hint)
    _check_result_field_is_scalar(ctx, node, info)
    return Compare("==", info.value, LiteralValue(True), "boolean")
