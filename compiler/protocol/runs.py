"""A run from outside: its input (parameters and what started it), and the names Step
Functions gives it (execution ARNs, run ids, the ids of runs that continue a failed one)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .keys import TRIGGER_KEY

__all__ = ["RUN_NAME_LIMIT", "is_redrive", "machine_of", "redrive_run_id", "run_id_of", "run_input", "run_name",
           "split_input", "trigger_text"]

EXECUTION_NAME_LIMIT = 80  # characters of a Step Functions execution's name
RUN_NAME_LIMIT = EXECUTION_NAME_LIMIT - len("_r999")  # room for the ids of the runs that continue it
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")  # no '_': a name must not end like a redrive's `_r1`


def run_input(params: dict[str, Any], trigger: dict[str, Any]) -> dict[str, Any]:
    """A run's input: its parameters at the root, and what started it under TRIGGER_KEY:
    ``{"kind": "manual", "by": ...}``, ``{"kind": "schedule", "expression": ...}``,
    ``{"kind": "s3", "bucket": ..., "key": ...}``, ``{"kind": "workflow", "workflow": ...}`` or
    ``{"kind": "redrive", "run": ...}``. No state reads it; ``stepstone runs`` shows it."""
    return {**params, TRIGGER_KEY: trigger}


def run_name(unique: str, trigger: Mapping[str, Any] | None) -> str:
    """A run's execution name: ``unique`` (stepstone's id, ``20261122-195339-5be8``, or an
    event's id) and what started it, as far as the name can hold it: ``...-manual``,
    ``...-schedule``, ``...-s3-sales-2024-06-01.csv``, ``...-after-etl-s3``. Only letters,
    digits, ``.`` and ``-`` (what every execution name may hold), at most RUN_NAME_LIMIT."""
    given = dict(trigger or {})
    kind = str(given.get("kind") or "manual")
    what = _NAME_UNSAFE.sub("-", {"workflow": "after"}.get(kind, kind)).strip("-") or "manual"
    detail = _NAME_UNSAFE.sub("-", str(given.get({"s3": "key", "workflow": "workflow"}.get(kind, ""), ""))).strip("-")
    room = RUN_NAME_LIMIT - len(unique) - len(what) - 2
    if detail and room > 0:  # an S3 key keeps its end: the file's name
        what += "-" + detail[-room:].lstrip("-.")
    name = f"{unique}-{what}"
    return name if len(name) <= RUN_NAME_LIMIT else unique[:RUN_NAME_LIMIT]


def split_input(document: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A run's parameters and its trigger (None when the input does not say), from its input."""
    if not isinstance(document, dict):
        return {}, None
    params = {k: v for k, v in document.items() if k != TRIGGER_KEY}
    trigger = document.get(TRIGGER_KEY)
    return params, trigger if isinstance(trigger, dict) else None


def trigger_text(trigger: dict[str, Any] | None) -> str:
    """What started a run, in a few words: ``manual``, ``schedule cron(0 3 * * ? *)``,
    ``s3://raw-data/sales/day.csv``, ``after etl_s3``, ``redrive of <run>``; ``?`` when unknown."""
    if not trigger:
        return "?"
    kind = trigger.get("kind")
    if kind == "manual":
        return "manual" + (f" ({trigger['by']})" if trigger.get("by") else "")
    if kind == "schedule":
        return f"schedule {trigger.get('expression', '')}".strip()
    if kind == "s3":
        return f"s3://{trigger.get('bucket', '')}/{trigger.get('key', '')}"
    if kind == "workflow":
        return f"after {trigger.get('workflow', '')}"
    if kind == "redrive":
        return f"redrive of {trigger.get('run', '')}"
    return str(kind or "?")


def redrive_run_id(run: str) -> str:
    """The id of the run that continues ``run`` where Step Functions cannot redrive it:
    ``<run>_r1``, then ``<run>_r2`` (execution names allow ``_``; stepstone's own ids and
    event ids have none, so the step runner looks for a redrive record only in these)."""
    base, sep, number = run.rpartition("_r")
    if sep and number.isdigit():
        return f"{base}_r{int(number) + 1}"
    return f"{run}_r1"


def is_redrive(run: str) -> bool:
    base, sep, number = run.rpartition("_r")
    return bool(sep and base and number.isdigit())


def machine_of(execution: str) -> str:
    """The state machine ARN of an execution ARN (Standard ``...:execution:<machine>:<name>``,
    Express ``...:express:<machine>:<name>:<id>``)."""
    parts = execution.split(":")
    return ":".join([*parts[:5], "stateMachine", parts[6]])


def run_id_of(execution: str) -> str:
    """The run id of an execution ARN: the execution's name (``$$.Execution.Name``), in
    ``arn:aws:states:<region>:<account>:execution:<machine>:<name>`` and in an Express
    workflow's ``...:express:<machine>:<name>:<id>``."""
    parts = execution.split(":")
    return parts[7] if len(parts) >= 8 and parts[0] == "arn" else parts[-1]
