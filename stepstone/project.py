"""The project's workflows: which files hold them, and which file holds the workflow of a name."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path
from typing import Any

from compiler.dsl.workflows import WorkflowDef

__all__ = ["lookup_workflow", "workflow_files"]


def workflow_files() -> list[str]:
    """The project's workflow files: $STEPSTONE_WORKFLOWS (globs, comma-separated), else the
    CDK app's ``stepstone:workflows`` in cdk.json, else examples/*.py."""
    patterns: list[str] = []
    if os.environ.get("STEPSTONE_WORKFLOWS"):
        patterns = [p.strip() for p in os.environ["STEPSTONE_WORKFLOWS"].split(",") if p.strip()]
    elif Path("cdk.json").exists():
        try:
            setting = json.loads(Path("cdk.json").read_text()).get("context", {}).get("stepstone:workflows")
        except ValueError:
            setting = None
        patterns = [setting] if isinstance(setting, str) else list(setting or [])
    return sorted({f for p in (patterns or ["examples/*.py"]) for f in glob.glob(p)})


def lookup_workflow(name: str, files: list[str],
                    known: list[str] | None = None) -> tuple[str, WorkflowDef[..., Any]] | None:
    """(spec, workflow) of the workflow called ``name`` in ``files`` (those that do not load
    are passed over), or None; ``known`` collects the names seen."""
    from compiler.dsl.errors import CompileError
    from compiler.errors import LoadError
    from compiler.loader import load_workflows

    for file in files:
        try:
            workflows = load_workflows(file)
        except (LoadError, CompileError):
            continue
        for workflow in workflows:
            if name in (workflow.name, workflow.fn.__name__):
                return f"{file}:{workflow.name}", workflow
            if known is not None:
                known.append(workflow.name)
    return None
