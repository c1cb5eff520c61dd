"""Where things are: the keys a run's JSON state keeps stepstone's own values under, and the
layout of the artifact store (the same in S3 and in a local folder).

**The run's state.** The execution input is the workflow's parameters, at the root. The
compiler keeps its own values under ``vars`` (one key per value the body names) and, inside
a fan-out, the item's position under ``map_path`` (``"for_p_in_grid/3"``); what started the
run travels under ``stepstone_trigger``, and inside a distributed fan-out's items the run's
name and id under ``stepstone_run``. Parameters may not use these names.

**Artifacts**: ``runs/<workflow>/<run>/`` holds, per step (and per fan-out item, under its
``map_path``), ``attempt-<n>/output.json`` (a stored output), ``attempt-<n>/values/`` (the values it
carried by reference: ``compiler.protocol.values``), ``attempt-<n>/lineage.json``
(what went in and out, hashes, timing, error) and, for Batch steps, the final
``output.json``; ``cache/`` holds the records of ``cache=True`` steps.
"""

from __future__ import annotations

__all__ = [
    "MAP_PATH_KEY",
    "RESERVED_ROOT_KEYS",
    "RUNS_PREFIX",
    "RUN_KEY",
    "TRIGGER_KEY",
    "VARS_KEY",
    "approval_key",
    "attempt_prefix",
    "cache_key",
    "cache_prefix",
    "item_path",
    "output_key",
    "redrive_key",
    "results_prefix",
    "run_prefix",
    "step_key",
    "step_prefix",
    "workflow_prefix",
]

VARS_KEY = "vars"
MAP_PATH_KEY = "map_path"
TRIGGER_KEY = "stepstone_trigger"
# Inside a distributed fan-out each item is a child execution of its own, whose
# $$.Execution.Name is not the run's: the Map hands the run's name and id to its items
# under this key, and their states read them from there.
RUN_KEY = "stepstone_run"
RESERVED_ROOT_KEYS = frozenset({VARS_KEY, MAP_PATH_KEY, TRIGGER_KEY, RUN_KEY})


def step_key(state: str, map_path: str | None = None) -> str:
    """How a run names one step (one item of a fan-out, inside one): ``[<map_path>/]<state>``."""
    return f"{map_path}/{state}" if map_path else state


def item_path(map_path: str | None, fan_out: str, index: int | str) -> str:
    """The ``map_path`` of one fan-out item: ``[<outer map_path>/]<fan-out>/<index>``."""
    return f"{map_path}/{fan_out}/{index}" if map_path else f"{fan_out}/{index}"


# Where every run writes: a reference to a stored value is followed only under it (a nested
# workflow's outputs are under its own workflow's folder, so not under the caller's).
RUNS_PREFIX = "runs/"


def workflow_prefix(workflow: str) -> str:
    """Where every run of a workflow writes: ``runs/<workflow>/``."""
    return f"{RUNS_PREFIX}{workflow}/"


def run_prefix(workflow: str, run: str) -> str:
    """Where everything a run writes lives: ``runs/<workflow>/<run>/``."""
    return f"{workflow_prefix(workflow)}{run}/"


def step_prefix(workflow: str, run: str, state: str, map_path: str | None = None) -> str:
    """One step of a run (one item of a fan-out, inside a fan-out): ``.../[<map_path>/]<state>/``."""
    return f"{run_prefix(workflow, run)}{step_key(state, map_path)}/"


def attempt_prefix(workflow: str, run: str, state: str, attempt: int, map_path: str | None = None) -> str:
    """One attempt of a step: retries never overwrite what an earlier attempt wrote."""
    return f"{step_prefix(workflow, run, state, map_path)}attempt-{attempt}/"


def output_key(workflow: str, run: str, state: str, map_path: str | None = None) -> str:
    """The key of a step's final output: where a Batch step's output lands (and the next states look)."""
    return f"{step_prefix(workflow, run, state, map_path)}output.json"


def results_prefix(workflow: str, run: str, fan_out: str, map_path: str | None = None) -> str:
    """Where a distributed fan-out's result writer puts its results (``manifest.json`` below)."""
    middle = f"{map_path}/" if map_path else ""
    return f"{run_prefix(workflow, run)}{middle}{fan_out}"


def approval_key(workflow: str, run: str, state: str) -> str:
    """Where an approval gate leaves its request (the task token ``stepstone approve`` answers)."""
    return f"{run_prefix(workflow, run)}approvals/{state}.json"


def redrive_key(workflow: str, run: str) -> str:
    """Where a run that continues a failed one finds the finished steps it may reuse (a
    :class:`~compiler.protocol.records.RedriveRecord`)."""
    return f"{run_prefix(workflow, run)}redrive.json"


def cache_prefix(workflow: str) -> str:
    """Where a workflow's cached results are (``stepstone run --refresh-cache`` clears it)."""
    return f"cache/{workflow}/"


def cache_key(workflow: str, step: str, code_hash: str, inputs_hash: str) -> str:
    """The record that lets a ``cache=True`` step skip work it has done before."""
    return f"{cache_prefix(workflow)}{step}/{code_hash}/{inputs_hash}.json"
