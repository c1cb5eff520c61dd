"""stepstone: ML and data workflows in plain Python, compiled to AWS Step Functions.

    from stepstone import step, workflow

Everything a workflow file needs is re-exported here: the DSL from ``compiler.dsl``, and
from the runtime (``lambdas``) what a running step calls (``Secret``, ``running_step``,
``save_artifact``, ``Artifact``, ``register_codec``). This module imports nothing else, so a
deployed step, whose bundle carries it, loads neither the compiler's passes nor the command
line (which lives in ``stepstone.cli``); ``load``, for notebooks, imports the targets when
it is called.
"""

from __future__ import annotations

from typing import Any

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
    packages,
    rate,
    s3_upload,
    step,
    workflow,
    workflow_succeeded,
)
from compiler.dsl.artifacts import Artifact
from lambdas.codecs import register_codec
from lambdas.context import running_step, save_artifact
from lambdas.errors import SecretNotSetError, UndeclaredSecretError
from lambdas.secrets import Secret

__version__ = "0.1.0"


def load(run: str, step: str, *, target: str = "local", home: str | None = None) -> Any:
    """What ``step`` returned in ``run``, decoded as the step's annotation says: a DataFrame,
    an array, a fitted model, a dataclass of them (a fan-out's step: the list of its items').

    For a notebook or a script beside the project; ``target`` is where the run is
    (``"local"``, ``"localstack"``, ``"aws"``), ``home`` the local runs' folder. Each stored
    value is read from the run's own store and checked against its content hash first.

    Example:
        ```python
        model = stepstone.load("20261207-174902-7fe37d5d", "train_model")
        model.pipeline.predict_proba(frame)
        ```
    """
    from .stored import load_output  # the command line's part of the package: loaded on first use
    from .targets import open_target

    where = open_target(target, home=home)
    record = where.record(run)
    return load_output(record, where.value_store(record), step)


__all__ = [
    "Approval",
    "Artifact",
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
    "load",
    "map",
    "packages",
    "rate",
    "register_codec",
    "running_step",
    "s3_upload",
    "save_artifact",
    "step",
    "workflow",
    "workflow_succeeded",
]
