"""``if/elif/else`` and ``try/except``: branches, and the variables merged after them.

A variable assigned in several branches of an ``if`` (or in a ``try`` and its handlers)
is *merged*: every branch stores its final value under one key, so the code after the
``if`` finds it in one place whichever branch ran. The branches are planned before they
are read, so each branch's last assignment writes there directly; only a branch that
keeps an earlier value copies it (a Pass state).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from ..dsl.options import error_names
from ..ir import BindingKind, BindingRef, Branch, Handler, If, Try
from .blocks import BlockBuilder
from .conditions import read_condition
from .context import Scope, Unset, VarInfo, state_name_from_source
from .syntax import Frame, assigned_names, has_bare_raise, terminates
from .values import MISSING, resolve_global

if TYPE_CHECKING:
    from .statements import BodyParser

__all__ = ["BranchParser"]


class BranchParser:
    def __init__(self, body: BodyParser) -> None:
        self.body = body
        self.ctx = body.ctx

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
            self.body.block_into(body, branch_scope, branch, frame,
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
        condition_reads: set[str] = set()
        for cond in conditions:
            condition_reads |= _condition_keys(cond)
        _add_compound(builder, If(name=name, branches=branches, orelse=orelse_block, location=ctx.loc(stmt)),
                      results, writes, extra_reads=condition_reads)

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
        self.body.block_into(stmt.body, body_scope, body, frame,
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
            if handler.name or has_bare_raise(handler.body):
                error_key = ctx.new_key(handler.name or "error")
                annotation = classes[0] if len(classes) == 1 else BaseException
                binding = ctx.bind(error_key, handler.name or "error", BindingKind.RAW, annotation, ctx.loc(handler))
                if handler.name:
                    handler_scope.set(handler.name, ctx.var_info(binding))
            handler_frame = Frame(loop=frame.loop, error_key=error_key, error_var=handler.name)
            handler_builder = BlockBuilder()
            self.body.block_into(handler.body, handler_scope, handler_builder, handler_frame,
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
        name = ctx.state_name("try")
        _add_compound(builder, Try(name=name, body=body.build(), handlers=tuple(handlers), location=ctx.loc(stmt)),
                      results, writes, extra_defines={h.binding for h in handlers if h.binding})

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


def _add_compound(builder: BlockBuilder, node: If | Try, results: list[tuple[BlockBuilder, Scope, bool]],
                  writes: frozenset[str], *, extra_reads: set[str] | None = None,
                  extra_defines: set[str] | None = None) -> None:
    """Add an ``if`` or ``try`` to its block: it reads what its branches read from outside,
    defines what they define, and can end the path when any branch can."""
    reads = set(extra_reads or ())
    defines = set(extra_defines or ())
    ends = False
    for branch, _, _ in results:
        reads |= branch.free_reads
        defines |= branch.defined
        ends = ends or branch.returns or any(u.ends for u in branch.units)
    builder.add(node, reads=frozenset(reads - defines), writes=writes, defines=frozenset(defines), ends=ends)
    if all(b.returns for b, _, _ in results):
        builder.returns = True


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
