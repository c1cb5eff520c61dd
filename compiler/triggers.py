"""What starts a workflow besides a schedule: data arriving in S3, another workflow finishing.

Triggers are recorded here and deployed by ``cdk/`` as EventBridge rules. The compiler
checks that the parameters a trigger passes exist on the workflow it starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

from .errors import CompileError, Location, caller_location
from .protocol import TRIGGER_KEY

if TYPE_CHECKING:
    from .workflows import WorkflowDef

__all__ = ["S3Upload", "Trigger", "WorkflowSucceeded", "s3_upload", "workflow_succeeded"]

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


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

    def event_pattern(self, *, url_encoded_keys: bool = False) -> dict[str, Any]:
        """The EventBridge pattern of S3's "Object Created" events this trigger matches.

        A match object takes one operator, so prefix *and* suffix become a ``wildcard``
        (with ``*`` and ``\\`` in them escaped). Every pattern requires the object's key to
        be a non-empty string (without prefix or suffix: the wildcard ``*``), so an event
        without one never starts a run. ``url_encoded_keys`` matches the keys of events
        that percent-encode them (LocalStack's do; AWS's EventBridge events carry the key as is).
        """
        def escape(text: str) -> str:
            return text.replace("\\", "\\\\").replace("*", "\\*")

        prefix, suffix = (quote(self.prefix), quote(self.suffix)) if url_encoded_keys else (self.prefix, self.suffix)
        detail: dict[str, Any] = {"bucket": {"name": [self.bucket]}}
        if prefix and suffix:
            detail["object"] = {"key": [{"wildcard": f"{escape(prefix)}*{escape(suffix)}"}]}
        elif prefix:
            detail["object"] = {"key": [{"prefix": prefix}]}
        elif suffix:
            detail["object"] = {"key": [{"suffix": suffix}]}
        else:
            detail["object"] = {"key": [{"wildcard": "*"}]}
        return {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}

    def input_transformer(self, definition: WorkflowDef[..., Any]) -> dict[str, Any]:
        """The EventBridge InputTransformer that makes a run's input from the event: the
        object's bucket and key, the fixed ``params``, and every other parameter's default (a
        state machine reads its parameters from its input; it knows no defaults). The
        ``trigger-params`` check has made sure these validate.
        """
        passed = {name: "x" for name in self.passed_params}
        document = definition.validate_params({**self.params, **passed})
        paths: dict[str, str] = {}
        marks: dict[str, str] = {}
        paths["bucket"], marks["bucket"] = "$.detail.bucket.name", "\x00bucket\x00"
        paths["key"], marks["key"] = "$.detail.object.key", "\x00key\x00"
        if self.bucket_param:
            document[self.bucket_param] = marks["bucket"]
        if self.key_param:
            document[self.key_param] = marks["key"]
        document[TRIGGER_KEY] = {"kind": "s3", "bucket": marks["bucket"], "key": marks["key"]}
        template = json.dumps(document, sort_keys=True)
        for name, mark in marks.items():  # EventBridge puts the values in, as JSON strings
            template = template.replace(json.dumps(mark), f"<{name}>")
        return {"InputPathsMap": paths, "InputTemplate": template}

    def relay_transformer(self, definition: WorkflowDef[..., Any], state_machine: str) -> dict[str, Any]:
        """The InputTransformer of a rule whose target is the S3 relay (``lambdas.s3_trigger``,
        used where S3 events percent-encode the key: LocalStack): the run's input as
        :meth:`input_transformer` makes it (key still encoded), wrapped with the state
        machine, the run's name (the event's id) and the key's parameter."""
        transformer = self.input_transformer(definition)
        template = (f'{{"state_machine": {json.dumps(state_machine)}, "run": <id>, '
                    f'"key_param": {json.dumps(self.key_param)}, "input": {transformer["InputTemplate"]}}}')
        return {"InputPathsMap": {**transformer["InputPathsMap"], "id": "$.id"}, "InputTemplate": template}


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
    """Start the workflow when a file lands in ``s3://bucket/prefix...suffix``."""
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
    """Start the workflow each time ``workflow`` (a ``@workflow`` function or its name) succeeds."""
    location = caller_location()
    name = workflow if isinstance(workflow, str) else getattr(workflow, "name", None)
    if not isinstance(name, str) or not name:
        raise CompileError(f"workflow_succeeded() needs a @workflow function or its name, got {workflow!r}",
                           rule="bad-trigger", location=location)
    return WorkflowSucceeded(workflow=name, params=dict(params or {}), location=location)
