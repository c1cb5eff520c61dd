"""Calls in a workflow body: steps, other workflows, ``approve`` and ``stepstone.map``."""

from __future__ import annotations

import ast
import inspect
import types
from typing import TYPE_CHECKING, Any, NoReturn

from pydantic import TypeAdapter, ValidationError

from .. import typeinfo
from ..dsl.control import DEFAULT_APPROVAL_TIMEOUT, Approval, approve
from ..dsl.control import map as stepstone_map
from ..dsl.errors import CompileError
from ..dsl.options import to_seconds
from ..dsl.steps import StepDef
from ..dsl.workflows import WorkflowDef
from ..ir import (
    Approve,
    BindingKind,
    BindingRef,
    CallWorkflow,
    LiteralValue,
    ParamRef,
    StepCall,
    StepInfo,
    Value,
)
from .blocks import BlockBuilder
from .context import Scope, VarInfo, WorkflowContext
from .jsontypes import check_step_types
from .values import MISSING, apply_path, check_json_literal, read_value, resolve_global

if TYPE_CHECKING:
    from .statements import BodyParser

__all__ = ["CallParser", "step_info"]


def step_info(step: StepDef[..., Any]) -> StepInfo:
    o = step.options
    return StepInfo(name=o.name, ref=step.ref, compute=o.compute, retry=o.retry, timeout=o.timeout,
                    heartbeat=o.heartbeat, cache=o.cache, location=step.location, secrets=o.secrets,
                    packages=o.packages)


def value_keys(value: Value) -> frozenset[str]:
    return frozenset({value.key}) if isinstance(value, BindingRef) else frozenset()


def _signature_text(fn: Any, name: str) -> str:
    try:
        return f"{name}{inspect.signature(fn)}"
    except (TypeError, ValueError):
        return name


class CallParser:
    """Turns call expressions into units of the current block."""

    def __init__(self, body: BodyParser) -> None:
        self.body = body
        self.ctx: WorkflowContext = body.ctx

    # --- entry point ---------------------------------------------------------------------

    def call(self, node: ast.Call, scope: Scope, builder: BlockBuilder, *, var: str | None,
             key: str | None) -> VarInfo | None:
        """Parse ``node``; add its units to ``builder``; return what it evaluates to.

        ``var`` is the variable it is assigned to (None for a bare call); ``key`` the key
        its result must be stored under (set for a variable merged from several branches).
        """
        func = node.func
        after: frozenset[str] = frozenset()
        if isinstance(func, ast.Call) and isinstance(func.func, ast.Attribute) and func.func.attr == "after":
            # step.after(x, y)(...): the typed spelling of step(..., after=[x, y])
            ordered = resolve_global(self.ctx, func.func.value)
            if isinstance(ordered, (StepDef, WorkflowDef)):
                if func.keywords:
                    self.ctx.fail(func, ".after(...) takes step results only", rule="bad-after")
                after = self._after_names(list(func.args), scope)
                func = func.func.value
        target = resolve_global(self.ctx, func)
        if isinstance(target, StepDef):
            return self.step_call(node, target, scope, builder, var=var, key=key, after=after)
        if isinstance(target, WorkflowDef):
            return self.workflow_call(node, target, scope, builder, var=var, key=key, after=after)
        if target is approve:
            return self.approve_call(node, scope, builder, var=var, key=key)
        if target is stepstone_map:
            return self.body.fanouts.map_call(node, scope, builder, var=var, key=key)
        self._not_a_step(node, target)

    def _not_a_step(self, node: ast.Call, target: Any) -> NoReturn:
        name = self.ctx.source(node.func)
        if isinstance(node.func, ast.Attribute) and not isinstance(resolve_global(self.ctx, node.func.value),
                                                                   types.ModuleType):
            self.ctx.fail(node, f"{name}(...) calls a method; a workflow body can call only steps",
                          rule="not-a-step", hint="do this work inside a @step and return the result")
        if target is MISSING:
            self.ctx.fail(node, f"{name!r} is not defined", rule="undefined-name",
                          hint="call a @step function, a @workflow function, approve(...) or stepstone.map(...)")
        builtin = getattr(target, "__module__", None) == "builtins"
        if inspect.isclass(target):
            kind = "built-in class" if builtin else "class"
        elif inspect.isbuiltin(target):
            kind = "built-in function"
        elif inspect.isfunction(target):
            kind = "plain function (not a @step)"
        else:
            kind = type(target).__name__
        if target is range:
            self.ctx.fail(node, f"{name}(...) calls a {kind}; a workflow body can call only @step functions, "
                          "other @workflow functions, approve(...) and stepstone.map(...)", rule="not-a-step",
                          hint="fan out over a list: a literal [0, 1, 2], a list parameter, or a list a step returns")
        self.ctx.fail(node, f"{name}(...) calls a {kind}; a workflow body can call only @step functions, "
                      "other @workflow functions, approve(...) and stepstone.map(...)",
                      rule="not-a-step",
                      hint=f"decorate {name} with @step, or call it inside a step" if inspect.isfunction(target)
                      else "do this work inside a @step")

    # --- arguments -----------------------------------------------------------------------

    def argument(self, node: ast.expr, scope: Scope, builder: BlockBuilder, *, what: str) -> VarInfo:
        if isinstance(node, ast.Call):
            info = self.call(node, scope, builder, var=None, key=None)
            if info is None:
                self.ctx.fail(node, f"{self.ctx.source(node)[:50]} returns nothing to pass on",
                              rule="unsupported-expression")
            return info
        root = node
        parts: list[ast.expr] = []
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            parts.append(root)
            root = root.value
        if isinstance(root, ast.Call) and parts:
            # step(...).field: the step's result, then the field
            info = self.argument(root, scope, builder, what=what)
            for part_node in reversed(parts):
                if isinstance(part_node, ast.Attribute):
                    info = apply_path(self.ctx, part_node, info, part_node.attr, ast.unparse(part_node.value))
                    continue
                assert isinstance(part_node, ast.Subscript)
                index = part_node.slice
                if not (isinstance(index, ast.Constant) and isinstance(index.value, (int, str))):
                    self.ctx.fail(part_node, f"{ast.unparse(part_node)}: only a constant index or key can be used "
                                  "here", rule="unsupported-expression")
                info = apply_path(self.ctx, part_node, info, index.value, ast.unparse(part_node.value))
            return info
        if isinstance(node, ast.Starred):
            self.ctx.fail(node, f"*{self.ctx.source(node.value)} cannot be expanded in a workflow",
                          rule="unsupported-expression", hint="pass each argument by name")
        return read_value(self.ctx, scope, node, what=what)

    def _after(self, node: ast.keyword, scope: Scope) -> frozenset[str]:
        items = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
        return self._after_names(items, scope)

    def _after_names(self, items: list[ast.expr], scope: Scope) -> frozenset[str]:
        keys: set[str] = set()
        for item in items:
            if not isinstance(item, ast.Name):
                self.ctx.fail(item, "after= takes names of step results, e.g. after=[tests]", rule="bad-after")
            info = read_value(self.ctx, scope, item, what="after=")
            if not isinstance(info.value, BindingRef):
                self.ctx.fail(item, f"after=[{item.id}]: {item.id!r} is not the result of a step",
                              rule="bad-after", hint="after= orders a step after other steps; name their results")
            keys.add(info.value.key)
        return frozenset(keys)

    def _bind_arguments(self, node: ast.Call, fn: Any, name: str, scope: Scope, builder: BlockBuilder,
                        *, skip_first: VarInfo | None = None) -> tuple[list[tuple[str, VarInfo, ast.expr]],
                                                                       frozenset[str]]:
        """Match the call's arguments to the function's parameters."""
        sig = inspect.signature(fn)
        positional: list[tuple[VarInfo, ast.expr]] = []
        keywords: dict[str, tuple[VarInfo, ast.expr]] = {}
        after: frozenset[str] = frozenset()
        if skip_first is not None:
            positional.append((skip_first, node))
        for arg in node.args:
            positional.append((self.argument(arg, scope, builder, what=f"an argument of {name}"), arg))
        for kw in node.keywords:
            if kw.arg is None:
                self.ctx.fail(kw.value, f"**{self.ctx.source(kw.value)} cannot be expanded in a workflow",
                              rule="unsupported-expression", hint="pass each argument by name")
            if kw.arg == "after":
                after = self._after(kw, scope)
                continue
            keywords[kw.arg] = (self.argument(kw.value, scope, builder, what=f"argument {kw.arg}= of {name}"),
                                kw.value)
        try:
            bound = sig.bind(*range(len(positional)), **{k: -1 for k in keywords})
        except TypeError as exc:
            self.ctx.fail(node, f"{name}(...) called with the wrong arguments: {exc}", rule="wrong-arguments",
                          hint=f"the signature is {_signature_text(fn, name)}")
        matched: list[tuple[str, VarInfo, ast.expr]] = []
        for param, index in bound.arguments.items():
            if index == -1:
                info, arg_node = keywords[param]
            else:
                info, arg_node = positional[index]
            matched.append((param, info, arg_node))
        return matched, after

    def _check_type(self, name: str, param: str, expected: Any, info: VarInfo, node: ast.expr) -> None:
        if expected is inspect.Parameter.empty or expected is Any:
            return
        if isinstance(info.value, LiteralValue):
            try:
                TypeAdapter(expected).validate_python(info.value.value)
            except ValidationError as exc:
                first = exc.errors()[0]["msg"]
                type_name = getattr(expected, "__name__", str(expected))
                self.ctx.fail(node, f"{name}(): {param}={self.ctx.source(node)[:40]} does not fit {param}'s type "
                              f"{type_name}: {first}", rule="wrong-argument-type",
                              hint=f"pass a {type_name} value, or change the annotation of {param}")
            except Exception:  # types pydantic cannot check: leave them to the step runner
                return
            return
        actual = typeinfo.strip(info.annotation)
        wanted = typeinfo.strip(expected)
        if info.kind == "results":
            if not typeinfo.is_list(wanted) and isinstance(wanted, type):
                self.ctx.fail(node, f"{name}(): {param} gets the list of a fan-out's results, but {param} is "
                              f"a {wanted.__name__}", rule="wrong-argument-type",
                              hint=f"annotate {param} as list[...]")
            return
        if isinstance(actual, type) and isinstance(wanted, type) and actual is not Any:
            if issubclass(actual, wanted) or (wanted is float and actual is int):
                return
            if typeinfo.is_record(actual) and typeinfo.is_record(wanted):
                self.ctx.fail(node, f"{name}(): {param} takes a {wanted.__name__}, but "
                              f"{self.ctx.source(node)} is a {actual.__name__}", rule="wrong-argument-type",
                              hint=f"pass a {wanted.__name__}, or change {param}'s annotation")
            if typeinfo.scalar_kind(actual) and typeinfo.scalar_kind(wanted) and \
                    typeinfo.scalar_kind(actual) != typeinfo.scalar_kind(wanted):
                self.ctx.fail(node, f"{name}(): {param} takes a {wanted.__name__}, but "
                              f"{self.ctx.source(node)} is a {actual.__name__}", rule="wrong-argument-type")

    # --- the calls -----------------------------------------------------------------------

    def step_call(self, node: ast.Call, step: StepDef[..., Any], scope: Scope, builder: BlockBuilder, *,
                  var: str | None, key: str | None, item: VarInfo | None = None,
                  extra: list[tuple[str, VarInfo, ast.expr]] | None = None,
                  after: frozenset[str] = frozenset()) -> VarInfo:
        ctx = self.ctx
        info = step_info(step)
        known = ctx.steps.get(info.name)
        if known is None:
            check_step_types(step)
        if known is not None and known.ref != info.ref:
            ctx.fail(node, f"two different steps are named {info.name!r}: {known.ref} (line {known.location.line}) "
                     f"and {info.ref} (line {info.location.line})", rule="duplicate-step-name",
                     hint="give one of them another name with @step(name=...)")
        ctx.steps[info.name] = info
        if extra is None:
            matched, keyword_after = self._bind_arguments(node, step.fn, step.name, scope, builder, skip_first=item)
            after = after | keyword_after
        else:
            matched = extra
        annotations = step.parameter_annotations()
        args: list[tuple[str, Value]] = []
        reads: set[str] = set(after)
        for param, arg, arg_node in matched:
            self._check_type(step.name, param, annotations.get(param, inspect.Parameter.empty), arg, arg_node)
            args.append((param, arg.value))
            reads |= value_keys(arg.value)
            if info.is_batch and arg.kind == "result" and isinstance(arg.value, BindingRef):
                self.body.require_store(arg.value.key, "always", arg_node,
                                        why=f"{step.name} runs on AWS Batch, which takes inputs by S3 reference")
        state = ctx.state_name(info.name)
        kind = BindingKind.DEFERRED if info.is_batch else BindingKind.RESULT
        if key is not None and kind is BindingKind.DEFERRED:
            key = None  # a Batch output is not in the state; the caller copies it where it must go
        binding_key = key or ctx.new_key(var or f"{info.name}_result")
        annotation = step.return_annotation
        annotation = Any if annotation is inspect.Signature.empty else annotation
        binding = ctx.bind(binding_key, var or f"{info.name}()", kind, annotation, ctx.loc(node), state=state)
        call = StepCall(name=state, step=info, args=tuple(args), binding=binding_key, location=ctx.loc(node))
        builder.add(call, reads=frozenset(reads), writes=frozenset({binding_key}))
        self.body.producers[binding_key] = state
        return ctx.var_info(binding)

    def workflow_call(self, node: ast.Call, callee: WorkflowDef[..., Any], scope: Scope, builder: BlockBuilder,
                      *, var: str | None, key: str | None, after: frozenset[str] = frozenset()) -> VarInfo:
        ctx = self.ctx
        if callee is ctx.wf:
            ctx.fail(node, f"workflow {callee.name!r} calls itself", rule="cycle",
                     hint="a workflow cannot start itself; use a fan-out over the items instead")
        matched, keyword_after = self._bind_arguments(node, callee.fn, callee.name, scope, builder)
        after = after | keyword_after
        given = {param: (info, arg_node) for param, info, arg_node in matched}
        params: list[tuple[str, Value]] = []
        reads: set[str] = set(after)

        passed = set(callee.result_params)

        def raw(param: str, info: VarInfo, arg_node: ast.expr) -> Value:
            value = info.value
            stored = isinstance(value, ParamRef) and value.stored
            if param in passed:  # the child reads it as a step result: hand it the envelope
                whole = (info.kind in ("result", "deferred") and isinstance(value, BindingRef) and not value.path) \
                    or (isinstance(value, ParamRef) and stored and len(value.path) == 1)
                if not whole:
                    type_name = getattr(callee.param_hints[param], "__name__", None) or str(callee.param_hints[param])
                    ctx.fail(arg_node, f"{callee.name}(): {param} is a {type_name}, which a workflow takes whole from "
                             "a step's result", rule="workflow-argument",
                             hint=f"pass the result of the step that returns it ({callee.name}({param}=frame)); a "
                                  "field of a result or a fan-out's list goes through a step that returns it")
                return value
            plain = info.kind not in ("result", "deferred", "results") and not stored
            scalar_field = typeinfo.is_scalar(info.annotation) and (
                (info.kind == "result" and isinstance(value, BindingRef) and len(value.path) == 1)
                or (stored and isinstance(value, ParamRef) and len(value.path) == 2))
            if not (plain or scalar_field):
                ctx.fail(arg_node, f"{callee.name}(): {param} gets a step result; a workflow's parameters are "
                         "plain values", rule="workflow-argument",
                         hint="pass a scalar field of it (result.uri), or a parameter of this workflow; a parameter "
                              "typed as a DataFrame, an array, a model or a record holding one takes a step result "
                              "whole")
            return value

        model_param = callee.model_param
        if model_param is not None:
            info, arg_node = given[model_param]
            self._check_type(callee.name, model_param, callee.param_hints[model_param], info, arg_node)
            for field_name in typeinfo.field_names(callee.param_hints[model_param]):
                if isinstance(info.value, LiteralValue):
                    value: Value = LiteralValue(check_json_literal(ctx, arg_node, info.value.value.get(field_name))
                                                if isinstance(info.value.value, dict) else None)
                elif isinstance(info.value, ParamRef) and not info.value.stored:
                    value = ParamRef((*info.value.path, field_name),
                                     typeinfo.field_annotation(info.annotation, field_name))
                else:
                    base = raw(model_param, info, arg_node)
                    assert isinstance(base, BindingRef)
                    value = BindingRef(base.key, (*base.path, field_name), None)
                params.append((field_name, value))
                reads |= value_keys(value)
        else:
            for param_name, param in inspect.signature(callee.fn).parameters.items():
                if param_name in given:
                    info, arg_node = given[param_name]
                    self._check_type(callee.name, param_name, callee.param_hints[param_name], info, arg_node)
                    value = raw(param_name, info, arg_node)
                else:
                    value = LiteralValue(check_json_literal(ctx, node, param.default))
                params.append((param_name, value))
                reads |= value_keys(value)
        state = ctx.state_name(callee.name)
        binding_key = key or ctx.new_key(var or f"{callee.name}_result")
        annotation = callee.return_annotation
        binding = ctx.bind(binding_key, var or f"{callee.name}()", BindingKind.RESULT, annotation, ctx.loc(node),
                           state=state)
        ctx.calls.append(callee.name)
        ref = callee.ref
        builder.add(CallWorkflow(name=state, workflow=callee.name, ref=ref, params=tuple(params),
                                 binding=binding_key, location=ctx.loc(node)),
                    reads=frozenset(reads), writes=frozenset({binding_key}))
        return ctx.var_info(binding)

    def approve_call(self, node: ast.Call, scope: Scope, builder: BlockBuilder, *, var: str | None,
                     key: str | None) -> VarInfo:
        ctx = self.ctx
        if len(node.args) != 1 or not isinstance(node.args[0], ast.Constant) or \
                not isinstance(node.args[0].value, str):
            ctx.fail(node, "approve() takes the question as one literal string: approve(\"Release the model?\")",
                     rule="bad-approve",
                     hint="the question is fixed when the workflow is compiled; put run-specific details in the "
                          "step that notifies the approvers")
        message = node.args[0].value
        timeout = DEFAULT_APPROVAL_TIMEOUT
        after: frozenset[str] = frozenset()
        for kw in node.keywords:
            if kw.arg == "after":
                after = self._after(kw, scope)
                continue
            if kw.arg != "timeout":
                ctx.fail(kw.value, f"approve() has no argument {kw.arg!r}", rule="bad-approve",
                         hint="approve(\"question\", timeout=timedelta(days=2), after=[report])")
            timeout = self._literal_seconds(kw.value)
        state = ctx.state_name(f"approve_{var}" if var else "approve")
        binding_key = key or ctx.new_key(var or "approval")
        binding = ctx.bind(binding_key, var or "approve()", BindingKind.RAW, Approval, ctx.loc(node), state=state)
        builder.add(Approve(name=state, message=message, timeout=timeout, binding=binding_key,
                            location=ctx.loc(node)), reads=after, writes=frozenset({binding_key}))
        return ctx.var_info(binding)

    def _literal_seconds(self, node: ast.expr) -> int:
        """A duration written in the body: a number, or timedelta(...) with literal arguments."""
        ctx = self.ctx
        value: Any = MISSING
        if isinstance(node, ast.Constant):
            value = node.value
        elif isinstance(node, ast.Call):
            import datetime

            args: list[Any] = [a.value for a in node.args if isinstance(a, ast.Constant)]
            kwargs: dict[str, Any] = {k.arg: k.value.value for k in node.keywords
                                      if k.arg and isinstance(k.value, ast.Constant)}
            literal = len(args) == len(node.args) and len(kwargs) == len(node.keywords)
            if literal and resolve_global(ctx, node.func) is datetime.timedelta:
                value = datetime.timedelta(*args, **kwargs)
        if value is MISSING:
            ctx.fail(node, f"{ctx.source(node)} must be a literal number of seconds or timedelta(...)",
                     rule="bad-option")
        try:
            return to_seconds(value, what="timeout")
        except CompileError as exc:
            raise CompileError(exc.message, rule=exc.rule, location=ctx.loc(node), hint=exc.hint) from None

