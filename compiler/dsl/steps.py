"""``@step``: a plain function that becomes one state of a workflow.

The decorator records the function and its options and checks what it can see where it is
written (options, signature, that the function can be imported by the step runner). It
never compiles anything. Calling a step runs the function, so a workflow body called
directly is an ordinary, sequential Python program.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar, overload

from .decorated import Decorated
from .errors import CompileError, Location, caller_location, definition_location
from .options import BATCH_DEFAULT_TIMEOUT, Batch, Compute, Lambda, Retry, Seconds, to_seconds
from .packages import check_requirements
from .secrets import SecretRef, secrets_option

__all__ = ["StepDef", "StepOptions", "calling_step", "step"]

P = ParamSpec("P")
R = TypeVar("R")

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}\Z")  # \Z: $ would let a trailing newline through


@dataclass(frozen=True, slots=True)
class StepOptions:
    """The options of one step, checked and normalised."""

    name: str
    compute: Compute
    retry: tuple[Retry, ...]
    timeout: int | None
    heartbeat: int | None
    cache: bool
    secrets: tuple[SecretRef, ...] = ()  # the only secrets the step may read; cdk/ grants exactly these
    cache_ttl: int | None = None  # seconds a cached result may be reused (None: as long as code and inputs match)
    packages: tuple[str, ...] = ()  # beyond the file's stepstone.packages(...): this step's function installs these too

    @property
    def is_batch(self) -> bool:
        return isinstance(self.compute, Batch)


# A step function called directly (the workflow run as plain Python): which step it is, so
# that what runs inside it knows whose declarations apply (Secret.value() checks that the
# step declares the secret it reads). In a run, the step runner's own context says it.
_CALLING: ContextVar[StepOptions | None] = ContextVar("stepstone_calling_step", default=None)


def calling_step() -> StepOptions | None:
    """The options of the step function being called as plain Python here; None outside one."""
    return _CALLING.get()


class StepDef(Decorated[P, R]):
    """A function decorated with ``@step``. Calling it runs the function."""

    def __init__(self, fn: Callable[P, R], options: StepOptions, location: Location) -> None:
        super().__init__(fn, location)
        self.options = options

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def return_annotation(self) -> Any:
        hints = _type_hints(self.fn)
        return hints.get("return", inspect.Signature.empty)

    def parameter_annotations(self) -> dict[str, Any]:
        hints = _type_hints(self.fn)
        return {name: hints.get(name, inspect.Parameter.empty) for name in self.signature.parameters}

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        kwargs.pop("after", None)  # ordering hint for the compiler; no meaning in plain Python
        token = _CALLING.set(self.options)
        try:
            return self.fn(*args, **kwargs)
        finally:
            _CALLING.reset(token)

    def after(self, *results: object) -> StepDef[P, R]:
        """This step, run only after the steps that made ``results`` (no data passes).

        ``publish.after(tests)(model)`` is the typed spelling of ``publish(model, after=[tests])``.
        Called directly (plain Python), the order is the program's order, so this is the step itself.
        """
        return self

    def __repr__(self) -> str:
        return f"<step {self.name} ({self.ref})>"


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception:  # unresolved forward references: fall back to the raw annotations
        return dict(getattr(fn, "__annotations__", {}))


def _normalise_retry(retry: Retry | int | Sequence[Retry] | None, location: Location | None) -> tuple[Retry, ...]:
    if retry is None:
        return ()
    if isinstance(retry, bool):
        raise CompileError(f"retry={retry!r} is not a retry policy", rule="bad-option", location=location,
                           hint="write retry=3 or retry=Retry(attempts=3, interval=2, backoff=2.0)")
    if isinstance(retry, int):
        return (Retry(attempts=retry),)
    if isinstance(retry, Retry):
        return (retry,)
    if isinstance(retry, (list, tuple)) and all(isinstance(r, Retry) for r in retry):
        policies = tuple(retry)
        for earlier in policies[:-1]:
            if earlier.retries_everything:
                raise CompileError(
                    "a Retry that retries every error must come last in retry=[...]",
                    rule="bad-option",
                    location=location,
                    hint="Step Functions tries the policies in order; put the specific ones first",
                )
        return policies
    raise CompileError(f"retry={retry!r} is not a retry policy", rule="bad-option", location=location,
                       hint="write retry=3 or retry=Retry(attempts=3, interval=2, backoff=2.0)")


def _check_function(fn: Callable[..., Any], location: Location | None) -> None:
    if not inspect.isfunction(fn):
        raise CompileError(f"@step decorates functions, not {fn!r}", rule="bad-step", location=location)
    if fn.__name__ == "<lambda>" or "<locals>" in fn.__qualname__:
        raise CompileError(
            f"step {fn.__qualname__!r} is defined inside another function",
            rule="bad-step",
            location=location,
            hint="define steps at module level so the step runner can import them",
        )
    if inspect.iscoroutinefunction(fn) or inspect.isgeneratorfunction(fn):
        raise CompileError(f"step {fn.__name__!r} is async or a generator; steps are plain functions",
                           rule="bad-step", location=location, hint="return the result instead of yielding it")
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise CompileError(
                f"step {fn.__name__!r} takes *{param.name}; steps need named parameters",
                rule="bad-step",
                location=location,
                hint="list each input as its own parameter so the compiler can wire it",
            )
        if param.name == "after":
            raise CompileError(
                f"step {fn.__name__!r} has a parameter named 'after', which stepstone uses for ordering",
                rule="bad-step",
                location=location,
                hint="rename the parameter",
            )


def _build(
    fn: Callable[P, R],
    *,
    name: str | None,
    compute: Compute | None,
    retry: Retry | int | Sequence[Retry] | None,
    timeout: Seconds | None,
    heartbeat: Seconds | None,
    cache: bool | Seconds,
    location: Location | None,
    secrets: Sequence[SecretRef] | None = None,
    packages: Sequence[str] | str | None = None,
) -> StepDef[P, R]:
    where = definition_location(fn)
    step_name = name if name is not None else fn.__name__
    if not isinstance(step_name, str) or not NAME_PATTERN.match(step_name):
        raise CompileError(
            f"step name {step_name!r} must start with a letter and use only letters, digits, '_' and '-'"
            " (at most 64 characters)",
            rule="bad-name",
            location=location,
            hint="pass name='build_dataset' or rename the function",
        )
    if compute is None:
        # timeout= alone: the function gets that timeout (Lambda allows at most 900 s, which Lambda() checks)
        seconds = to_seconds(timeout, what="timeout") if timeout is not None else None
        compute = Lambda(timeout=max(seconds, 300)) if seconds is not None and seconds > 300 else Lambda()
    if not isinstance(compute, (Lambda, Batch)):
        raise CompileError(f"compute={compute!r} must be Lambda(...) or Batch(...)", rule="bad-option",
                           location=location)
    timeout_s = to_seconds(timeout, what="timeout") if timeout is not None else None
    if isinstance(compute, Lambda):
        if timeout_s is not None and timeout_s > compute.timeout_seconds:
            raise CompileError(
                f"step timeout={timeout_s}s is longer than its Lambda function's timeout of "
                f"{compute.timeout_seconds}s, which would stop it first",
                rule="bad-option",
                location=location,
                hint=f"write compute=Lambda(timeout={timeout_s}) too, or lower timeout=",
            )
        timeout_s = timeout_s if timeout_s is not None else compute.timeout_seconds
    if isinstance(compute, Batch) and timeout_s is None:
        timeout_s = BATCH_DEFAULT_TIMEOUT
    heartbeat_s = to_seconds(heartbeat, what="heartbeat") if heartbeat is not None else None
    if heartbeat_s is not None and not isinstance(compute, Batch):
        raise CompileError(
            f"heartbeat={heartbeat_s}s: only a Batch step sends heartbeats; a Lambda step is bounded by its timeout",
            rule="bad-option",
            location=location,
            hint="drop heartbeat= (timeout= already stops a stuck Lambda step), or run the step on Batch",
        )
    if heartbeat_s is not None and timeout_s is not None and heartbeat_s >= timeout_s:
        raise CompileError(
            f"heartbeat={heartbeat_s}s must be shorter than the step's timeout of {timeout_s}s",
            rule="bad-option",
            location=location,
            hint="a heartbeat says the step is still alive, so it must come more often than the timeout",
        )
    cache_ttl: int | None = None
    if not isinstance(cache, bool):
        try:
            cache_ttl = to_seconds(cache, what="cache")
        except CompileError:
            raise CompileError(f"cache={cache!r} must be True, False or how long a result may be reused (a "
                               "timedelta, or seconds)", rule="bad-option", location=location,
                               hint="cache=True, or cache=timedelta(days=7)") from None
        if cache_ttl <= 0:
            raise CompileError(f"cache={cache!r}: a cached result's lifetime must be positive", rule="bad-option",
                               location=location, hint="cache=timedelta(days=7), or cache=False")
    options = StepOptions(
        name=step_name,
        compute=compute,
        retry=_normalise_retry(retry, location),
        timeout=timeout_s,
        heartbeat=heartbeat_s,
        cache=cache is not False,
        secrets=secrets_option(secrets, location),
        cache_ttl=cache_ttl,
        packages=check_requirements(
            [packages] if isinstance(packages, str) else list(packages or ()), "packages=", location),
    )
    _check_function(fn, location)
    return StepDef(fn, options, where)


@overload
def step(fn: Callable[P, R], /) -> StepDef[P, R]: ...


@overload
def step(
    *,
    name: str | None = None,
    compute: Compute | None = None,
    retry: Retry | int | Sequence[Retry] | None = None,
    timeout: Seconds | None = None,
    heartbeat: Seconds | None = None,
    cache: bool | Seconds = False,
    secrets: Sequence[SecretRef] | None = None,
    packages: Sequence[str] | None = None,
) -> Callable[[Callable[P, R]], StepDef[P, R]]: ...


def step(
    fn: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    compute: Compute | None = None,
    retry: Retry | int | Sequence[Retry] | None = None,
    timeout: Seconds | None = None,
    heartbeat: Seconds | None = None,
    cache: bool | Seconds = False,
    secrets: Sequence[SecretRef] | None = None,
    packages: Sequence[str] | None = None,
) -> StepDef[P, R] | Callable[[Callable[P, R]], StepDef[P, R]]:
    """Make a function a workflow step: one state of the state machine, run as a Lambda function or a Batch job.

    Write it as ``@step`` or ``@step(...)`` above a plain function at module level whose
    parameters and return value are JSON-friendly types (str, int, float, bool, lists and
    dicts of them, pydantic models). Called inside a ``@workflow`` body, a step becomes a
    state; called anywhere else, it is the function itself, so it can be tested directly.
    Options are checked where they are written: a bad one is a
    [`CompileError`][stepstone.CompileError] at that line.

    Args:
        fn: The function, when the decorator is written without parentheses (``@step``).
        name: The step's name, which names its state (default: the function's name):
            a letter first, then letters, digits, ``_`` and ``-``, at most 64 characters.
        compute: Where it runs: [`Lambda(...)`][stepstone.Lambda] (the default,
            ``Lambda()``) or [`Batch(...)`][stepstone.Batch] for long jobs and GPUs.
        retry: How a failure is retried: a [`Retry`][stepstone.Retry], a number of attempts
            (``retry=3`` is ``Retry(attempts=3)``), or a list of policies tried in order
            (a catch-all policy last). Default: no retry.
        timeout: How long one attempt may run, in seconds or a ``timedelta``; a step that
            runs longer fails with [`StepTimeout`][stepstone.StepTimeoutError]. On Lambda it
            must fit the function's own ``Lambda(timeout=...)``; a Batch step without one
            gets 24 hours.
        heartbeat: For a Batch step, the longest silence between heartbeats before Step
            Functions gives the job up; shorter than ``timeout``.
        cache: Skip the step on a re-run when its code and inputs are unchanged, reusing
            the result stored by an earlier run: ``True``, or how long such a result may be
            reused (``timedelta(days=7)``, or seconds). The code is the step's and the
            project code it calls, with the versions of the packages it imports;
            ``stepstone run --refresh-cache`` runs every cached step again.
        secrets: The [`Secret`][stepstone.Secret]s the step reads with ``.value()``: the only
            ones it may read, and, deployed, the only ones its role is granted.
        packages: Packages this step imports beyond the file's ``stepstone.packages(...)``
            (``["torch==2.9.1"]``): its function or job installs them, the others do not.

    Returns:
        The step (a ``StepDef``), which is called like the function.

    Example:
        ```python
        @step(compute=Batch(gpus=1, memory=32_768), retry=Retry(attempts=3), timeout=3600)
        def train(dataset: Dataset, epochs: int = 10) -> Model:
            ...
        ```
    """
    location = caller_location()

    def decorate(function: Callable[P, R]) -> StepDef[P, R]:
        return _build(function, name=name, compute=compute, retry=retry, timeout=timeout,
                      heartbeat=heartbeat, cache=cache, location=location, secrets=secrets, packages=packages)

    if fn is not None:
        return decorate(fn)
    return decorate
