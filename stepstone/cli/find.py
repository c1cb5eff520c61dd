"""Finding what a command names: a workflow by its name or file, and what started a run a
person starts; each miss is one line and exit 2."""

from __future__ import annotations

import os
from typing import Any

from compiler.dsl.workflows import WorkflowDef

from ..console import fail
from ..project import lookup_workflow, workflow_files
from .common import load_or_exit, one_workflow

__all__ = ["find_workflow", "manual"]


def manual() -> dict[str, Any]:
    """The trigger of a run a person starts."""
    return {"kind": "manual", "by": os.environ.get("USER") or "stepstone"}


def find_workflow(name: str) -> tuple[str, WorkflowDef[..., Any]]:
    """``FILE[:NAME]``, or the name of a workflow in the project's workflow files: (spec, workflow)."""
    if name.endswith(".py") or ".py:" in name or os.sep in name:
        workflow = one_workflow(name, load_or_exit(name))
        return f"{name.rsplit(':', 1)[0] if '.py:' in name else name}:{workflow.name}", workflow
    known: list[str] = []
    found = lookup_workflow(name, workflow_files(), known)
    if found is None:
        fail(f"no workflow named {name!r} in {', '.join(workflow_files()) or 'the project'}",
             hint=("name one of: " + ", ".join(sorted(set(known)))) if known else "name its file: FILE.py[:NAME]")
    return found
