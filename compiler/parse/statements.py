"""Statements of a workflow body -> units of blocks.

The supported subset: assignments of step calls, bare step calls, ``if/elif/else``, ``for``
loops and comprehensions (fan-out), ``try/except``, ``return`` and ``raise``. Everything
else is a CompileError at its line that says what to write instead.

A variable assigned in several branches of an ``if`` (or in a ``try`` and its handlers)
is *merged*: every branch stores its final value under one key, so the code after the
``if`` finds it in one place whichever branch ran. The branches are planned before they
are read, so each branch's last assignment writes there directly; only a branch that
keeps an earlier value copies it (a Pass state).
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .. import typeinfo
from ..errors import Location
from ..ir import BindingKind, BindingRef, Branch, Copy, Handler, If, Raise, Return, Try, Value
from ..options import error_names
from .blocks import BlockBuilder
from .calls import CallParser, value_keys
from .conditions import read_condition
from .context import Scope, Unset, VarInfo, WorkflowContext, state_name_from_source
from .fanouts import FanOutParser
from .values import MISSING, read_value, resolve_global

__all__ = ["BodyParser", "Frame"]


@dataclass
class LoopFrame:
    """Inside a ``for`` body: the list that ``append`` collects into.

    ``acc.append(x)`` assigns a hidden variable (``appended(acc)``): what an item's path
    appends is that variable's value at the end of the body, merged across ``if`` branches
    like any other variable, so each path must append exactly once (or raise).
    """

    accumulator: str | None


def appended(accumulator: str) -> str:
    """The hidden variable an ``accumulator.append(...)`` assigns (not a valid Python name)."""
    return f"{accumulator}.append"


@dataclass(frozen=True)
class Frame:
    loop: LoopFrame | None = None
    error_key: str | None = None  # the caught error, inside an except block (for a bare raise)
    error_var: str | None = None


def assigned_names(stmts: list[ast.stmt]) -> set[str]:
    """Variables a list of statements assigns and leaves visible after it."""
    names: set[str] = set()
    for stmt in stmts:
        if isinstance(stmt, ast.Assign):
            names.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
        elif isinstance(stmt, ast.If):
            names |= assigned_names(stmt.body) | assigned_names(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            names |= assigned_names(stmt.body)
            for handler in stmt.handlers:
                names |= assigned_names(handler.body)
        elif isinstance(stmt, ast.For):
            names |= {acc for acc, _ in _appends(stmt.body)}
        elif isinstance(stmt, ast.Expr) and _append_target(stmt) is not None:
            names.add(appended(_append_target(stmt)))  # type: ignore[arg-type]
    return names


def terminates(stmts: list[ast.stmt]) -> bool:
    """Every path through the statements ends in a return or raise."""
    if not stmts:
        return False
    last = stmts[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return bool(last.orelse) and terminates(last.body) and terminates(last.orelse)
    if isinstance(last, ast.Try):
        return terminates(last.body) and all(terminates(h.body) for h in last.handlers)
    return False


def _append_target(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        if isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.Name):
            return func.value.id
    return None


def _appends(stmts: list[ast.stmt]) -> list[tuple[str, ast.Expr]]:
    """``x.append(...)`` statements of a loop body, inside its ifs and trys (not inner loops)."""
    found: list[tuple[str, ast.Expr]] = []
    for stmt in stmts:
        target = _append_target(stmt)
        if target is not None:
            found.append((target, stmt))  # type: ignore[arg-type]
        elif isinstance(stmt, ast.If):
            found += _appends(stmt.body) + _appends(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            found += _appends(stmt.body)
            for handler in stmt.handlers:
                found += _appends(handler.body)
    return found


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
    stores: dict[str, tuple[str, Location, str]] = field(default_factory=dict)
    producers: dict[str, str] = field(default_factory=dict)
    bounds: dict[str, int] = field(default_factory=dict)  # most items of each fan-in list

    def __post_init__(self) -> None:
        self.calls = CallParser(self)
        self.fanouts = FanOutParser(self)

    # --- bookkeeping -----------------------------------------------------------------------

    def require_store(self, key: str, mode: str, node: ast.AST, *, why: str) -> None:
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
        if isinstance(info.value, BindingRef) and info.kind == "result" and info.value.path:
            kind = BindingKind.RAW
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
            self.if_statement(stmt, scope, builder, frame, hints)
        elif isinstance(stmt, ast.For):
            self.fanouts.for_loop(stmt, scope, builder, frame, hints)
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":
            self.try_statement(stmt, scope, builder, frame, hints)  # type: ignore[arg-type]
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

    def _plan_merge(self, paths: list[list[ast.stmt]], scope: Scope, hints: dict[str, str], *,
                    body_first_strict: bool) -> dict[str, str]:
        """Variables to merge after the branches, with the key each is stored under."""
        open_paths = [p for p in paths if not terminates(p)]
        merged: dict[str, str] = {}
        if len(open_paths) >= 2:
            assigned = [assigned_names(p) for p in open_paths]
            for var in sorted(set().union(*assigned)):
                in_all = all(var in names for names in assigned)
                before = isinstance(scope.get(var), VarInfo)
                body_changes = body_first_strict and var in assigned_names(paths[0])
                if in_all or (before and not body_changes):
                    merged[var] = hints.get(var) or self.ctx.new_key(var)
        for var, key in hints.items():
            merged.setdefault(var, key)
        return merged

    def _merge_scopes(self, scope: Scope, node: ast.stmt, results: list[tuple[BlockBuilder, Scope, bool]],
                      merged: dict[str, str], why_unset: str) -> frozenset[str]:
        """Set ``scope`` to what holds after the branches; return the keys visible after."""
        ctx = self.ctx
        open_results = [(b, s) for b, s, _ in results if not b.returns]
        if len(open_results) == 1:
            only_builder, only_scope = open_results[0]
            scope.names = dict(only_scope.names)
            return frozenset(only_builder.producers)
        visible: set[str] = set()
        changed: set[str] = set()
        for _, branch_scope in open_results:
            changed |= {n for n, v in branch_scope.names.items() if scope.names.get(n) is not v}
        for var in sorted(changed):
            if var in merged:
                key = merged[var]
                infos = [s.get(var) for _, s in open_results]
                kind = self._merged_kind(node, var, infos)
                annotations = {repr(i.annotation) for i in infos if isinstance(i, VarInfo)}
                annotation = infos[0].annotation if len(annotations) == 1 and isinstance(infos[0], VarInfo) \
                    else Any
                binding = ctx.bind(key, var, kind, annotation, ctx.loc(node))
                scope.set(var, ctx.var_info(binding))
                visible.add(key)
            else:
                scope.set(var, Unset(why=why_unset, location=ctx.loc(node),
                                     hint=f"assign {var} on every path (e.g. {var} = None in the other branch)"))
        return frozenset(visible)

    def _merged_kind(self, node: ast.stmt, var: str, infos: list[VarInfo | Unset | None]) -> BindingKind:
        """The kind of a merged variable. A plain value that a Pass state put in place merges
        with step results: the Pass wraps it as a step output (``{"value": ...}``)."""
        kinds: set[BindingKind] = set()
        wrappable = True
        for info in infos:
            assert isinstance(info, VarInfo)
            if info.kind == "results":
                kinds.add(BindingKind.RESULTS)
            elif info.kind in ("result", "deferred"):
                kinds.add(BindingKind.RESULT)
            else:
                kinds.add(BindingKind.RAW)
                wrappable = wrappable and info.copied
        if len(kinds) <= 1:
            return kinds.pop() if kinds else BindingKind.RAW
        if kinds == {BindingKind.RESULT, BindingKind.RAW} and wrappable:
            return BindingKind.RESULT
        self.ctx.fail(node, f"{var!r} holds a step result on one path and a value of another kind (a fan-out's "
                      "list, an approval or a caught error) on another", rule="mixed-kinds",
                      hint=f"give {var} the same kind of value in every branch, or return in each branch")

    def if_statement(self, stmt: ast.If, scope: Scope, builder: BlockBuilder, frame: Frame,
                     hints: dict[str, str]) -> None:
        ctx = self.ctx
        tests: list[ast.expr] = []
        bodies: list[list[ast.stmt]] = []
        node: ast.If = stmt
        while True:
            tests.append(node.test)
            bodies.append(node.body)
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                node = node.orelse[0]
                continue
            orelse = node.orelse
            break
        conditions = [read_condition(ctx, scope, test) for test in tests]
        paths = [*bodies, orelse]
        merged = self._plan_merge(paths, scope, hints, body_first_strict=False)
        results: list[tuple[BlockBuilder, Scope, bool]] = []
        for body in paths:
            branch_scope = scope.copy()
            branch = BlockBuilder()
            self.block_into(body, branch_scope, branch, frame,
                            hints={} if terminates(body) else {v: k for v, k in merged.items()})
            results.append((branch, branch_scope, bool(body)))
        cond_text = " or ".join(ast.unparse(t) for t in tests) if len(tests) > 1 else ast.unparse(tests[0])
        writes = self._merge_scopes(scope, stmt, results, merged,
                                    why_unset=f"is assigned only on some paths of the if at line {stmt.lineno}")
        branches = tuple(
            Branch(condition=cond, body=b.build(), text=ast.unparse(test))
            for cond, (b, _, _), test in zip(conditions, results[:-1], tests, strict=True)
        )
        else_builder = results[-1][0]
        orelse_block = else_builder.build() if else_builder.units or orelse else None
        name = ctx.state_name(state_name_from_source(f"if {cond_text}")[:70])
        reads: set[str] = set()
        for cond in conditions:
            reads |= _condition_keys(cond)
        defines: set[str] = set()
        ends = False
        for branch_builder, _, _ in results:
            reads |= branch_builder.free_reads
            defines |= branch_builder.defined
            ends = ends or branch_builder.returns or any(u.ends for u in branch_builder.units)
        builder.add(If(name=name, branches=branches, orelse=orelse_block, location=ctx.loc(stmt)),
                    reads=frozenset(reads - defines), writes=writes, defines=frozenset(defines), ends=ends)
        if all(b.returns for b, _, _ in results):
            builder.returns = True

    def try_statement(self, stmt: ast.Try, scope: Scope, builder: BlockBuilder, frame: Frame,
                      hints: dict[str, str]) -> None:
        ctx = self.ctx
        if type(stmt).__name__ == "TryStar":
            ctx.fail(stmt, "except* is not supported", rule="unsupported-statement", hint="use except")
        if stmt.finalbody:
            ctx.fail(stmt.finalbody[0], "finally blocks are not supported", rule="unsupported-statement",
                     hint="put the cleanup step after the try statement and in each except block")
        if stmt.orelse:
            ctx.fail(stmt.orelse[0], "try/else is not supported", rule="unsupported-statement",
                     hint="put these lines at the end of the try block")
        paths = [stmt.body] + [h.body for h in stmt.handlers]
        merged = self._plan_merge(paths, scope, hints, body_first_strict=True)
        body_scope = scope.copy()
        body = BlockBuilder()
        self.block_into(stmt.body, body_scope, body, frame,
                        hints={} if terminates(stmt.body) else dict(merged))
        body_assigned = assigned_names(stmt.body)
        results: list[tuple[BlockBuilder, Scope, bool]] = [(body, body_scope, True)]
        handlers: list[Handler] = []
        seen_all = False
        for handler in stmt.handlers:
            if seen_all:
                ctx.fail(handler, "this except clause never runs: an earlier one catches every error",
                         rule="unreachable", hint="put the catch-all except last")
            classes = self._handler_classes(handler)
            names = error_names(classes)
            seen_all = names == ("States.ALL",)
            handler_scope = scope.copy()
            for var in body_assigned:
                handler_scope.set(var, Unset(
                    why=f"is assigned in the try block at line {stmt.lineno}, which may have failed before "
                        "assigning it",
                    location=ctx.loc(handler),
                    hint=f"use only values made before the try, or assign {var} in the except block"))
            error_key: str | None = None
            if handler.name or _has_bare_raise(handler.body):
                error_key = ctx.new_key(handler.name or "error")
                annotation = classes[0] if len(classes) == 1 else BaseException
                binding = ctx.bind(error_key, handler.name or "error", BindingKind.RAW, annotation, ctx.loc(handler))
                if handler.name:
                    handler_scope.set(handler.name, ctx.var_info(binding))
            handler_frame = Frame(loop=frame.loop, error_key=error_key, error_var=handler.name)
            handler_builder = BlockBuilder()
            self.block_into(handler.body, handler_scope, handler_builder, handler_frame,
                            hints={} if terminates(handler.body) else dict(merged))
            if handler.name:
                handler_scope.set(handler.name, Unset(why="is the caught error, which exists only in its except "
                                                          "block", location=ctx.loc(handler),
                                                      hint="use it inside the except block"))
            results.append((handler_builder, handler_scope, True))
            handlers.append(Handler(errors=names, binding=error_key, body=handler_builder.build(),
                                    location=ctx.loc(handler)))
        writes = self._merge_scopes(scope, stmt, results, merged,
                                    why_unset=f"is assigned on only some paths of the try at line {stmt.lineno}")
        reads: set[str] = set()
        defines: set[str] = set()
        ends = False
        for result_builder, _, _ in results:
            reads |= result_builder.free_reads
            defines |= result_builder.defined
            ends = ends or result_builder.returns or any(u.ends for u in result_builder.units)
        for handler_ir in handlers:
            if handler_ir.binding:
                defines.add(handler_ir.binding)
        name = ctx.state_name("try")
        builder.add(Try(name=name, body=body.build(), handlers=tuple(handlers), location=ctx.loc(stmt)),
                    reads=frozenset(reads - defines), writes=writes, defines=frozenset(defines), ends=ends)
        if all(b.returns for b, _, _ in results):
            builder.returns = True

    def _handler_classes(self, handler: ast.ExceptHandler) -> list[type[BaseException]]:
        ctx = self.ctx
        if handler.type is None:
            return [Exception]
        nodes = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        classes: list[type[BaseException]] = []
        for node in nodes:
            cls = resolve_global(ctx, node)
            if cls is MISSING:
                import difflib

                known = [n for n, v in ctx.globals.items() if isinstance(v, type) and issubclass(v, BaseException)]
                close = difflib.get_close_matches(ast.unparse(node), known, n=1)
                ctx.fail(node, f"{ast.unparse(node)!r} is not defined"
                         + (f" (did you mean {close[0]!r}?)" if close else ""), rule="undefined-name",
                         hint="catch an exception class defined or imported at module level")
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                ctx.fail(node, f"except {ast.unparse(node)}: not an exception class", rule="bad-except",
                         hint="catch exception classes defined at module level, e.g. except DataError")
            classes.append(cls)
        return classes


def _has_bare_raise(stmts: list[ast.stmt]) -> bool:
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Raise) and node.exc is None:
                return True
    return False


def _condition_keys(condition: object) -> set[str]:
    keys: set[str] = set()
    for attr in ("left", "right", "value"):
        value = getattr(condition, attr, None)
        if isinstance(value, BindingRef):
            keys.add(value.key)
    for attr in ("items",):
        for item in getattr(condition, attr, ()) or ():
            keys |= _condition_keys(item)
    inner = getattr(condition, "inner", None)
    if inner is not None:
        keys |= _condition_keys(inner)
    return keys

