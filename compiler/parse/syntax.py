"""Facts read from a workflow body's syntax alone, before its statements are compiled:
which variables a block assigns, whether it always ends, where a loop collects results."""

from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["Frame", "LoopFrame", "appended", "appends", "assigned_names", "has_bare_raise", "terminates"]


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
            names |= {acc for acc, _ in appends(stmt.body)}
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


def appends(stmts: list[ast.stmt]) -> list[tuple[str, ast.Expr]]:
    """``x.append(...)`` statements of a loop body, inside its ifs and trys (not inner loops)."""
    found: list[tuple[str, ast.Expr]] = []
    for stmt in stmts:
        target = _append_target(stmt)
        if target is not None:
            found.append((target, stmt))  # type: ignore[arg-type]
        elif isinstance(stmt, ast.If):
            found += appends(stmt.body) + appends(stmt.orelse)
        elif isinstance(stmt, ast.Try):
            found += appends(stmt.body)
            for handler in stmt.handlers:
                found += appends(handler.body)
    return found


def has_bare_raise(stmts: list[ast.stmt]) -> bool:
    for stmt in stmts:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Raise) and node.exc is None:
                return True
    return False
