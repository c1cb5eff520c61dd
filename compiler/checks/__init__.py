"""Checks: small named rules over a workflow's IR, each returning CompileErrors.

Rules that need the whole workflow (cycles, limits, Express restrictions, schedules) live
here; rules about a single line (the supported subset, names, arguments) are applied by
the parser as it reads that line, with the same error type. Each rule is registered under
its name with :func:`rule` and must not raise: it returns what it found.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..dsl.errors import CompileError
from ..ir import Workflow
from ..plan import Planner

__all__ = ["RULES", "CheckContext", "rule", "run_checks"]


@dataclass
class CheckContext:
    workflow: Workflow
    planner: Planner
    definition: Any = None  # the workflow's @workflow object, for rules that look beyond the IR
    notes: list[str] = field(default_factory=list)


Rule = Callable[[CheckContext], Iterable[CompileError]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        if name in RULES:
            raise ValueError(f"rule {name!r} registered twice")
        RULES[name] = fn
        return fn

    return register


def run_checks(context: CheckContext) -> list[CompileError]:
    """Every rule's findings, in rule order (rules are independent of each other)."""
    from . import compute, errors, express, limits, secrets, structure, triggers  # noqa: F401  (registers the rules)

    found: list[CompileError] = []
    for fn in RULES.values():
        found.extend(fn(context))
    return found
