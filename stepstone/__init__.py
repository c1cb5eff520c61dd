"""stepstone: ML and data workflows in plain Python, compiled to AWS Step Functions.

    from stepstone import step, workflow

Everything a workflow file needs is re-exported here from ``compiler`` (and ``Secret``,
which reads a secret in a running step, from ``lambdas.secrets``); the command line lives
in ``stepstone.cli``.
"""

from __future__ import annotations

from compiler import (
    Approval,
    Batch,
    CompileError,
    Lambda,
    ParamsError,
    PermanentError,
    Retry,
    StepTimeout,
    TransientError,
    approve,
    cron,
    map,  # noqa: A004 - stepstone.map(step, items) is the fan-out call
    rate,
    running_step,
    s3_upload,
    save_artifact,
    step,
    workflow,
    workflow_succeeded,
)
from lambdas.secrets import Secret, SecretNotSetError, UndeclaredSecretError

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
