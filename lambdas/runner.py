"""Run one step: the part of the step runner that is the same in Lambda, in Batch and locally.

Given a step call (the payload the compiled state machine sends, see
``compiler/protocol.py``) and an artifact store, it imports the step, turns the
arguments into Python values (reading stored outputs, validating against the parameter
annotations with pydantic), calls the function, and stores the result: an envelope that
keeps it inline when small, in the store otherwise. Every attempt leaves a lineage record;
``cache=True`` steps are skipped when the same code already ran on the same inputs.

A failure is raised as :class:`StepFailed` with the error name the compiled Retry and
Catch match: the exception's class name, or the first of ``error_names`` that one of its
base classes has, so ``except DataError`` catches subclasses as Python does.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import time
import traceback
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from compiler.dsl.decorated import import_ref
from compiler.dsl.errors import PermanentError
from compiler.dsl.steps import StepDef
from compiler.protocol import attempt_prefix, cache_key, is_redrive, output_key, redrive_key
from lambdas.context import RunningStep, StepContext, current_step

from .envelope import OutputTooLarge, make_envelope, read_envelope
from .faults import fault_for, inject
from .serialize import canonical, content_hash, from_json, to_json
from .store import ArtifactStore

__all__ = ["InvalidInput", "RemoteError", "StepCall", "StepFailed", "error_name", "import_step", "run_step"]

JSON = Any


class InvalidInput(PermanentError):
    """A step's input does not fit its parameter's type (retrying cannot help)."""


class OutputTooLargeError(PermanentError, OutputTooLarge):
    pass


class RemoteError(Exception):
    """An error caught by ``except ... as e`` in the workflow, handed to a step as a value.

    Its class is named after the original error, so ``type(e).__name__`` reads as it did.
    """


class StepFailed(Exception):
    """A step failed; ``error`` is the name Retry/Catch match, ``cause`` the message."""

    def __init__(self, error: str, cause: str, trace: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.trace = trace


@dataclass(frozen=True)
class StepCall:
    """One call of a step, as the state machine (or the local target) asks for it."""

    step: str  # module:qualname
    workflow: str
    state: str
    run: str
    args: Mapping[str, JSON]
    attempt: int = 0
    execution: str = ""
    map_path: str | None = None
    inline_limit: int = 32 * 1024
    store: str | None = None  # "always" | "inline" | None
    cache: bool = False
    error_names: tuple[str, ...] = ()
    batch: bool = False  # a Batch job: the output always goes to output_key()
    extra: Mapping[str, JSON] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: Mapping[str, JSON]) -> StepCall:
        return cls(
            step=payload["step"], workflow=payload["workflow"], state=payload["state"], run=payload["run"],
            args=payload.get("args", {}), attempt=int(payload.get("attempt", 0)),
            execution=payload.get("execution", ""), map_path=payload.get("map_path") or None,
            inline_limit=int(payload.get("inline_limit", 32 * 1024)), store=payload.get("store"),
            cache=bool(payload.get("cache", False)), error_names=tuple(payload.get("error_names", ())),
            batch=bool(payload.get("batch", False)),
        )

    @property
    def attempt_prefix(self) -> str:
        return attempt_prefix(self.workflow, self.run, self.state, self.attempt, self.map_path)


def import_step(ref: str) -> StepDef[..., Any]:
    """The ``@step`` object named ``module:qualname``."""
    target = import_ref(ref)
    if not isinstance(target, StepDef):
        raise TypeError(f"{ref} is not a @step")
    return target


def error_name(exc: BaseException, names: tuple[str, ...]) -> str:
    """The name a failure is reported under (see the module docstring)."""
    fixed = getattr(exc, "error_name", None)  # e.g. a timeout the local target enforces: States.Timeout
    if isinstance(fixed, str):
        return fixed
    for cls in type(exc).__mro__:
        if cls.__name__ in names:
            return cls.__name__
    return type(exc).__name__


_code_hashes: weakref.WeakKeyDictionary[Callable[..., Any], str] = weakref.WeakKeyDictionary()


def code_hash(step: StepDef[..., Any]) -> str:
    """A hash of the step's source (its reference too), once per function object: reading
    the source costs more than a small step itself."""
    known = _code_hashes.get(step.fn)
    if known is not None:
        return known
    try:
        source = inspect.getsource(step.fn)
    except (OSError, TypeError):
        source = repr(step.fn.__code__.co_code)
    found = content_hash(f"{step.ref}\n{source}".encode())[7:23]
    _code_hashes[step.fn] = found
    return found


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def remote_error(error: Mapping[str, JSON]) -> RemoteError:
    """An ``{"Error", "Cause"}`` object (what a Catch records) as an exception."""
    name = str(error.get("Error") or "Error")
    cause = error.get("Cause") or ""
    if isinstance(cause, str) and cause.startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):  # Lambda's: {"errorMessage": ..., "errorType": ...}
            cause = json.loads(cause).get("errorMessage", cause)
    cls: type[RemoteError] = type(name if name.isidentifier() else "RemoteError", (RemoteError,), {})
    return cls(str(cause))


@dataclass
class ResolvedInput:
    value: JSON  # the JSON the parameter is validated from
    ref: str | None  # the stored output it came from, if any
    hash: str


def _walk(value: JSON, path: list[str | int]) -> JSON:
    for part in path:
        value = value[part]
    return value


def resolve_argument(descriptor: Mapping[str, JSON], store: ArtifactStore) -> ResolvedInput:
    """One ``args`` entry (see the protocol) as JSON, with where it came from."""
    ref: str | None = None
    if "value" in descriptor:
        value = descriptor["value"]
    elif "result" in descriptor:
        envelope = descriptor["result"]
        ref = envelope.get("ref") if isinstance(envelope, dict) else None
        value = _walk(read_envelope(envelope, store), list(descriptor.get("path", [])))
    elif "results" in descriptor:
        value = [read_envelope(item, store) for item in descriptor["results"]]
    elif "error" in descriptor:
        value = {"__error__": descriptor["error"]}
    else:
        raise ValueError(f"unknown argument form: {sorted(descriptor)}")
    return ResolvedInput(value, ref, content_hash(canonical(value)))


def _python_arguments(step: StepDef[..., Any], resolved: Mapping[str, ResolvedInput]) -> dict[str, Any]:
    annotations = step.parameter_annotations()
    kwargs: dict[str, Any] = {}
    for name, item in resolved.items():
        value = item.value
        if isinstance(value, dict) and set(value) == {"__error__"}:
            kwargs[name] = remote_error(value["__error__"])
            continue
        annotation = annotations.get(name, inspect.Parameter.empty)
        if annotation is inspect.Parameter.empty or annotation is Any:
            kwargs[name] = value
            continue
        try:
            kwargs[name] = from_json(value, annotation)
        except Exception as exc:  # pydantic's ValidationError, or a type it cannot build
            raise InvalidInput(f"{step.name}: argument {name!r} does not fit its type: {exc}") from None
    return kwargs


_redrives: dict[tuple[str, str], JSON] = {}  # (workflow, run) -> its redrive record (one read per run)


def _reuse(call: StepCall, store: ArtifactStore, code: str,
           inputs_hash: str) -> tuple[dict[str, JSON], str, JSON] | None:
    """In a run that continues a failed one (see ``redrive_key``): the envelope of this step's
    finished attempt there, that attempt's prefix and its lineage's output, when the same
    code ran on the same inputs; None otherwise (the step runs)."""
    if not is_redrive(call.run):
        return None
    marker = (call.workflow, call.run)
    if marker not in _redrives:
        try:
            _redrives[marker] = json.loads(store.read(redrive_key(call.workflow, call.run)))
        except Exception:  # no record: a run that merely looks like one
            _redrives[marker] = None
    document = _redrives[marker]
    key = f"{call.map_path}/{call.state}" if call.map_path else call.state
    entry = (document or {}).get("steps", {}).get(key)
    if not isinstance(entry, dict):
        return None
    earlier = attempt_prefix(call.workflow, document["from"], call.state, int(entry.get("attempt", 0)),
                             call.map_path)
    try:
        before = json.loads(store.read(earlier + "lineage.json"))
    except Exception:
        return None
    if before.get("code_hash") != code or before.get("inputs_hash") != inputs_hash:
        return None  # the step or what goes into it changed: run it
    if call.batch:  # the next states read a Batch step's output at this run's key
        try:
            store.write(output_key(call.workflow, call.run, call.state, call.map_path),
                        store.read(output_key(call.workflow, document["from"], call.state, call.map_path)),
                        if_absent=True)
        except Exception:
            return None
    envelope = entry.get("envelope")
    if not isinstance(envelope, dict):
        if not call.batch:
            return None  # what the state held is not known (its history did not say): run the step
        envelope = {"fields": {}, "ref": None, "value": None}  # a Batch step's output is read from its key
    return envelope, earlier, before.get("output")


def run_step(call: StepCall, store: ArtifactStore, *,
             invoke: Callable[[Callable[..., Any], dict[str, Any]], Any] | None = None) -> dict[str, JSON]:
    """Run ``call``; return its envelope; raise :class:`StepFailed` when it fails.

    ``invoke(fn, kwargs)`` calls the user's function (the local target passes one that
    enforces the step's timeout); by default it is a plain call.
    """
    started, clock = _now(), time.perf_counter()
    lineage: dict[str, JSON] = {
        "run": call.run, "execution": call.execution, "workflow": call.workflow, "state": call.state,
        "step": call.step, "map_path": call.map_path, "attempt": call.attempt, "started": started,
    }
    prefix = call.attempt_prefix
    try:
        step = import_step(call.step)
        lineage["code_hash"] = code = code_hash(step)
        resolved = {name: resolve_argument(d, store) for name, d in call.args.items()}
        lineage["inputs"] = {name: {"ref": r.ref, "hash": r.hash} for name, r in resolved.items()}
        inputs_hash = content_hash(canonical({name: r.hash for name, r in sorted(resolved.items())}))[7:]
        lineage["inputs_hash"] = inputs_hash
        reused = _reuse(call, store, code, inputs_hash)
        if reused is not None:
            reused_envelope, earlier, earlier_output = reused
            lineage.update(status="reused", reused_from=earlier, output=earlier_output, finished=_now(),
                           duration_ms=round((time.perf_counter() - clock) * 1000, 3))
            store.write(prefix + "lineage.json", canonical(lineage), if_absent=True)
            return reused_envelope
        cached = call.cache or step.options.cache
        cached_key = cache_key(call.workflow, step.name, code, inputs_hash) if cached else None
        if cached_key is not None and store.exists(cached_key):
            record = json.loads(store.read(cached_key))
            lineage.update(status="cached", cache=cached_key, output=record["output"], finished=_now(),
                           duration_ms=round((time.perf_counter() - clock) * 1000, 3))
            store.write(prefix + "lineage.json", canonical(lineage), if_absent=True)
            envelope: dict[str, JSON] = record["envelope"]
            return envelope
        kwargs = _python_arguments(step, resolved)
        context = StepContext(store, prefix, step=RunningStep(call.workflow, call.run, call.state, call.attempt,
                                                              call.map_path), secrets=step.options.secrets)
        token = current_step().set(context)
        fn: Callable[..., Any] = step.fn
        fault = fault_for(call.state, step.name, call.attempt)  # STEPSTONE_FAULTS, see lambdas/faults.py
        if fault is not None:
            fn = inject(fault, timeout=step.options.timeout,
                        where=f"{call.state}{f' ({call.map_path})' if call.map_path else ''} attempt {call.attempt}")
        try:
            result = invoke(fn, kwargs) if invoke is not None else fn(**kwargs)
        finally:
            current_step().reset(token)
            lineage["files"] = context.written
        value = to_json(result)
        if call.batch:  # Batch: the next states read the output at a key they can compute
            key = output_key(call.workflow, call.run, call.state, call.map_path)
            built = make_envelope(value, inline_limit=call.inline_limit, store_mode="always", store=store,
                                  key=prefix + "output.json", producer=step.name)
            store.write(key, canonical(value), if_absent=True)
        else:
            try:
                built = make_envelope(value, inline_limit=call.inline_limit, store_mode=call.store, store=store,
                                      key=prefix + "output.json", producer=step.name)
            except OutputTooLarge as exc:
                raise OutputTooLargeError(str(exc)) from None
        output = {"ref": built.stored, "hash": content_hash(canonical(value)), "bytes": built.size}
        lineage.update(status="succeeded", output=output, finished=_now(),
                       duration_ms=round((time.perf_counter() - clock) * 1000, 3))
        store.write(prefix + "lineage.json", canonical(lineage), if_absent=True)
        if cached_key is not None:
            store.write(cached_key, canonical({"envelope": built.data, "output": output, "lineage": prefix}),
                        if_absent=True)
        return built.data
    except StepFailed:
        raise
    except Exception as exc:
        name = error_name(exc, call.error_names)
        trace = traceback.format_exc()
        lineage.update(status="failed", finished=_now(), duration_ms=round((time.perf_counter() - clock) * 1000, 3),
                       error={"Error": name, "Cause": str(exc), "type": type(exc).__name__, "traceback": trace})
        store.write(prefix + "lineage.json", canonical(lineage), if_absent=True)
        raise StepFailed(name, str(exc), trace) from exc
