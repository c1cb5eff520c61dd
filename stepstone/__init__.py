"""stepstone: ML and data workflows in plain Python, compiled to AWS Step Functions.

    from stepstone import step, workflow

Everything a workflow file needs is re-exported here: the DSL from ``compiler.dsl``, and
from the runtime (``lambdas``) what a running step calls (``Secret``, ``running_step``,
``save_artifact``). This module imports nothing else, so a deployed step, whose bundle
carries it, loads neither the compiler's passes nor the command line (which lives in
``stepstone.cli``).
"""

from __future__ import annotations

from compiler.dsl import (
    Approval,
    Batch,
    CompileError,
    Lambda,
    ParamsError,
    PermanentError,
    Retry,
    StepTimeout,
    StepTimeoutError,
    TransientError,
    approve,
    cron,
    map,  # noqa: A004 - stepstone.map(step, items) is the fan-out call
    rate,
    s3_upload,
    step,
    workflow,
    workflow_succeeded,
)
from lambdas.context import running_step, save_artifact
from lambdas.errors import SecretNotSetError, UndeclaredSecretError
from lambdas.secrets import Secret

__version__ = "0.1.0"

__all__ = [
    "Approval",
    "Batch",
    "CompileError",
    "Lambda",
    "ParamsError",
    "PermanentError",
    "Retry",
    "Secret",
    "SecretNotSetError",
    "StepTimeout",
    "StepTimeoutError",
    "TransientError",
    "UndeclaredSecretError",
    "approve",
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
