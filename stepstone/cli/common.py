"""What the commands share: loading workflow files and compiling them, with errors as lines."""

from __future__ import annotations

import sys
from typing import Any

from compiler import CompileError, compile_workflow
from compiler.dsl.workflows import WorkflowDef
from compiler.errors import LoadError
from compiler.loader import load_workflows
from compiler.pipeline import CompiledWorkflow

from ..console import EXIT_COMPILE, fail, print_compile_error

__all__ = ["compile_or_exit", "error_json", "load_or_exit", "one_workflow"]


def load_or_exit(spec: str) -> list[WorkflowDef[..., Any]]:
    try:
        return load_workflows(spec)
    except LoadError as exc:
        fail(str(exc), hint=exc.hint or "check the path, or list the file's workflows with `stepstone validate FILE`")
    except CompileError as exc:
        print_compile_error(exc)
        sys.exit(EXIT_COMPILE)


def one_workflow(spec: str, workflows: list[WorkflowDef[..., Any]]) -> WorkflowDef[..., Any]:
    if len(workflows) > 1:
        names = ", ".join(w.name for w in workflows)
        fail(f"{spec} defines several workflows: {names}", hint=f"pick one: {spec}:{workflows[0].name}")
    return workflows[0]


def compile_or_exit(workflow: WorkflowDef[..., Any]) -> CompiledWorkflow:
    try:
        return compile_workflow(workflow)
    except CompileError as exc:
        print_compile_error(exc)
        sys.exit(EXIT_COMPILE)


def error_json(error: CompileError) -> dict[str, Any]:
    location = error.location
    return {
        "rule": error.rule,
        "message": error.message,
        "hint": error.hint,
        "file": location.file if location else None,
        "line": location.line if location else None,
        "col": location.col if location else None,
    }
