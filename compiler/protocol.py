"""The contract between compiled state machines and the step runner (``lambdas/``).

Both sides import this module, so the shapes below are written down once.

**The run's state.** The execution input is the workflow's parameters, at the root. The
compiler keeps its own values under ``vars`` (one key per value the body names) and, inside
a fan-out, the item's position under ``map_path`` (``"for_p_in_grid/3"``). Parameters may
not use these two names.

**What started a run** travels in its input too, under ``stepstone_trigger``: ``{"kind":
"manual", "by": ...}``, ``{"kind": "schedule", "expression": ...}``, ``{"kind": "s3", "bucket":
..., "key": ...}``, ``{"kind": "workflow", "workflow": ...}`` or ``{"kind": "redrive", "run": ...}``
(see :func:`trigger_text`). No state reads it; ``stepstone runs`` shows it.

**An envelope** is how a step's output travels: ``{"fields": {...}, "value": ..., "ref": ...}``.
``fields`` holds the output's top-level scalar fields (so conditions can test them);
``value`` holds the whole output when it is small, else null; ``ref`` is the S3 key (in
the artifact bucket) of the output when it was stored there, else null. The serialized
envelope must not exceed ``inline_limit + ENVELOPE_OVERHEAD`` bytes (``inline_limit`` is
chosen by the compiler per workflow so that no state can exceed 256 KiB): the runner keeps
``value`` inline only when the envelope then fits, and drops the longest string fields
until ``fields`` fits.

**A Lambda step's payload** (``Payload`` of its ``lambda:invoke`` task)::

    {"step": "module:function", "workflow": "name", "state": "state name",
     "execution.$": "$$.Execution.Id", "run.$": "$$.Execution.Name",
     "attempt.$": "$$.State.RetryCount",
     "map_path.$": "$.map_path",                 # inside a fan-out only
     "inline_limit": 16384,                      # bytes an envelope may hold inline
     "error_names": ["DataError", ...],          # names this step's Retry/Catch match (see below)
     "store": "always" | "inline",               # when a consumer needs one or the other
     "cache": true,                              # when the step is cached
     "args": {"name": ARG, ...}}

where each ``ARG`` is one of ``{"value": <json>}`` (a literal or a plain value),
``{"result": <envelope>, "path": [...]}`` (a step output, or a field of it),
``{"results": [<envelope>, ...]}`` (the collected results of an inline fan-out) or
``{"error": {"Error": "...", "Cause": "..."}}`` (an error caught by ``except ... as e``,
which the runner turns back into an exception of that name). A ``result`` whose ``ref``
names a ``manifest.json`` is a distributed fan-out's results.

**Errors.** A step reports a raised exception by name, as the error type Step Functions
matches ``Retry`` and ``Catch`` against: the first name in ``error_names`` that the
exception's class or one of its base classes has (so ``except DataError`` catches its
subclasses, as in Python), otherwise the class's own name.

**Artifacts** (the same layout in S3 and in a local folder): ``runs/<workflow>/<run>/``
holds, per step (and per fan-out item, under its ``map_path``), ``attempt-<n>/output.json``
(a stored output), ``attempt-<n>/lineage.json`` (what went in and out, hashes, timing,
error) and, for Batch steps, the final ``output.json``; ``cache/`` holds the records of
``cache=True`` steps. Keys are made by the functions below, on both sides.

**A Batch step** gets the same information in environment variables (see
``BATCH_ENV``); its inputs arrive by S3 reference and it writes its output to
:func:`output_key`, which the states after it read.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BATCH_ENV",
    "ENVELOPE_KEYS",
    "ENVELOPE_OVERHEAD",
    "MAP_PATH_KEY",
    "RUN_KEY",
    "TRIGGER_KEY",
    "VARS_KEY",
    "approval_key",
    "attempt_prefix",
    "cache_key",
    "is_redrive",
    "machine_of",
    "output_key",
    "redrive_key",
    "redrive_run_id",
    "run_id_of",
    "run_input",
    "run_prefix",
    "split_input",
    "step_prefix",
    "trigger_text",
]

ENVELOPE_OVERHEAD = 512  # bytes an envelope may add around its inline value
VARS_KEY = "vars"
MAP_PATH_KEY = "map_path"
ENVELOPE_KEYS = ("fields", "ref", "value")
TRIGGER_KEY = "stepstone_trigger"
# Inside a distributed fan-out each item is a child execution of its own, whose
# $$.Execution.Name is not the run's: the Map hands the run's name and id to its items
# under this key, and their states read them from there.
RUN_KEY = "stepstone_run"

BATCH_ENV = {
    "execution": "STEPSTONE_EXECUTION",
    "run": "STEPSTONE_RUN",
    "attempt": "STEPSTONE_ATTEMPT",
    "map_path": "STEPSTONE_MAP_PATH",
    "call": "STEPSTONE_CALL",  # JSON: step, workflow, state and the literal parts of the arguments
    "task_token": "STEPSTONE_TASK_TOKEN",  # for SendTaskHeartbeat, when the step has heartbeat=
    "arg_prefix": "STEPSTONE_ARG_",  # one per argument that comes from the run: a ref or JSON
}


def run_prefix(workflow: str, run: str) -> str:
    """Where everything a run writes lives: ``runs/<workflow>/<run>/``."""
    return f"runs/{workflow}/{run}/"


def step_prefix(workflow: str, run: str, state: str, map_path: str | None = None) -> str:
    """One step of a run (one item of a fan-out, inside a fan-out): ``.../[<map_path>/]<state>/``."""
    middle = f"{map_path}/" if map_path else ""
    return f"{run_prefix(workflow, run)}{middle}{state}/"


def attempt_prefix(workflow: str, run: str, state: str, attempt: int, map_path: str | None = None) -> str:
    """One attempt of a step: retries never overwrite what an earlier attempt wrote."""
    return f"{step_prefix(workflow, run, state, map_path)}attempt-{attempt}/"


def output_key(workflow: str, run: str, state: str, map_path: str | None = None) -> str:
    """The key of a step's final output: where a Batch step's output lands (and the next states look)."""
    return f"{step_prefix(workflow, run, state, map_path)}output.json"


def approval_key(workflow: str, run: str, state: str) -> str:
    """Where an approval gate leaves its request (the task token ``stepstone approve`` answers)."""
    return f"{run_prefix(workflow, run)}approvals/{state}.json"


def redrive_key(workflow: str, run: str) -> str:
    """Where a run that continues a failed one finds the finished steps it may reuse:
    ``{"from": <run>, "steps": {"[<map_path>/]<state>": {"envelope": ..., "attempt": n}, ...}}``."""
    return f"{run_prefix(workflow, run)}redrive.json"


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


def cache_key(workflow: str, step: str, code_hash: str, inputs_hash: str) -> str:
    """The record that lets a ``cache=True`` step skip work it has done before."""
    return f"cache/{workflow}/{step}/{code_hash}/{inputs_hash}.json"


def run_input(params: dict[str, Any], trigger: dict[str, Any]) -> dict[str, Any]:
    """A run's input: its parameters at the root, and what started it under TRIGGER_KEY."""
    return {**params, TRIGGER_KEY: trigger}


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
