"""stepstone's compiler: Python workflows -> IR -> checks -> Amazon States Language.

This package is what a workflow file imports (through ``stepstone``). It is pure Python:
it never imports boto3 or the AWS CDK. Decorators record; :func:`compile` compiles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .artifacts import RunningStep, running_step, save_artifact
from .errors import CompileError, Location
from .failures import PermanentError, StepTimeout, TransientError
from .options import Batch, Lambda, Retry
from .schedules import Schedule, cron, rate
from .steps import StepDef, step
from .triggers import S3Upload, WorkflowSucceeded, s3_upload, workflow_succeeded
from .workflows import Approval, ParamsError, WorkflowDef, approve, map, workflow  # noqa: A004

if TYPE_CHECKING:
    from .pipeline import CompiledWorkflow, compile_workflow

    compile = compile_workflow  # noqa: A001 - the design's name: compiler.compile(workflow)


def __getattr__(name: str) -> Any:
    # The compile pipeline loads on first use: a step running in Lambda imports the DSL
    # (through its workflow module) but never compiles, and its cold start stays small.
    if name in ("compile", "compile_workflow", "CompiledWorkflow"):
        from . import pipeline

        return pipeline.CompiledWorkflow if name == "CompiledWorkflow" else pipeline.compile_workflow
    raise AttributeError(f"module 'compiler' has no attribute {name!r}")

__all__ = [
    "Approval",
    "Batch",
    "CompileError",
    "CompiledWorkflow",
    "Lambda",
    "Location",
    "ParamsError",
    "PermanentError",
    "Retry",
    "RunningStep",
    "S3Upload",
    "Schedule",
    "StepDef",
    "StepTimeout",
    "TransientError",
    "WorkflowDef",
    "WorkflowSucceeded",
    "approve",
    "compile",
    "compile_workflow",
    "cron",
    "map",
    "rate",
    "running_step",
    "s3_upload",
    "save_artifact",
    "step",
    "workflow",
    "workflow_succeeded",
]
