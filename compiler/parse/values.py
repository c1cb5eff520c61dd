"""Values in a workflow body: names, fields of results, parameters and literal constants."""

from __future__ import annotations

import ast
import difflib
import enum
import json
import math
import types
from typing import Any, NoReturn

from .. import typeinfo
from ..dsl.steps import StepDef
from ..dsl.workflows import WorkflowDef
from ..ir import BindingRef, LiteralValue, ParamRef
from .context import Scope, Unset, VarInfo, WorkflowContext, literal_info

__all__ = ["MAX_LITERAL_BYTES", "MISSING", "apply_path", "check_json_literal", "read_value", "resolve_global"]

MAX_LITERAL_BYTES = 8 * 1024


class _Missing:
    pass


MISSING: Any = _Missing()


def resolve_global(ctx: WorkflowContext, node: ast.expr) -> Any:
    """The object a name or dotted name refers to in the workflow's module, or MISSING."""
    if isinstance(node, ast.Name):
        if node.id in ctx.globals:
            return ctx.globals[node.id]
        builtins = ctx.globals.get("__builtins__")
        table = builtins if isinstance(builtins, dict) else getattr(builtins, "__dict__", {})
        return table.get(node.id, MISSING)
    if isinstance(node, ast.Attribute):
        base = resolve_global(ctx, node.value)
        if isinstance(base, types.ModuleType) or (isinstance(base, type) and issubclass(base, enum.Enum)):
            return getattr(base, node.attr, MISSING)
    return MISSING


def _json_problem(value: Any, depth: int = 0) -> str | None:
    if depth > 32:
        return "it is nested too deeply"
    if value is None or isinstance(value, (bool, int, str)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{value!r} is not a JSON number"
    if isinstance(value, (list, tuple)):
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"its key {key!r} is not a string"
            if key.endswith(".$"):
                return f"its key {key!r} ends in '.$', which Step Functions reads as a path"
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
        return None
    return f"a {type(value).__name__} is not JSON"


def check_json_literal(ctx: WorkflowContext, node: ast.AST, value: Any) -> Any:
    """``value`` as JSON (tuples become lists), or a CompileError at ``node``."""
    if isinstance(value, enum.Enum):
        value = value.value
    problem = _json_problem(value)
    if problem:
        ctx.fail(node, f"the value {ctx.source(node)} cannot be part of a workflow: {problem}",
                 rule="unserializable-value",
                 hint="workflows pass JSON values (strings, numbers, booleans, None, lists, dicts); "
                      "compute other values inside a step")
    encoded = json.dumps(value, separators=(",", ":"))
    if len(encoded.encode()) > MAX_LITERAL_BYTES:
        ctx.fail(node, f"this literal is {len(encoded.encode()):,} bytes; literals in a workflow may be at most "
                 f"{MAX_LITERAL_BYTES:,} bytes", rule="literal-too-large",
                 hint="every run carries literals in its state: put large data in S3 and pass its key")
    return json.loads(encoded)


def _literal_from_ast(ctx: WorkflowContext, node: ast.expr) -> Any:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return MISSING
    if isinstance(value, (set, frozenset, bytes, complex)):
        ctx.fail(node, f"{ctx.source(node)[:60]} is a {type(value).__name__}, which is not JSON",
                 rule="unserializable-value", hint="use a list of strings or numbers")
    return check_json_literal(ctx, node, value)


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def apply_path(ctx: WorkflowContext, node: ast.expr, base: VarInfo, part: str | int, base_text: str) -> VarInfo:
    if base.kind == "literal":
        assert isinstance(base.value, LiteralValue)
        literal = base.value.value
        try:
            inner = literal[part] if isinstance(part, int) or isinstance(literal, dict) else MISSING
        except (IndexError, KeyError, TypeError):
            inner = MISSING
        if inner is MISSING:
            ctx.fail(node, f"{base_text} has no {part!r}", rule="unknown-field")
        return literal_info(inner, base.location)
    if base.kind == "results":
        ctx.fail(node, f"{base_text} is the list of results of a fan-out; it has no {part!r}",
                 rule="unsupported-expression",
                 hint=f"pass {base_text} to a step that picks what you need from it")
    annotation = base.annotation
    stripped = typeinfo.strip(annotation)
    if isinstance(stripped, type) and issubclass(stripped, BaseException):
        ctx.fail(node, f"{base_text} is a caught error; its parts cannot be read in the workflow body",
                 rule="unsupported-expression",
                 hint=f"catch each error type in its own except clause, or pass {base_text} to a step")
    if isinstance(part, int):
        if not (typeinfo.is_list(annotation) or typeinfo.strip(annotation) is typeinfo.UNKNOWN):
            ctx.fail(node, f"{base_text} is not a list, so it cannot be indexed", rule="unknown-field")
        field_ann = typeinfo.element_type(annotation)
    else:
        field_ann = typeinfo.field_annotation(annotation, part)
        if field_ann is None:
            names = list(typeinfo.field_names(annotation))
            type_name = getattr(typeinfo.strip(annotation), "__name__", str(annotation))
            ctx.fail(node, f"{base_text} ({type_name}) has no field {part!r}{_did_you_mean(part, names)}",
                     rule="unknown-field",
                     hint=f"its fields are: {', '.join(names)}" if names else
                          "annotate the step's return type so the compiler knows its fields")
    value = base.value
    assert isinstance(value, (BindingRef, ParamRef))
    if isinstance(value, BindingRef):
        new_value: BindingRef | ParamRef = BindingRef(value.key, (*value.path, part), field_ann)
    else:
        new_value = ParamRef((*value.path, part), field_ann, stored=value.stored)
    return VarInfo(value=new_value, kind=base.kind, annotation=field_ann, location=base.location)


def read_value(ctx: WorkflowContext, scope: Scope, node: ast.expr, *, what: str) -> VarInfo:
    """The value ``node`` denotes: a variable, a field of one, a parameter or a literal.

    ``what`` says where the value is used, for messages ("an argument of train").
    """
    literal = _literal_from_ast(ctx, node) if isinstance(node, (ast.Constant, ast.List, ast.Tuple, ast.Dict,
                                                                ast.UnaryOp)) else MISSING
    if literal is not MISSING:
        return literal_info(literal, ctx.loc(node))
    if isinstance(node, ast.Name):
        info = scope.get(node.id)
        if isinstance(info, VarInfo):
            return info
        if isinstance(info, Unset):
            ctx.fail(node, f"{node.id!r} {info.why}", rule="maybe-unassigned", hint=info.hint)
        obj = resolve_global(ctx, node)
        return _global_value(ctx, scope, node, obj, what)
    if isinstance(node, ast.Attribute):
        obj = resolve_global(ctx, node)
        if obj is not MISSING and not isinstance(obj, types.ModuleType):
            return _global_value(ctx, scope, node, obj, what)
        base = read_value(ctx, scope, node.value, what=what)
        return apply_path(ctx, node, base, node.attr, ctx.source(node.value))
    if isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Constant) and isinstance(index.value, (int, str)) and not isinstance(
            index.value, bool
        ):
            base = read_value(ctx, scope, node.value, what=what)
            return apply_path(ctx, node, base, index.value, ctx.source(node.value))
        ctx.fail(node, f"{ctx.source(node)}: only a constant index or key can be used here",
                 rule="unsupported-expression", hint="pick items inside a step, or index with a literal")
    _unsupported_value(ctx, node, what)


def _global_value(ctx: WorkflowContext, scope: Scope, node: ast.expr, obj: Any, what: str) -> VarInfo:
    name = ctx.source(node)
    if obj is MISSING:
        later = ctx.assigned_at.get(name, [])
        line = getattr(node, "lineno", 0)
        if any(at > line for at in later):
            first = min(at for at in later if at > line)
            ctx.fail(node, f"{name!r} is used before it is assigned (at line {first})", rule="used-before-assignment",
                     hint=f"move the line that makes {name} above this one")
        known = [n for n, v in scope.names.items() if isinstance(v, VarInfo)]
        ctx.fail(node, f"{name!r} is not defined{_did_you_mean(name, known)}", rule="undefined-name",
                 hint="use a workflow parameter, the result of a step called earlier, or a literal")
    if isinstance(obj, StepDef):
        ctx.fail(node, f"{name!r} is a step; call it to use its result: {name}(...)", rule="step-not-called",
                 hint=f"write result = {name}(...) and pass result")
    if isinstance(obj, WorkflowDef):
        ctx.fail(node, f"{name!r} is a workflow; call it to run it and use its result: {name}(...)",
                 rule="step-not-called", hint=f"write result = {name}(...) and pass result")
    if isinstance(obj, enum.Enum):
        return literal_info(check_json_literal(ctx, node, obj.value), ctx.loc(node))
    if obj is None or isinstance(obj, (bool, int, float, str, list, tuple, dict)):
        return literal_info(check_json_literal(ctx, node, obj), ctx.loc(node))
    ctx.fail(node, f"{name!r} is a module-level {type(obj).__name__}, not a value this workflow made; a "
             "workflow can use only its parameters, the results of the steps it calls, and literal constants",
             rule="foreign-value",
             hint="pass it as a workflow parameter, or compute it inside a step")


def _unsupported_value(ctx: WorkflowContext, node: ast.expr, what: str) -> NoReturn:
    text = ctx.source(node)
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        ctx.fail(node, f"arithmetic ({text}) on workflow values is not supported in {what}",
                 rule="unsupported-expression",
                 hint="compute it inside a step and return it as a field of the step's result")
    if isinstance(node, ast.JoinedStr):
        ctx.fail(node, f"f-strings are not supported in {what}", rule="unsupported-expression",
                 hint="pass the parts to the step and format the string inside it")
    if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
        ctx.fail(node, "a comprehension is supported only as a fan-out assigned to a name: "
                 "results = [step(x) for x in items]", rule="unsupported-expression",
                 hint="assign the comprehension to a variable on its own line")
    if isinstance(node, ast.Lambda):
        ctx.fail(node, "lambda functions cannot run inside a workflow", rule="unsupported-expression",
                 hint="put the logic in a @step")
    if isinstance(node, (ast.List, ast.Tuple, ast.Dict, ast.Set)):
        ctx.fail(node, f"{text[:60]}: lists and dicts in a workflow may hold only literal values",
                 rule="unsupported-expression",
                 hint="pass the values as separate arguments and build the list inside the step")
    if isinstance(node, ast.Compare | ast.BoolOp):
        ctx.fail(node, f"a comparison ({text}) can be used only as the condition of an if",
                 rule="unsupported-expression", hint="write the test in an if statement, or compute it in a step")
    if isinstance(node, ast.IfExp):
        ctx.fail(node, "conditional expressions (a if c else b) are not supported", rule="unsupported-expression",
                 hint="write an if/else statement that assigns the variable in both branches")
    ctx.fail(node, f"{text[:60]} is not supported in {what}", rule="unsupported-expression",
             hint="use a variable, a field of one (x.field), a parameter or a literal")
