"""Reading a compiled definition back: every state of a machine, nested ones included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["state_definitions", "task_functions"]

JSON = Any


def state_definitions(definition: Mapping[str, JSON]) -> dict[str, Mapping[str, JSON]]:
    """Every state of a machine by name, inside Parallel branches and Map iterations too."""
    found: dict[str, Mapping[str, JSON]] = {}
    pending = [definition]
    while pending:
        machine = pending.pop()
        for name, state in (machine.get("States") or {}).items():
            found.setdefault(name, state)
            pending.extend(state.get("Branches") or [])
            for key in ("ItemProcessor", "Iterator"):
                if isinstance(state.get(key), Mapping):
                    pending.append(state[key])
    return found


def task_functions(definition: Mapping[str, JSON]) -> list[str]:
    """The Lambda functions a deployed definition's tasks invoke (their ``FunctionName``), sorted, each once."""
    found: set[str] = set()
    for state in state_definitions(definition).values():
        if state.get("Type") == "Task" and str(state.get("Resource", "")).startswith("arn:aws:states:::lambda:invoke"):
            name = (state.get("Parameters") or {}).get("FunctionName")
            if isinstance(name, str):
                found.add(name)
    return sorted(found)
