"""Starts a run for an S3 upload where the event percent-encodes the object's key.

On AWS, EventBridge's S3 "Object Created" events carry the key as it is, and the trigger
rule starts the state machine itself (its InputTransformer puts bucket and key in the run's
input). LocalStack's events carry ``urllib.parse.quote(key)`` instead (``a b.csv`` arrives
as ``a%20b.csv``), which no InputTransformer can undo; there the rule invokes this function
with the run's input as the transformer made it, and this function decodes the key and
starts the run. An event whose bucket or key is not a non-empty string starts nothing.

The request (what the rule's InputTransformer sends)::

    {"state_machine": ARN, "run": "<the event's id>", "key_param": "key" | null,
     "input": {<the run's input: parameters, and the trigger under "stepstone_trigger">}}
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from compiler.protocol import TRIGGER_KEY, run_name

from .errors import BadEventError

__all__ = ["decoded_input", "handler"]


def decoded_input(request: dict[str, Any]) -> dict[str, Any]:
    """The run's input with the object's key decoded (in its parameter and in the trigger)."""
    document = request.get("input")
    if not isinstance(document, dict) or not isinstance(trigger := document.get(TRIGGER_KEY), dict):
        raise BadEventError("the request holds no run input with a trigger")
    bucket, raw = trigger.get("bucket"), trigger.get("key")
    if not isinstance(bucket, str) or not bucket or not isinstance(raw, str) or not raw:
        raise BadEventError(f"the event's bucket {bucket!r} and key {raw!r} must be non-empty strings")
    try:
        key = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadEventError(f"the event's key {raw!r} is not percent-encoded UTF-8") from None
    decoded = {**document, TRIGGER_KEY: {**trigger, "key": key}}
    key_param = request.get("key_param")
    if isinstance(key_param, str) and key_param:
        decoded[key_param] = key
    return decoded


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda: decode the key and start the run, named after the event (a retried event starts
    no second run) and the object's key: ``<event id>-s3-sales-2024-06-01.csv``."""
    import boto3

    try:
        document = decoded_input(event)
    except BadEventError as exc:
        print(json.dumps({"message": "no run started", "why": str(exc), "run": event.get("run")}))
        return {"started": None, "refused": str(exc)}
    arn = boto3.client("stepfunctions").start_execution(
        stateMachineArn=str(event["state_machine"]), name=run_name(str(event["run"]), document[TRIGGER_KEY]),
        input=json.dumps(document))["executionArn"]
    print(json.dumps({"message": "run started", "execution": arn, "key": document[TRIGGER_KEY]["key"]}))
    return {"started": arn}
