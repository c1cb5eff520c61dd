"""stepstone's compiler: Python workflows -> IR -> checks -> Amazon States Language, and the
deployment plan the deployers render.

A workflow file imports the DSL (``compiler.dsl``, re-exported here and by ``stepstone``);
the passes (``parse``, ``checks``, ``asl``, ``graph``, ``cost``, ``deployment``...) load
only when something compiles. Pure Python: it never imports boto3, the AWS CDK or the
runtime (``lambdas``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .dsl import (
    Approval,
    Batch,
    CompileError,
    Lambda,
    Location,
    ParamsError,
    PermanentError,
    Retry,
    S3Upload,
    Schedule,
    StepDef,
    StepTimeout,
    StepTimeoutError,
    TransientError,
    WorkflowDef,
    WorkflowSucceeded,
    approve,
    cron,
    map,  # noqa: A004 - stepstone.map(step, items) is the fan-out call
    rate,
    s3_upload,
    step,
    workflow,
    workflow_succeeded,
)

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
    "S3Upload",
    "Schedule",
    "StepDef",
    "StepTimeout",
    "StepTimeoutError",
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
