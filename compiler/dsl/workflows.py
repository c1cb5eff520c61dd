"""``@workflow``: a function whose body wires steps into a workflow.

The decorator records the function, its typed parameters, type (Standard or Express),
schedules and triggers. The body is compiled later, by :func:`compiler.compile`, from its
syntax tree. Called directly, a workflow validates its parameters and runs its body as the
plain Python it is: sequentially, in this process.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, ParamSpec, TypeVar, overload

from pydantic import BaseModel, ConfigDict, create_model

from .decorated import Decorated
from .errors import CompileError, Location, ParamsError, caller_location, definition_location
from .options import Seconds, to_seconds
from .params import holds_as_json, validate_params
from .schedules import Schedule
from .triggers import S3Upload, Trigger, WorkflowSucceeded

__all__ = ["WorkflowDef", "WorkflowOptions", "workflow"]

P = ParamSpec("P")
R = TypeVar("R")

WORKFLOW_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}\Z")  # \Z: $ would let a trailing newline through
WorkflowType = Literal["standard", "express"]


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
    def result_params(self) -> tuple[str, ...]:
        """The parameters only a calling workflow can give: their types (a DataFrame, a fitted
        model, a record holding one) are not JSON, which a run's input is. The caller passes
        its step's result there, and this workflow's steps read it as they read a step result."""
        if self.model_param is not None:
            return ()
        return tuple(name for name, hint in self.param_hints.items() if not holds_as_json(hint))

    @cached_property
    def params_model(self) -> type[BaseModel]:
        """The pydantic model that a run's input (a JSON object) must satisfy (a parameter a
        calling workflow fills with a step result is that result's envelope there, checked when
        a step reads it)."""
        model_param = self.model_param
        if model_param is not None:
            model: type[BaseModel] = self.param_hints[model_param]
            return model
        fields: dict[str, Any] = {}
        from_results = self.result_params
        for name, param in self.signature.parameters.items():
            default = ... if param.default is inspect.Parameter.empty else param.default
            fields[name] = (Any if name in from_results else self.param_hints[name], default)
        return create_model(
            f"{self.fn.__name__}_params", __config__=ConfigDict(extra="forbid"), **fields
        )

    def validate_params(self, data: Mapping[str, Any], *, nested: bool = False) -> dict[str, Any]:
        """``data`` checked against the parameter types, defaults filled in, as JSON values.

        Nothing that looks like a secret gets into a run (see ``credentials.py``). A workflow
        with :attr:`result_params` starts only as a nested run (``nested``): its caller passes
        them.
        """
        if self.result_params and not nested:
            raise ParamsError(self.name, [
                f"{name}: a {_type_name(self.param_hints[name])} is passed by a workflow that calls "
                f"{self.name!r}, not given to a run; run that workflow instead"
                for name in self.result_params])
        return validate_params(self.name, self.params_model, data)

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
        return f"<workflow {self.name} ({self.ref})>"


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation)


def _check_signature(fn: Callable[..., Any], location: Location | None) -> None:
    if not inspect.isfunction(fn):
        raise CompileError(f"@workflow decorates functions, not {fn!r}", rule="bad-workflow", location=location,
                           hint="put @workflow above a def at module level")
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
    """Make a function a workflow: its body is compiled to a Step Functions state machine.

    The body calls steps, other workflows, [`approve`][stepstone.approve] and
    [`map`][stepstone.map], with ``if``, ``for``, ``try``/``except``, ``raise`` and ``return``
    (the [Compiler rules](rules.md) say what else it may not hold). The parameters are the
    run's input: typed, with defaults a run may leave out. Called directly, a workflow is
    plain sequential Python, which is how tests call it.

    Args:
        fn: The function, when the decorator is written without parentheses (``@workflow``).
        name: The state machine's name (default: the function's name): a letter first, then
            letters, digits, ``_`` and ``-``, at most 64 characters.
        type: ``"standard"`` (the default: runs of up to a year, each step exactly once) or
            ``"express"`` (runs of at most 5 minutes, cheap at high volume, no waiting for
            Batch jobs, nested workflows or approvals).
        schedule: When to start runs on their own: a [`cron(...)`][stepstone.cron] or
            [`rate(...)`][stepstone.rate] schedule, or a list of them.
        triggers: What else starts a run: [`s3_upload(...)`][stepstone.s3_upload] and
            [`workflow_succeeded(...)`][stepstone.workflow_succeeded].
        timeout: How long a whole run may take, in seconds or a ``timedelta``.

    Returns:
        The workflow (a ``WorkflowDef``), which ``stepstone run``, ``compile`` and
            ``deploy`` find in its module, and which is called like the function.

    Example:
        ```python
        @workflow(schedule=cron("0 3 * * ? *", timezone="Europe/Berlin"))
        def nightly_training(day: str = "latest", epochs: int = 10) -> Model:
            dataset = build_dataset(day)
            return train(dataset, epochs=epochs)
        ```
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
