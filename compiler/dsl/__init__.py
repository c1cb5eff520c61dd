"""The DSL: what a workflow file writes. ``@step``, ``@workflow``, their options, schedules,
triggers, secrets' declarations, ``approve(...)`` and ``map(...)``, and the errors a
workflow can cause or a step can raise on purpose.

A leaf: it imports nothing of stepstone's outside this package, so a step running in
Lambda (which imports its workflow module, and so the DSL) loads no compiler pass. The
decorators record and check what they can see where they are written; compiling is
``compiler.compile_workflow``'s, never an import's.
"""

from __future__ import annotations

from .control import Approval, approve, map  # noqa: A004 - stepstone.map(step, items) is the fan-out call
from .errors import CompileError, Location, ParamsError, PermanentError, StepTimeout, StepTimeoutError, TransientError
from .options import Batch, Lambda, Retry
from .packages import Packages, packages
from .schedules import Schedule, cron, rate
from .secrets import SecretRef
from .steps import StepDef, step
from .triggers import S3Upload, WorkflowSucceeded, s3_upload, workflow_succeeded
from .workflows import WorkflowDef, workflow

__all__ = [
    "Approval",
    "Batch",
    "CompileError",
    "Lambda",
    "Location",
    "Packages",
    "ParamsError",
    "PermanentError",
    "Retry",
    "S3Upload",
    "Schedule",
    "SecretRef",
    "StepDef",
    "StepTimeout",
    "StepTimeoutError",
    "TransientError",
    "WorkflowDef",
    "WorkflowSucceeded",
    "approve",
    "cron",
    "map",
    "packages",
    "rate",
    "s3_upload",
    "step",
    "workflow",
    "workflow_succeeded",
]
