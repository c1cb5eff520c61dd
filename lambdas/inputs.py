"""A step's inputs: each argument of its payload as the JSON it stands for (its *skeleton*,
read from the artifact store when the envelope was stored), with where it came from and its
hash, and then as the Python values the step's parameters are annotated with: the stored
values the skeleton references (a DataFrame, a model, a file) read, checked against their
content hashes and decoded (``lambdas.codecs.load_value``).

A reference is read only from what steps wrote (a step's output, a fan-out item, a step result
a calling workflow passed to a parameter only steps' results can fill), never from a run's
plain parameters or a literal, and only under ``runs/``, where steps write."""

from __future__ import annotations

import contextlib
import inspect
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from compiler.dsl.steps import StepDef
from compiler.protocol import (
    RUNS_PREFIX,
    Argument,
    ErrorArg,
    InputInfo,
    ResultArg,
    ResultsArg,
    ValueArg,
    by_content,
    canonical,
    content_hash,
    value_refs,
)

from .codecs import load_value
from .envelope import read_envelope
from .errors import CodecError, CorruptValueError, InvalidInputError, RemoteError
from .serialize import from_json
from .store import ArtifactStore

__all__ = ["ResolvedInput", "python_arguments", "remote_error", "resolve_argument"]

JSON = Any


def remote_error(error: Mapping[str, JSON]) -> RemoteError:
    """An ``{"Error", "Cause"}`` object (what a Catch records) as an exception."""
    name = str(error.get("Error") or "Error")
    cause = error.get("Cause") or ""
    if isinstance(cause, str) and cause.startswith("{"):
        with contextlib.suppress(json.JSONDecodeError):  # Lambda's: {"errorMessage": ..., "errorType": ...}
            cause = json.loads(cause).get("errorMessage", cause)
    cls: type[RemoteError] = type(name if name.isidentifier() else "RemoteError", (RemoteError,), {})
    return cls(str(cause))


@dataclass(frozen=True)
class ResolvedInput:
    value: JSON  # the JSON the parameter is validated from (a skeleton when ``refs``)
    info: InputInfo  # the stored output it came from (if any), the value's hash, the stored values it names
    error: bool = False  # an error caught by ``except ... as e``: the value is {"Error", "Cause"}
    refs: bool = False  # the value came from what steps wrote: its references are read


def _walk(value: JSON, path: tuple[str | int, ...]) -> JSON:
    for part in path:
        value = value[part]
    return value


def resolve_argument(argument: Argument, store: ArtifactStore) -> ResolvedInput:
    """One argument (see ``compiler.protocol.payload``) as JSON, with where it came from."""
    ref: str | None = None
    refs = isinstance(argument, (ResultArg, ResultsArg)) or (isinstance(argument, ValueArg) and argument.refs)
    if isinstance(argument, ValueArg):
        value = argument.value
    elif isinstance(argument, ResultArg):
        held = argument.envelope
        ref = held.get("ref") if isinstance(held, dict) else None
        if ref is not None and not (isinstance(ref, str) and ref.startswith(RUNS_PREFIX)):
            # steps write under runs/; an envelope pointing elsewhere (a nested run's input,
            # written by hand) is not a step's output
            raise InvalidInputError(f"a step result's reference {ref!r} is not under {RUNS_PREFIX}, where steps "
                                    "write their outputs")
        value = _walk(read_envelope(held, store), argument.path)
    elif isinstance(argument, ResultsArg):
        value = [read_envelope(item, store) for item in argument.envelopes]
    else:
        assert isinstance(argument, ErrorArg)
        value = argument.error
    hashed = {"__error__": value} if isinstance(argument, ErrorArg) else by_content(value) if refs else value
    stored = tuple(found.key for _, found in value_refs(value)) if refs else ()
    return ResolvedInput(value, InputInfo(ref, content_hash(canonical(hashed)), stored), isinstance(argument, ErrorArg),
                         refs)


def python_arguments(step: StepDef[..., Any], resolved: Mapping[str, ResolvedInput],
                     store: ArtifactStore) -> dict[str, Any]:
    """The step function's keyword arguments, each validated against its annotation (the
    stored values it references read back first, from under ``runs/`` only)."""
    annotations = step.parameter_annotations()
    kwargs: dict[str, Any] = {}
    within = RUNS_PREFIX  # a nested workflow's outputs are under its own folder
    for name, item in resolved.items():
        if item.error:
            kwargs[name] = remote_error(item.value)
            continue
        annotation = annotations.get(name, inspect.Parameter.empty)
        if item.refs and item.info.values:  # it names stored values: read and decode them
            try:
                kwargs[name] = load_value(item.value, annotation, store=store, within=within)
            except CorruptValueError:
                raise
            except CodecError as exc:
                raise InvalidInputError(f"{step.name}: argument {name!r}: {exc}") from None
            except Exception as exc:  # pydantic's ValidationError of a JSON part
                raise InvalidInputError(f"{step.name}: argument {name!r} does not fit its type: {exc}") from None
            continue
        if annotation is inspect.Parameter.empty or annotation is Any:
            kwargs[name] = item.value
            continue
        try:
            kwargs[name] = from_json(item.value, annotation)
        except Exception as exc:  # pydantic's ValidationError, or a type it cannot build
            raise InvalidInputError(f"{step.name}: argument {name!r} does not fit its type: {exc}") from None
    return kwargs
