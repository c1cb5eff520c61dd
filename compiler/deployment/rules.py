"""Triggers as EventBridge rules: the event pattern an ``s3_upload`` matches and the input
each rule gives the run it starts. The deployment plan holds what these make; ``cdk/`` and
the LocalStack deployer render them, so both deploy the same rules.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from ..dsl.triggers import S3Upload
from ..dsl.workflows import WorkflowDef
from ..protocol import TRIGGER_KEY

__all__ = ["s3_event_pattern", "s3_input_transformer", "s3_relay_transformer"]


def s3_event_pattern(trigger: S3Upload, *, url_encoded_keys: bool = False) -> dict[str, Any]:
    """The EventBridge pattern of S3's "Object Created" events this trigger matches.

    A match object takes one operator, so prefix *and* suffix become a ``wildcard``
    (with ``*`` and ``\\`` in them escaped). Every pattern requires the object's key to
    be a non-empty string (without prefix or suffix: the wildcard ``*``), so an event
    without one never starts a run. ``url_encoded_keys`` matches the keys of events
    that percent-encode them (LocalStack's do; AWS's EventBridge events carry the key as is).
    """
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("*", "\\*")

    prefix, suffix = trigger.prefix, trigger.suffix
    if url_encoded_keys:
        prefix, suffix = quote(prefix), quote(suffix)
    detail: dict[str, Any] = {"bucket": {"name": [trigger.bucket]}}
    if prefix and suffix:
        detail["object"] = {"key": [{"wildcard": f"{escape(prefix)}*{escape(suffix)}"}]}
    elif prefix:
        detail["object"] = {"key": [{"prefix": prefix}]}
    elif suffix:
        detail["object"] = {"key": [{"suffix": suffix}]}
    else:
        detail["object"] = {"key": [{"wildcard": "*"}]}
    return {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail}


def s3_input_transformer(trigger: S3Upload, definition: WorkflowDef[..., Any]) -> dict[str, Any]:
    """The EventBridge InputTransformer that makes a run's input from the event: the
    object's bucket and key, the fixed ``params``, and every other parameter's default (a
    state machine reads its parameters from its input; it knows no defaults). The
    ``trigger-params`` check has made sure these validate.
    """
    passed = {name: "x" for name in trigger.passed_params}
    document = definition.validate_params({**trigger.params, **passed})
    paths: dict[str, str] = {}
    marks: dict[str, str] = {}
    paths["bucket"], marks["bucket"] = "$.detail.bucket.name", "\x00bucket\x00"
    paths["key"], marks["key"] = "$.detail.object.key", "\x00key\x00"
    if trigger.bucket_param:
        document[trigger.bucket_param] = marks["bucket"]
    if trigger.key_param:
        document[trigger.key_param] = marks["key"]
    document[TRIGGER_KEY] = {"kind": "s3", "bucket": marks["bucket"], "key": marks["key"]}
    template = json.dumps(document, sort_keys=True)
    for name, mark in marks.items():  # EventBridge puts the values in, as JSON strings
        template = template.replace(json.dumps(mark), f"<{name}>")
    return {"InputPathsMap": paths, "InputTemplate": template}


def s3_relay_transformer(trigger: S3Upload, definition: WorkflowDef[..., Any],
                         state_machine: str) -> dict[str, Any]:
    """The InputTransformer of a rule whose target is the S3 relay (``lambdas.s3_trigger``,
    used where S3 events percent-encode the key: LocalStack): the run's input as
    :func:`s3_input_transformer` makes it (key still encoded), wrapped with the state
    machine, the run's name (the event's id) and the key's parameter."""
    transformer = s3_input_transformer(trigger, definition)
    template = (f'{{"state_machine": {json.dumps(state_machine)}, "run": <id>, '
                f'"key_param": {json.dumps(trigger.key_param)}, "input": {transformer["InputTemplate"]}}}')
    return {"InputPathsMap": {**transformer["InputPathsMap"], "id": "$.id"}, "InputTemplate": template}
