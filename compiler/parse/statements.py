"""Statements of a workflow body -> units of blocks.

The supported subset: assignments of step calls, bare step calls, ``if/elif/else``, ``for``
loops and comprehensions (fan-out), ``try/except``, ``return`` and ``raise``. Everything
else is a CompileError at its line that says what to write instead.

Branches (``if``, ``try``) are in ``branches.py``, fan-outs in ``fanouts.py``, calls in
``calls.py``; this module reads the other statements and dispatches.
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field

from .. import typeinfo
from ..dsl.errors import Location
from ..ir import BindingKind, BindingRef, Copy, ParamRef, Raise, Return, Value
from ..protocol import StoreMode
from .blocks import BlockBuilder
from .branches import BranchParser
from .calls import CallParser, value_keys
from .context import Scope, Unset, VarInfo, WorkflowContext, state_name_from_source
from .fanouts import FanOutParser
from .syntax import Frame, assigned_names
from .values import read_value, resolve_global

__all__ = ["BodyParser", "Frame"]


_UNSUPPORTED: dict[type[ast.stmt], tuple[str, str]] = {
    ast.While: ("while loops are not supported", "loop over a list with for, or move the loop into a step"),
    ast.With: ("with blocks are not supported in a workflow body", "open resources inside a step"),
    ast.AsyncWith: ("async with is not supported", "move it into a step"),
    ast.AsyncFor: ("async for is not supported", "use a for loop over a list"),
    ast.FunctionDef: ("functions cannot be defined inside a workflow", "define a @step at module level"),
    ast.AsyncFunctionDef: ("functions cannot be defined inside a workflow", "define a @step at module level"),
    ast.ClassDef: ("classes cannot be defined inside a workflow", "define it at module level"),
    ast.Import: ("imports inside a workflow body are not supported", "import at the top of the module"),
    ast.ImportFrom: ("imports inside a workflow body are not supported", "import at the top of the module"),
    ast.Global: ("global is not supported in a workflow", "pass values as parameters and step results"),
    ast.Nonlocal: ("nonlocal is not supported in a workflow", "pass values as parameters and step results"),
    ast.Delete: ("del is not supported in a workflow", "leave the variable; unused values are dropped"),
    ast.Assert: ("assert is not supported in a workflow body",
                 "check it inside a step, or test it with if ... raise SomeError(...)"),
    ast.AugAssign: ("augmented assignment (+=, ...) is not supported: the body does no arithmetic",
                    "compute the new value inside a step"),
    ast.Break: ("break is not supported: every item of a fan-out runs", "filter the list in a step first"),
    ast.Continue: ("continue is not supported in a fan-out", "use an if inside the loop body"),
    ast.Match: ("match statements are not supported", "use if/elif/else"),
}


@dataclass
class BodyParser:
    ctx: WorkflowContext
    stores: dict[str, tuple[StoreMode, Location, str]] = field(default_factory=dict)
    producers: dict[str, str] = field(default_factory=dict)
    bounds: dict[str, int] = field(default_factory=dict)  # most items of each fan-in list

    def __post_init__(self) -> None:
        self.calls = CallParser(self)
        self.fanouts = FanOutParser(self)
        self.branches = BranchParser(self)

    # --- bookkeeping -----------------------------------------------------------------------

    def require_store(self, key: str, mode: StoreMode, node: ast.AST, *, why: str) -> None:
        """Ask the step that produces ``key`` to keep its output inline, or always in S3."""
        ctx = self.ctx
        if key not in self.producers:
            binding = ctx.bindings.get(key)
            ctx.fail(node, f"{binding.var if binding else key} must come straight from a step here ({why})",
                     rule="unsupported-expression", hint="assign the step's result to a variable and use that")
        known = self.stores.get(key)
        if known is not None and known[0] != mode:
            ctx.fail(node, f"{ctx.bindings[key].var} is needed both in the state ({known[2]}) and in S3 ({why})",
                     rule="conflicting-storage", hint="give the two uses separate step calls")
        self.stores[key] = (mode, ctx.loc(node), why)

    def copy(self, builder: BlockBuilder, info: VarInfo, key: str, var: str, node: ast.AST) -> VarInfo:
        """A Pass state that puts ``info``'s value under ``key``."""
        ctx = self.ctx
        kind = {"literal": BindingKind.RAW, "param": BindingKind.RAW, "raw": BindingKind.RAW,
                "result": BindingKind.RESULT, "deferred": BindingKind.RESULT,
                "results": BindingKind.RESULTS}[info.kind]
        field_path: tuple[str | int, ...] = ()
        if isinstance(info.value, ParamRef) and info.value.stored:  # a caller's step envelope
            kind = BindingKind.RESULT
            field_path = info.value.path[1:]
        elif isinstance(info.value, BindingRef) and info.kind == "result":
            field_path = info.value.path
        if field_path:
            kind = BindingKind.RAW
            if not (len(field_path) == 1 and typeinfo.is_scalar(info.annotation)):
                # the state keeps only a result's top-level scalars beside a reference to the rest
                ctx.fail(node, f"{var} = {ast.unparse(node) if isinstance(node, ast.expr) else var}: a variable "
                         "assigned more than once (in branches, or appended to in a loop) can hold a whole step "
                         "result or a top-level number, string or boolean field of one", rule="unsupported-expression",
                         hint="pass the field to the step that needs it (step(result.items)), or have each branch "
                              "call a step that returns it")
        source = ast.unparse(node) if isinstance(node, ast.expr) else var
        name = ctx.state_name(state_name_from_source(f"{var} = {source}")[:70])
        binding = ctx.bind(key, var, kind, info.annotation, ctx.loc(node), state=name)
        builder.add(Copy(name=name, value=info.value, binding=key, location=ctx.loc(node)),
                    reads=value_keys(info.value), writes=frozenset({key}))
        return dataclasses.replace(ctx.var_info(binding), copied=True)

    # --- blocks ----------------------------------------------------------------------------

    def block(self, stmts: list[ast.stmt], scope: Scope, frame: Frame, *,
              hints: dict[str, str] | None = None) -> BlockBuilder:
        builder = BlockBuilder()
        self.block_into(stmts, scope, builder, frame, hints=hints or {})
        return builder

    def block_into(self, stmts: list[ast.stmt], scope: Scope, builder: BlockBuilder, frame: Frame, *,
                   hints: dict[str, str]) -> None:
        last_assign: dict[str, int] = {}
        for index, stmt in enumerate(stmts):
            for var in assigned_names([stmt]):
                last_assign[var] = index
        for index, stmt in enumerate(stmts):
            if builder.returns:
                self.ctx.fail(stmt, "this line never runs: every path before it ends with return or raise",
                              rule="unreachable", hint="remove it, or move it before the return")
            stmt_hints = {var: key for var, key in hints.items() if last_assign.get(var) == index}
            self.statement(stmt, scope, builder, frame, stmt_hints)
        if builder.returns:
            return
        for var, key in hints.items():
            info = scope.get(var)
            if isinstance(info, VarInfo) and isinstance(info.value, BindingRef) and info.value.key == key \
                    and not info.value.path:
                continue
            if not isinstance(info, VarInfo):
                why = info.why if isinstance(info, Unset) else "is not assigned on this path"
                location = stmts[-1] if stmts else None
                self.ctx.fail(location or ast.Pass(lineno=self.ctx.wf.location.line, col_offset=0),
                              f"{var!r} {why}", rule="maybe-unassigned",
                              hint=f"assign {var} on every path that continues past this point")
            anchor = stmts[-1] if stmts else ast.Name(id=var, lineno=info.location.line, col_offset=0)
            scope.set(var, self.copy(builder, info, key, var, anchor))

    def statement(self, stmt: ast.stmt, scope: Scope, builder: BlockBuilder, frame: Frame,
                  hints: dict[str, str]) -> None:
        ctx = self.ctx
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            self.assignment(stmt, scope, builder, frame, hints)
        elif isinstance(stmt, ast.Expr):
            self.expression(stmt, scope, builder, frame, hints)
        elif isinstance(stmt, ast.Pass):
            return
        elif isinstance(stmt, ast.If):
            self.branches.if_statement(stmt, scope, builder, frame, hints)
        elif isinstance(stmt, ast.For):
            self.fanouts.for_loop(stmt, scope, builder, frame, hints)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self.branches.try_statement(stmt, scope, builder, frame, hints)  # type: ignore[arg-type]
        elif isinstance(stmt, ast.Return):
            self.return_statement(stmt, scope, builder, frame)
        elif isinstance(stmt, ast.Raise):
            self.raise_statement(stmt, scope, builder, frame)
        else:
            message, hint = _UNSUPPORTED.get(type(stmt), (f"{type(stmt).__name__} statements are not supported "
                                                          "in a workflow body", "move this into a step"))
            ctx.fail(stmt, message, rule="unsupported-statement", hint=hint)

    # --- simple statements -------------------------------------------------------------------

    def assignment(self, stmt: ast.Assign | ast.AnnAssign, scope: Scope, builder: BlockBuilder, frame: Frame,
                   hints: dict[str, str]) -> None:
        ctx = self.ctx
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            target = targets[0] if len(targets) == 1 else stmt
            if isinstance(target, ast.Tuple):
                ctx.fail(stmt, "unpacking (a, b = ...) is not supported", rule="unsupported-statement",
                         hint="return a model from the step and read its fields: r = step(...); r.a, r.b")
            if isinstance(target, (ast.Attribute, ast.Subscript)):
                ctx.fail(stmt, f"{ast.unparse(target)} = ...: values in a workflow cannot be changed in place",
                         rule="unsupported-statement", hint="make the new value in a step and assign it to a name")
            ctx.fail(stmt, "assign to one name at a time: x = step(...)", rule="unsupported-statement")
        assert isinstance(targets[0], ast.Name)
        var = targets[0].id
        value = stmt.value
        if value is None:
            ctx.fail(stmt, f"{var}: declares a type without a value", rule="unsupported-statement",
                     hint=f"write {var} = step(...)")
        if frame.loop is not None and frame.loop.accumulator == var:
            ctx.fail(stmt, f"{var} collects the loop's results and cannot be reassigned inside the loop",
                     rule="unsupported-statement")
        key = hints.get(var)
        if isinstance(value, ast.Call):
            info = self.calls.call(value, scope, builder, var=var, key=key)
            if info is None:
                ctx.fail(value, f"{ast.unparse(value)[:50]} returns nothing to assign", rule="unsupported-expression")
        elif isinstance(value, ast.ListComp):
            result = self.fanouts.comprehension(value, scope, builder, var=var, key=key)
            if result is None:
                ctx.fail(value, "the comprehension's items produce no results to collect", rule="bad-fan-out")
            info = result
        else:
            info = read_value(ctx, scope, value, what=f"the value of {var}")
            info = VarInfo(value=info.value, kind=info.kind, annotation=info.annotation, location=ctx.loc(stmt))
        if key is not None and not (isinstance(info.value, BindingRef) and info.value.key == key
                                    and not info.value.path):
            info = self.copy(builder, info, key, var, value)
        scope.set(var, info)

    def expression(self, stmt: ast.Expr, scope: Scope, builder: BlockBuilder, frame: Frame,
                   hints: dict[str, str]) -> None:
        ctx = self.ctx
        value = stmt.value
        if isinstance(value, ast.Constant):
            return  # a docstring or a bare literal: nothing runs
        if not isinstance(value, ast.Call):
            ctx.fail(stmt, f"{ast.unparse(value)[:60]} does nothing on its own", rule="unsupported-statement",
                     hint="call a step, or remove the line")
        func = value.func
        if isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.Name) and \
                scope.get(func.value.id) is not None:
            self.fanouts.append(stmt, value, scope, builder, frame, hints)
            return
        self.calls.call(value, scope, builder, var=None, key=None)

    def return_statement(self, stmt: ast.Return, scope: Scope, builder: BlockBuilder, frame: Frame) -> None:
        ctx = self.ctx
        if frame.loop is not None:
            ctx.fail(stmt, "return inside a fan-out loop is not supported: each item's path ends at the loop's end",
                     rule="return-in-loop", hint="collect results with append and return after the loop")
        value: Value | None = None
        if stmt.value is not None and not (isinstance(stmt.value, ast.Constant) and stmt.value.value is None):
            if isinstance(stmt.value, ast.ListComp):
                info = self.fanouts.comprehension(stmt.value, scope, builder, var=None, key=None)
                if info is None:
                    ctx.fail(stmt.value, "the fan-out collects nothing to return", rule="bad-fan-out")
            else:
                info = self.calls.argument(stmt.value, scope, builder, what="return")
            assert info is not None
            if isinstance(info.value, BindingRef) and info.value.path and info.kind in ("result", "deferred") and not (
                info.kind == "result" and len(info.value.path) == 1 and typeinfo.is_scalar(info.annotation)
            ):
                ctx.fail(stmt.value, f"return {ast.unparse(stmt.value)}: a workflow can return a whole step result "
                         "or a top-level number, string or boolean field of one", rule="unsupported-expression",
                         hint="return the step's result, and read the field from the run's output")
            value = info.value
        text = "return" if stmt.value is None else f"return {ast.unparse(stmt.value)}"
        name = ctx.state_name(state_name_from_source(text)[:70])
        builder.add(Return(name=name, value=value, location=ctx.loc(stmt)),
                    reads=value_keys(value) if value else frozenset(), ends=True)
        builder.returns = True

    def raise_statement(self, stmt: ast.Raise, scope: Scope, builder: BlockBuilder, frame: Frame) -> None:
        ctx = self.ctx
        if stmt.cause is not None:
            ctx.fail(stmt, "raise ... from ... is not supported", rule="unsupported-statement",
                     hint="raise the error on its own: raise MyError('what went wrong')")
        exc = stmt.exc
        rethrow: str | None = None
        error, cause = "", ""
        if exc is None or (isinstance(exc, ast.Name) and frame.error_var == exc.id):
            if frame.error_key is None:
                ctx.fail(stmt, "a bare raise is only allowed inside an except block", rule="unsupported-statement")
            rethrow = frame.error_key
            text = f"raise {exc.id}" if isinstance(exc, ast.Name) else "raise"
        else:
            call = exc if isinstance(exc, ast.Call) else None
            cls = resolve_global(ctx, call.func if call else exc)
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                ctx.fail(stmt, f"raise {ast.unparse(exc)[:50]}: raise an exception class defined at module level",
                         rule="bad-raise", hint="raise MyError('what went wrong')")
            error = cls.__name__
            if call is not None:
                if call.keywords or len(call.args) > 1 or (
                    call.args and not (isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value,
                                                                                               str))
                ):
                    ctx.fail(call, "the error's message must be one literal string", rule="bad-raise",
                             hint=f"raise {error}('what went wrong'); pass values to a step to build a message")
                first = call.args[0] if call.args else None
                cause = str(first.value) if isinstance(first, ast.Constant) else ""
            text = f"raise {error}"
        name = ctx.state_name(state_name_from_source(text))
        builder.add(Raise(name=name, error=error, cause=cause, location=ctx.loc(stmt), rethrow=rethrow),
                    reads=frozenset({rethrow}) if rethrow else frozenset(), ends=True)
        builder.returns = True

    # --- branches --------------------------------------------------------------------------
