"""stepstone's compiler: Python workflows -> IR -> checks -> Amazon States Language.

This package is what a workflow file imports (through ``stepstone``). It is pure Python:
it never imports boto3 or the AWS CDK. Decorators record; :func:`compile` compiles.
"""

from __future__ import annotations

from .compile import CompiledWorkflow, compile_workflow
from .errors import CompileError, Location
from .failures import PermanentError, TransientError
from .options import Batch, Lambda, Retry
from .schedules import Schedule, cron, rate
from .steps import StepDef, step
from .triggers import S3Upload, WorkflowSucceeded, s3_upload, workflow_succeeded
from .workflows import Approval, ParamsError, WorkflowDef, approve, map, workflow  # noqa: A004

compile = compile_workflow  # noqa: A001 - the design's name: compiler.compile(workflow)

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
    "S3Upload",
    "Schedule",
    "StepDef",
    "TransientError",
    "WorkflowDef",
    "WorkflowSucceeded",
    "approve",
    "compile",
    "compile_workflow",
    "cron",
    "map",
    "rate",
    "s3_upload",
    "step",
    "workflow",
    "workflow_succeeded",
]
