"""What starts a workflow besides a schedule: data arriving in S3, another workflow finishing.

Triggers are recorded here; the compiler checks that the parameters a trigger passes
exist on the workflow it starts, and makes each an EventBridge rule of the deployment plan
(``compiler/deployment/rules.py``), which ``cdk/`` and the LocalStack deployer render.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from .errors import CompileError, Location, caller_location

if TYPE_CHECKING:
    from .workflows import WorkflowDef

__all__ = ["S3Upload", "Trigger", "WorkflowSucceeded", "s3_upload", "workflow_succeeded"]

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")


@dataclass(frozen=True, slots=True)
class S3Upload:
    """Start a run for each object created in ``bucket`` under ``prefix`` ending in ``suffix``.

    The run gets the object's bucket and key in the parameters named ``bucket_param`` and
    ``key_param`` (``None`` leaves one out), plus the fixed ``params``.
    """

    bucket: str
    prefix: str = ""
    suffix: str = ""
    bucket_param: str | None = "bucket"
    key_param: str | None = "key"
    params: Mapping[str, Any] = field(default_factory=dict)
    location: Location | None = None

    @property
    def passed_params(self) -> tuple[str, ...]:
        return tuple(p for p in (self.bucket_param, self.key_param) if p)


@dataclass(frozen=True, slots=True)
class WorkflowSucceeded:
    """Start a run each time the workflow named ``workflow`` succeeds."""

    workflow: str
    params: Mapping[str, Any] = field(default_factory=dict)
    location: Location | None = None


Trigger: TypeAlias = S3Upload | WorkflowSucceeded


def s3_upload(
    bucket: str,
    prefix: str = "",
    suffix: str = "",
    *,
    bucket_param: str | None = "bucket",
    key_param: str | None = "key",
    params: Mapping[str, Any] | None = None,
) -> S3Upload:
    """Start a run for each new object in ``s3://bucket/prefix...suffix``.

    Deployed, this is an EventBridge rule on the bucket's "Object Created" events. The run
    gets the object's bucket and key in two of its parameters, which the workflow must have.

    Args:
        bucket: The bucket's name (not a ``s3://`` URI).
        prefix: Only keys that start with this (no leading ``/``), e.g. ``"incoming/"``.
        suffix: Only keys that end with this, e.g. ``".csv"``.
        bucket_param: The workflow parameter that gets the bucket's name; ``None`` leaves it out.
        key_param: The workflow parameter that gets the object's key; ``None`` leaves it out.
        params: Other workflow parameters each triggered run gets.

    Returns:
        The trigger, for ``@workflow(triggers=[...])``.

    Example:
        ```python
        @workflow(triggers=[s3_upload("raw-data", prefix="incoming/", suffix=".csv")])
        def ingest(bucket: str, key: str) -> Report:
            ...
        ```
    """
    location = caller_location()
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or ".." in bucket:
        raise CompileError(
            f"s3_upload bucket {bucket!r} is not a valid S3 bucket name",
            rule="bad-trigger",
            location=location,
            hint="bucket names are 3-63 characters of lower-case letters, digits, '.' and '-'",
        )
    for what, value in (("prefix", prefix), ("suffix", suffix)):
        if not isinstance(value, str):
            raise CompileError(f"s3_upload {what} must be a string, got {value!r}", rule="bad-trigger",
                               location=location)
    if prefix.startswith("/"):
        raise CompileError(f"s3_upload prefix {prefix!r} starts with '/'; S3 keys do not", rule="bad-trigger",
                           location=location, hint=f"write prefix={prefix.lstrip('/')!r}")
    return S3Upload(bucket=bucket, prefix=prefix, suffix=suffix, bucket_param=bucket_param,
                    key_param=key_param, params=dict(params or {}), location=location)


def workflow_succeeded(workflow: WorkflowDef[..., Any] | str, *,
                       params: Mapping[str, Any] | None = None) -> WorkflowSucceeded:
    """Start a run each time another workflow's run succeeds.

    Args:
        workflow: The workflow to follow: its ``@workflow`` function, or its name.
        params: The workflow parameters each triggered run gets.

    Returns:
        The trigger, for ``@workflow(triggers=[...])``.
    """
    location = caller_location()
    name = workflow if isinstance(workflow, str) else getattr(workflow, "name", None)
    if not isinstance(name, str) or not name:
        raise CompileError(f"workflow_succeeded() needs a @workflow function or its name, got {workflow!r}",
                           rule="bad-trigger", location=location)
    return WorkflowSucceeded(workflow=name, params=dict(params or {}), location=location)
