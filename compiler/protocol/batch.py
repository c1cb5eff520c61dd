"""A Batch step's call: the same information as a Lambda payload, in the job's environment.

Container overrides are small, so a job's inputs go by reference: the compiled
``batch:submitJob.sync`` task sets one variable per argument that comes from the run (the
stored output's key, or the value as JSON) and ``STEPSTONE_CALL``, a JSON document with the
step, workflow, state and the literal parts of the arguments. The job writes its output to
``output_key(...)``, which the states after it read; it returns nothing to Step Functions.

:class:`BatchJob` encodes the task's ``Environment`` (:meth:`BatchJob.environment`) and
:func:`batch_payload` decodes the job's environment into the :class:`StepPayload` the
runner runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .envelope import envelope
from .errors import ProtocolError
from .payload import Argument, Dynamic, ResultArg, StepPayload, ValueArg, template

__all__ = ["BATCH_ENV", "BatchArg", "BatchJob", "batch_payload"]

BATCH_ENV = {
    "execution": "STEPSTONE_EXECUTION",
    "run": "STEPSTONE_RUN",
    "attempt": "STEPSTONE_ATTEMPT",
    "map_path": "STEPSTONE_MAP_PATH",
    "call": "STEPSTONE_CALL",  # JSON: step, workflow, state and the literal parts of the arguments
    "task_token": "STEPSTONE_TASK_TOKEN",  # for SendTaskHeartbeat, when the step has heartbeat=
    "arg_prefix": "STEPSTONE_ARG_",  # one per argument that comes from the run: a ref or JSON
}


@dataclass(frozen=True, slots=True)
class BatchArg:
    """How one argument reaches a job: a ``value`` (literal, in the call), the ``ref`` of a
    stored output (``source`` makes the key; ``path`` is a field inside it), any other value of
    the state as ``json`` (``source`` is its JSONPath; ``refs``: one steps wrote, whose
    references to stored values are read, see ``ValueArg``), or the whole parameters model
    as ``fields`` (one variable per parameter)."""

    kind: Literal["value", "ref", "json", "fields"]
    value: Any = None
    source: str = ""
    path: tuple[str | int, ...] = ()
    fields: tuple[str, ...] = ()
    refs: bool = False


@dataclass(frozen=True, slots=True)
class BatchJob:
    step: str
    workflow: str
    state: str
    args: Mapping[str, BatchArg]
    run: Dynamic
    execution: Dynamic
    in_map: Dynamic | None = None  # where the item's map_path is, inside a fan-out
    heartbeat: bool = False  # the job gets its task token to send heartbeats

    def environment(self) -> list[dict[str, Any]]:
        """The task's ``ContainerOverrides.Environment`` (an ASL template)."""
        env: list[dict[str, Any]] = [
            {"Name": BATCH_ENV["execution"], "Value": self.execution},
            {"Name": BATCH_ENV["run"], "Value": self.run},
            {"Name": BATCH_ENV["attempt"], "Value": Dynamic("States.Format('{}', $$.State.RetryCount)")},
        ]
        if self.heartbeat:
            env.append({"Name": BATCH_ENV["task_token"], "Value": Dynamic("$$.Task.Token")})
        if self.in_map is not None:
            env.append({"Name": BATCH_ENV["map_path"], "Value": self.in_map})
        call_args: dict[str, Any] = {}
        for name, arg in self.args.items():
            variable = BATCH_ENV["arg_prefix"] + name
            if arg.kind == "value":
                call_args[name] = {"value": arg.value}
            elif arg.kind == "fields":
                call_args[name] = {"fields": list(arg.fields)}
                env.extend({"Name": f"{variable}__{f}", "Value": Dynamic(f"States.JsonToString($.{f})")}
                           for f in arg.fields)
            elif arg.kind == "ref":
                call_args[name] = {"ref": True, **({"path": list(arg.path)} if arg.path else {})}
                env.append({"Name": variable, "Value": Dynamic(arg.source)})
            else:
                call_args[name] = {"json": True, **({"refs": True} if arg.refs else {})}
                env.append({"Name": variable, "Value": Dynamic(f"States.JsonToString({arg.source})")})
        call = {"args": call_args, "state": self.state, "step": self.step, "workflow": self.workflow}
        env.append({"Name": BATCH_ENV["call"], "Value": json.dumps(call, sort_keys=True, separators=(",", ":"))})
        encoded: list[dict[str, Any]] = template(env)
        return encoded


def batch_payload(env: Mapping[str, str]) -> StepPayload:
    """The step call of a Batch job, from the environment its task set."""
    try:
        call = json.loads(env[BATCH_ENV["call"]])
        args: dict[str, Argument] = {}
        for name, spec in call["args"].items():
            variable = BATCH_ENV["arg_prefix"] + name
            if "value" in spec:
                args[name] = ValueArg(spec["value"])
            elif spec.get("ref"):
                args[name] = ResultArg(envelope(ref=env[variable]), tuple(spec.get("path") or ()))
            elif "fields" in spec:
                args[name] = ValueArg({f: json.loads(env[f"{variable}__{f}"]) for f in spec["fields"]})
            else:
                args[name] = ValueArg(json.loads(env[variable]), refs=spec.get("refs") is True)
        return StepPayload(step=call["step"], workflow=call["workflow"], state=call["state"],
                           run=env[BATCH_ENV["run"]], args=args, attempt=int(env.get(BATCH_ENV["attempt"], "0")),
                           execution=env.get(BATCH_ENV["execution"], ""),
                           map_path=env.get(BATCH_ENV["map_path"]) or None, batch=True)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProtocolError(f"Batch job environment: {type(exc).__name__}: {exc}") from None
