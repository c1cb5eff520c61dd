"""Run one step: the part of the step runner that is the same in Lambda, in Batch and locally.

Given a step call (a :class:`~compiler.protocol.StepPayload`, as the compiled state machine
sends it) and an artifact store, it imports the step, turns the arguments into Python
values (``inputs.py``: reading stored outputs, validating against the parameter
annotations with pydantic; stored DataFrames, arrays, models and files read back and
checked against their hashes), calls the function, and stores the result: each part a
codec carries by reference (``lambdas.codecs``) written under the attempt's ``values/``,
and an envelope of the rest that keeps it inline when small, in the store otherwise. Every
attempt leaves a lineage record (:class:`~compiler.protocol.Lineage`); ``cache=True`` steps
are skipped when the same code already ran on the same inputs (hashed by content, not by
where they are stored), and a run that continues a failed one reuses what finished.

A failure is raised as :class:`StepFailedError` with the error name the compiled Retry and
Catch match: the exception's class name, or the first of ``error_names`` that one of its
base classes has, so ``except DataError`` catches subclasses as Python does.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from compiler.dsl.decorated import import_ref
from compiler.dsl.steps import StepDef
from compiler.protocol import (
    CacheRecord,
    Lineage,
    LineageError,
    OutputInfo,
    RedriveRecord,
    StepPayload,
    attempt_prefix,
    by_content,
    cache_key,
    canonical,
    content_hash,
    envelope,
    is_redrive,
    output_key,
    redrive_key,
    step_key,
)

from .cache import cache_lookup
from .codecs import store_value
from .codehash import code_hash as function_code_hash
from .context import RunningStep, StepContext, current_step
from .envelope import make_envelope
from .errors import StepFailedError
from .faults import fault_for, inject
from .inputs import python_arguments, resolve_argument
from .store import ArtifactStore

__all__ = ["code_hash", "error_name", "import_step", "run_step"]

JSON = Any


# import names whose distribution is named otherwise: only for the hint of a missing package
_DISTRIBUTIONS = {"sklearn": "scikit-learn", "PIL": "pillow", "cv2": "opencv-python-headless", "yaml": "pyyaml",
                  "skimage": "scikit-image", "bs4": "beautifulsoup4", "dateutil": "python-dateutil"}


def import_step(ref: str) -> StepDef[..., Any]:
    """The ``@step`` object named ``module:qualname``; a package the step's module imports
    and its function lacks says where to declare it."""
    module = ref.partition(":")[0]
    try:
        target = import_ref(ref)
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        if not missing or missing == module.split(".")[0]:
            raise
        package = _DISTRIBUTIONS.get(missing, missing)
        raise ModuleNotFoundError(
            f"No module named {missing!r}: the function running {ref} was deployed without it; declare it "
            f"beside the code: stepstone.packages({package!r}) in {module.replace('.', '/')}.py (or "
            f"@step(packages=[{package!r}]) for this step alone), then deploy again", name=exc.name) from None
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


def code_hash(step: StepDef[..., Any]) -> str:
    """A hash of the code the step runs (``lambdas/codehash.py``: its source, the project code it
    reaches, the versions of the packages it uses) and of its reference."""
    return content_hash(f"{step.ref}\n{function_code_hash(step.fn)}".encode())[7:23]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


_redrives: dict[tuple[str, str], RedriveRecord | None] = {}  # (workflow, run) -> its record (one read a run)


def _redrive_record(call: StepPayload, store: ArtifactStore) -> RedriveRecord | None:
    marker = (call.workflow, call.run_id)
    if marker not in _redrives:
        try:
            _redrives[marker] = RedriveRecord.decode(store.read(redrive_key(call.workflow, call.run_id)))
        except Exception:  # no record (a run that merely looks like one), or not one of ours
            _redrives[marker] = None
    return _redrives[marker]


def _reuse(call: StepPayload, store: ArtifactStore, code: str,
           inputs_hash: str) -> tuple[dict[str, JSON], str, OutputInfo | None] | None:
    """In a run that continues a failed one (see ``redrive_key``): the envelope of this step's
    finished attempt there, that attempt's prefix and its lineage's output, when the same
    code ran on the same inputs; None otherwise (the step runs)."""
    if not is_redrive(call.run_id):
        return None
    record = _redrive_record(call, store)
    entry = record.steps.get(step_key(call.state, call.item)) if record is not None else None
    if record is None or entry is None:
        return None
    earlier = attempt_prefix(call.workflow, record.from_run, call.state, entry.attempt, call.item)
    try:
        before = Lineage.decode(store.read(earlier + "lineage.json"))
    except Exception:
        return None
    if before.code_hash != code or before.inputs_hash != inputs_hash:
        return None  # the step or what goes into it changed: run it
    if call.batch:  # the next states read a Batch step's output at this run's key
        try:
            store.write(output_key(call.workflow, call.run_id, call.state, call.item),
                        store.read(output_key(call.workflow, record.from_run, call.state, call.item)),
                        if_absent=True)
        except Exception:
            return None
    held = entry.envelope
    if held is None:
        if not call.batch:
            return None  # what the state held is not known (its history did not say): run the step
        held = envelope()  # a Batch step's output is read from its key
    return held, earlier, before.output


def _ms(clock: float) -> float:
    return round((time.perf_counter() - clock) * 1000, 3)


def run_step(call: StepPayload, store: ArtifactStore, *,
             invoke: Callable[[Callable[..., Any], dict[str, Any]], Any] | None = None) -> dict[str, JSON]:
    """Run ``call``; return its envelope; raise :class:`StepFailedError` when it fails.

    ``invoke(fn, kwargs)`` calls the user's function (the local target passes one that
    enforces the step's timeout); by default it is a plain call.
    """
    clock = time.perf_counter()
    lineage = Lineage(run=call.run_id, execution=str(call.execution), workflow=call.workflow, state=call.state,
                      step=call.step, map_path=call.item, attempt=call.attempt_number, started=_now())
    prefix = call.attempt_prefix
    try:
        step = import_step(call.step)
        lineage.code_hash = code = code_hash(step)
        resolved = {name: resolve_argument(arg, store) for name, arg in call.args.items()}
        lineage.inputs = {name: r.info for name, r in resolved.items()}
        inputs_hash = content_hash(canonical({name: r.info.hash for name, r in sorted(resolved.items())}))[7:]
        lineage.inputs_hash = inputs_hash
        reused = _reuse(call, store, code, inputs_hash)
        if reused is not None:
            reused_envelope, lineage.reused_from, lineage.output = reused
            lineage.status, lineage.finished, lineage.duration_ms = "reused", _now(), _ms(clock)
            store.write(prefix + "lineage.json", lineage.encode(), if_absent=True)
            return reused_envelope
        cached = call.cache or step.options.cache
        cached_key = cache_key(call.workflow, step.name, code, inputs_hash) if cached else None
        looked = cache_lookup(store, cached_key, step.options.cache_ttl) if cached_key is not None else None
        if looked is not None:
            lineage.cache_miss = looked.miss
            if looked.record is not None:
                lineage.status, lineage.cache, lineage.output = "cached", cached_key, looked.record.output
                lineage.finished, lineage.duration_ms = _now(), _ms(clock)
                store.write(prefix + "lineage.json", lineage.encode(), if_absent=True)
                return looked.record.envelope
        kwargs = python_arguments(step, resolved, store)
        context = StepContext(store, prefix, step=RunningStep(call.workflow, call.run_id, call.state,
                                                              call.attempt_number, call.item),
                              secrets=step.options.secrets)
        token = current_step().set(context)
        fn: Callable[..., Any] = step.fn
        fault = fault_for(call.state, step.name, call.attempt_number)  # STEPSTONE_FAULTS, see lambdas/faults.py
        if fault is not None:
            where = f"{call.state}{f' ({call.item})' if call.item else ''} attempt {call.attempt_number}"
            fn = inject(fault, timeout=step.options.timeout, where=where)
        try:
            result = invoke(fn, kwargs) if invoke is not None else fn(**kwargs)
        finally:
            current_step().reset(token)
            lineage.files = context.written
        stored = store_value(result, step.return_annotation, store=store, prefix=prefix)
        value = stored.skeleton  # JSON: what is carried by reference replaced by its reference
        built = make_envelope(value, inline_limit=call.inline_limit, store_mode="always" if call.batch else call.store,
                              store=store, key=prefix + "output.json", producer=step.name)
        if call.batch:  # Batch: the next states read the output at a key they can compute
            store.write(output_key(call.workflow, call.run_id, call.state, call.item), canonical(value),
                        if_absent=True)
        lineage.output = OutputInfo(ref=built.stored, hash=content_hash(canonical(by_content(value))), bytes=built.size,
                                    values=stored.refs)
        lineage.status, lineage.finished, lineage.duration_ms = "succeeded", _now(), _ms(clock)
        store.write(prefix + "lineage.json", lineage.encode(), if_absent=True)
        if cached_key is not None:  # an expired record is replaced; a fresh one another run wrote is kept
            store.write(cached_key, CacheRecord(built.data, lineage.output, prefix, created=_now()).encode(),
                        if_absent=not (looked is not None and looked.expired))
        return built.data
    except StepFailedError:
        raise
    except Exception as exc:
        name = error_name(exc, call.error_names)
        trace = traceback.format_exc()
        lineage.error = LineageError(name, str(exc), type(exc).__name__, trace)
        lineage.status, lineage.finished, lineage.duration_ms = "failed", _now(), _ms(clock)
        store.write(prefix + "lineage.json", lineage.encode(), if_absent=True)
        raise StepFailedError(name, str(exc), trace) from exc
