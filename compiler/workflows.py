"""``@workflow``: a function whose body wires steps into a workflow; plus ``approve`` and ``map``.

The decorator records the function, its typed parameters, type (Standard or Express),
schedules and triggers. The body is compiled later, by :func:`compiler.compile`, from its
syntax tree. Called directly, a workflow validates its parameters and runs its body as the
plain Python it is: sequentially, in this process.
"""

from __future__ import annotations

import difflib
import inspect
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, ParamSpec, TypeVar, overload

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from .credentials import credential_in, credential_name
from .decorated import Decorated
from .errors import CompileError, Location, caller_location, definition_location
from .options import Seconds, to_seconds
from .schedules import Schedule
from .steps import StepDef
from .triggers import S3Upload, Trigger, WorkflowSucceeded

__all__ = ["PARAMS_MAX_BYTES", "Approval", "ParamsError", "WorkflowDef", "approve", "map", "workflow"]

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

WORKFLOW_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
WorkflowType = Literal["standard", "express"]


class ParamsError(ValueError):
    """Workflow parameters that do not fit the workflow's declared types."""

    def __init__(self, workflow: str, errors: list[str]) -> None:
        self.workflow = workflow
        self.errors = errors
        super().__init__(f"invalid parameters for workflow {workflow!r}:\n  " + "\n  ".join(errors))


@dataclass(frozen=True, slots=True)
class WorkflowOptions:
    name: str
    type: WorkflowType
    schedules: tuple[Schedule, ...]
    triggers: tuple[Trigger, ...]
    timeout: int | None
    decorator: Location | None = None  # where @workflow(...) is written: errors about its options point there


class WorkflowDef(Decorated[P, R]):
    """A function decorated with ``@workflow``."""

    def __init__(self, fn: Callable[P, R], options: WorkflowOptions, location: Location) -> None:
        super().__init__(fn, location)
        self.options = options

    @property
    def name(self) -> str:
        return self.options.name

    @cached_property
    def param_hints(self) -> dict[str, Any]:
        import typing

        try:
            hints = typing.get_type_hints(self.fn, include_extras=True)
        except Exception as exc:
            raise CompileError(
                f"cannot resolve the parameter types of workflow {self.name!r}: {exc}",
                rule="bad-parameters",
                location=self.location,
                hint="import every type the workflow's signature names",
            ) from None
        return {name: hints.get(name, Any) for name in self.signature.parameters}

    @property
    def return_annotation(self) -> Any:
        import typing

        try:
            return typing.get_type_hints(self.fn, include_extras=True).get("return", Any)
        except Exception:  # an unresolved forward reference: what is written
            return self.fn.__annotations__.get("return", Any)

    @property
    def model_param(self) -> str | None:
        """The parameter's name when the workflow takes one pydantic model (its fields are the input)."""
        hints = self.param_hints
        if len(hints) == 1:
            (name, annotation), = hints.items()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                return name
        return None

    @cached_property
    def params_model(self) -> type[BaseModel]:
        """The pydantic model that a run's input (a JSON object) must satisfy."""
        model_param = self.model_param
        if model_param is not None:
            model: type[BaseModel] = self.param_hints[model_param]
            return model
        fields: dict[str, Any] = {}
        for name, param in self.signature.parameters.items():
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[name] = (self.param_hints[name], default)
            _check_param_type(self, name, self.param_hints[name])
        return create_model(
            f"{self.fn.__name__}_params", __config__=ConfigDict(extra="forbid"), **fields
        )

    def validate_params(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``data`` checked against the parameter types, defaults filled in, as JSON values.

        Nothing that looks like a secret gets into a run (see ``compiler/credentials.py``).
        """
        refused = _secrets_in(self.params_model, data)
        if refused:
            raise ParamsError(self.name, refused)
        unknown = _unknown_params(self.params_model, data)
        try:
            model = self.params_model.model_validate(dict(data))
        except ValidationError as exc:
            errors = [f"{'.'.join(str(p) for p in e['loc']) or '(input)'}: {e['msg']}" for e in exc.errors()
                      if not (e["type"] == "extra_forbidden" and len(e["loc"]) == 1)]  # said by `unknown`
            raise ParamsError(self.name, unknown + errors) from None
        document = model.model_dump(mode="json")
        problems = unknown + _not_json(document)
        if problems:
            raise ParamsError(self.name, problems)
        return document

    def after(self, *results: object) -> WorkflowDef[P, R]:
        """This workflow, started only after the steps that made ``results`` (see ``StepDef.after``)."""
        return self

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        kwargs.pop("after", None)  # ordering hint for the compiler; no meaning in plain Python
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        model_param = self.model_param
        if model_param is not None:
            value = bound.arguments[model_param]
            if isinstance(value, Mapping):
                bound.arguments[model_param] = self.params_model.model_validate(dict(value))
        else:
            checked = self.params_model.model_validate(dict(bound.arguments))
            for name in bound.arguments:
                bound.arguments[name] = getattr(checked, name)
        return self.fn(*bound.args, **bound.kwargs)

    def __repr__(self) -> str:
        return f"<workflow {self.name} ({self.fn.__module__}:{self.fn.__qualname__})>"


def _check_param_type(definition: WorkflowDef[..., Any], name: str, annotation: Any) -> None:
    """A parameter's type must be one a run's input (JSON) can hold: pydantic must know it."""
    from pydantic import TypeAdapter
    from pydantic.errors import PydanticSchemaGenerationError

    try:
        TypeAdapter(annotation)
    except PydanticSchemaGenerationError:
        type_name = getattr(annotation, "__name__", None) or str(annotation)
        raise CompileError(
            f"parameter {name!r} of workflow {definition.name!r} is a {type_name}, which a run's input (JSON) "
            "cannot hold", rule="bad-parameters", location=definition.location,
            hint="use str, int, float, bool, lists and dicts of them, or a pydantic model; build other objects "
                 "inside a step") from None


PARAMS_MAX_BYTES = 16 * 1024
"""The largest run input (workflow parameters, as JSON) a run may start with: the compiler
plans every state's size with it, so it is checked before a run starts."""


def _unknown_params(model: type[BaseModel], data: Mapping[str, Any]) -> list[str]:
    """Names in ``data`` that are not parameters, so a typo is not silently dropped (unless
    the model says ``extra="allow"`` or ``"ignore"`` itself)."""
    if model.model_config.get("extra") in ("allow", "ignore"):
        return []
    known: set[str] = set()
    for name, info in model.model_fields.items():
        known |= {name, *(a for a in (info.alias, info.validation_alias) if isinstance(a, str))}
    found = []
    for name in data:
        if name not in known:
            close = difflib.get_close_matches(str(name), sorted(known), n=1)
            found.append(f"{name}: not a parameter of this workflow"
                         + (f" (did you mean {close[0]!r}?)" if close else f" (it has: {', '.join(sorted(known))})"))
    return found


def _not_json(document: Any) -> list[str]:
    """Why a run input cannot travel as JSON to Step Functions: NaN or infinity in it, or its size."""
    found: list[str] = []

    def visit(value: Any, path: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            found.append(f"{path or '(input)'}: {value} is not a JSON number; Step Functions refuses it")
        elif isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                visit(item, f"{path}.{index}" if path else str(index))

    visit(document, "")
    if not found:
        size = len(json.dumps(document, ensure_ascii=False).encode())
        if size > PARAMS_MAX_BYTES:
            found.append(f"(input): the parameters take {size:,} bytes as JSON, and a run's parameters may take at "
                         f"most {PARAMS_MAX_BYTES:,}; pass large data by reference (an S3 key), not by value")
    return found


_KEEP_OUT = ("a run's parameters are kept in clear in its execution history: keep it in Secrets Manager or "
             "Parameter Store, where the step that declares it as a Secret(...) reads it")


def _secrets_in(model: type[BaseModel], data: Mapping[str, Any]) -> list[str]:
    """Why ``data`` may not start a run: a parameter the workflow does not have, named like a
    credential (``-p password=...``), or a value in a credential's format."""
    found = []
    for name, value in data.items():
        named = credential_name(name) if name not in model.model_fields else None
        if named is not None:
            found.append(f"{name}: this looks like {named}, and {_KEEP_OUT}")
        held = credential_in(value)
        if held is not None:
            found.append(f"{name}: this holds what looks like {held}, and {_KEEP_OUT}")
    return found


def _check_signature(fn: Callable[..., Any], location: Location | None) -> None:
    if not inspect.isfunction(fn):
        raise CompileError(f"@workflow decorates functions, not {fn!r}", rule="bad-workflow", location=location)
    if "<locals>" in fn.__qualname__:
        raise CompileError(f"workflow {fn.__qualname__!r} is defined inside another function",
                           rule="bad-workflow", location=location, hint="define workflows at module level")
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise CompileError(
                f"workflow {fn.__name__!r} takes *{param.name}; a workflow's parameters must be named",
                rule="bad-parameters",
                location=location,
                hint="list each parameter, or take one pydantic model",
            )
        if param.name.startswith("_"):
            raise CompileError(
                f"workflow parameter {param.name!r} starts with '_', which stepstone keeps for its own state",
                rule="bad-parameters",
                location=location,
                hint=f"rename it to {param.name.lstrip('_') or 'value'!r}",
            )


def _as_tuple(value: Any, kind: type | tuple[type, ...], what: str, location: Location | None) -> tuple[Any, ...]:
    if value is None:
        return ()
    items = tuple(value) if isinstance(value, (list, tuple)) else (value,)
    for item in items:
        if not isinstance(item, kind):
            raise CompileError(f"{what} got {item!r}", rule="bad-option", location=location,
                               hint=f"{what} takes {_kind_hint(what)}")
    return items


def _kind_hint(what: str) -> str:
    if what == "schedule=":
        return 'cron("0 3 * * ? *") or rate(1, "day"), or a list of them'
    return 'a list of s3_upload(...) and workflow_succeeded(...)'


@overload
def workflow(fn: Callable[P, R], /) -> WorkflowDef[P, R]: ...


@overload
def workflow(
    *,
    name: str | None = None,
    type: WorkflowType = "standard",
    schedule: Schedule | Sequence[Schedule] | None = None,
    triggers: Sequence[Trigger] | None = None,
    timeout: Seconds | None = None,
) -> Callable[[Callable[P, R]], WorkflowDef[P, R]]: ...


def workflow(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    type: WorkflowType = "standard",  # noqa: A002 - @workflow(type="express") reads as the option it is
    schedule: Schedule | Sequence[Schedule] | None = None,
    triggers: Sequence[Trigger] | None = None,
    timeout: Seconds | None = None,
) -> WorkflowDef[P, R] | Callable[[Callable[P, R]], WorkflowDef[P, R]]:
    """Make a function a workflow.

    ``type`` is ``"standard"`` (the default: long runs, exactly once) or ``"express"``
    (at most 5 minutes, cheap at high volume). ``schedule`` takes ``cron(...)`` and
    ``rate(...)``; ``triggers`` take ``s3_upload(...)`` and ``workflow_succeeded(...)``.
    ``timeout`` limits a whole run.
    """
    location = caller_location()

    def decorate(function: Callable[P, R]) -> WorkflowDef[P, R]:
        _check_signature(function, definition_location(function))
        wf_name = name if name is not None else function.__name__
        if not isinstance(wf_name, str) or not WORKFLOW_NAME.match(wf_name):
            raise CompileError(
                f"workflow name {wf_name!r} must start with a letter and use only letters, digits, '_' and '-'"
                " (at most 64 characters)",
                rule="bad-name",
                location=location,
                hint="pass name='nightly-training'",
            )
        if type not in ("standard", "express"):
            raise CompileError(f"workflow type={type!r} must be 'standard' or 'express'", rule="bad-option",
                               location=location,
                               hint="type='standard' for long runs (the default), 'express' for runs under 5 minutes")
        options = WorkflowOptions(
            name=wf_name,
            type=type,
            schedules=_as_tuple(schedule, Schedule, "schedule=", location),
            triggers=_as_tuple(triggers, (S3Upload, WorkflowSucceeded), "triggers=", location),
            timeout=to_seconds(timeout, what="timeout") if timeout is not None else None,
            decorator=location,
        )
        return WorkflowDef(function, options, definition_location(function))

    if fn is not None:
        return decorate(fn)
    return decorate


class Approval(BaseModel):
    """The answer to an approval gate: test ``approved`` with ``if``."""

    model_config = ConfigDict(frozen=True)

    approved: bool
    comment: str = ""
    approver: str = ""


DEFAULT_APPROVAL_TIMEOUT = 7 * 24 * 3600


def approve(message: str, *, timeout: Seconds = DEFAULT_APPROVAL_TIMEOUT, after: Sequence[object] = ()) -> Approval:
    """Wait for a person to approve (or reject) before going on; ``timeout`` bounds the wait.

    In a deployed workflow this is a task-token gate answered with ``stepstone approve``;
    ``after=[...]`` asks only once the steps that made those results are done.
    Called directly (the workflow function run as plain Python) it asks on the terminal,
    or, with no terminal, approves and says so; ``STEPSTONE_APPROVE=no`` rejects instead.
    """
    answer = os.environ.get("STEPSTONE_APPROVE", "").strip().lower()
    if answer in ("yes", "no"):
        return Approval(approved=answer == "yes", approver="STEPSTONE_APPROVE")
    if sys.stdin is not None and sys.stdin.isatty():
        reply = input(f"[stepstone] approval needed: {message} [y/N] ").strip().lower()
        return Approval(approved=reply in ("y", "yes"), approver="terminal")
    print(f"[stepstone] approval needed: {message} -> approved (no terminal; "
          "set STEPSTONE_APPROVE=no to reject)", file=sys.stderr)
    return Approval(approved=True, approver="auto")


def map(  # noqa: A001 - mirrors the builtin on purpose: stepstone.map(step, items)
    step: StepDef[..., T],
    items: Iterable[Any],
    /,
    *,
    max_concurrency: int | None = None,
    max_items: int | None = None,
    **kwargs: Any,
) -> list[T]:
    """Run ``step`` once per item (in parallel when deployed) and return the list of results.

    The item is the step's first argument; ``kwargs`` go to every call. ``max_concurrency``
    bounds how many run at once; ``max_items`` says how long the list can be, which lets
    the compiler keep small fan-outs inside one run (an inline Map) instead of spreading
    them over child runs (a distributed Map).
    """
    if not isinstance(step, StepDef):
        raise CompileError(f"stepstone.map() takes a @step function first, got {step!r}", rule="bad-map",
                           location=caller_location())
    return [step(item, **kwargs) for item in items]
