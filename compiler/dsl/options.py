"""What a step may ask for: where it runs (``Lambda`` or ``Batch``) and how it retries.

These are the values users write inside ``@step(...)``. Each checks itself when it is
made, so a bad value is reported at the line that wrote it, not later at compile time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeAlias

from .errors import CompileError, PermanentError, caller_location
from .quotas import BATCH_GPUS_RANGE, BATCH_MEMORY_RANGE, BATCH_VCPUS_RANGE, LAMBDA_MAX_TIMEOUT, LAMBDA_MEMORY_RANGE

__all__ = [
    "Batch",
    "Compute",
    "Lambda",
    "Retry",
    "Seconds",
    "error_names",
    "to_seconds",
]

Seconds: TypeAlias = int | float | timedelta
"""A duration: seconds as a number, or a :class:`datetime.timedelta`."""


def _fail(message: str, *, rule: str, hint: str | None = None) -> CompileError:
    return CompileError(message, rule=rule, location=caller_location(), hint=hint)


def to_seconds(value: Seconds, *, what: str, minimum: int = 1) -> int:
    """``value`` as whole seconds (Step Functions counts in whole seconds)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, timedelta)):
        raise _fail(
            f"{what} must be a number of seconds or a timedelta, not {value!r}",
            rule="bad-option",
            hint=f"write {what}=60 or {what}=timedelta(minutes=1)",
        )
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds != int(seconds):
        raise _fail(
            f"{what}={seconds:g} is not a whole number of seconds",
            rule="bad-option",
            hint="Step Functions counts durations in whole seconds",
        )
    if seconds < minimum:
        raise _fail(f"{what} must be at least {minimum} second(s), got {seconds:g}", rule="bad-option")
    return int(seconds)


def _positive_int(value: object, *, what: str, low: int, high: int, hint: str | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(f"{what} must be a whole number from {low} to {high}, got {value!r}", rule="bad-option",
                    hint=hint or f"write a whole number between {low} and {high}")
    return value


@dataclass(frozen=True, slots=True)
class Lambda:
    """Run the step as an AWS Lambda function (the default): ``@step(compute=Lambda(memory=2048))``.

    Args:
        memory: The function's memory in MB, 128 to 10,240; Lambda gives CPU in proportion.
        timeout: The function's time limit, in seconds or a ``timedelta``: at most 900
            seconds (15 minutes); longer work belongs on [`Batch`][stepstone.Batch].
        gpus: Always 0: Lambda has no GPUs, and asking for one is the ``gpu-on-lambda``
            error, which points at ``Batch``.
    """

    memory: int = 1024
    timeout: Seconds = 300
    gpus: int = 0

    def __post_init__(self) -> None:
        if self.gpus:
            raise _fail(
                f"Lambda(gpus={self.gpus!r}): Lambda functions have no GPUs",
                rule="gpu-on-lambda",
                hint=f"run the step on AWS Batch: compute=Batch(gpus={self.gpus!r}, vcpus=..., memory=...)",
            )
        _positive_int(self.memory, what="Lambda memory", low=LAMBDA_MEMORY_RANGE[0], high=LAMBDA_MEMORY_RANGE[1])
        seconds = to_seconds(self.timeout, what="timeout")
        if seconds > LAMBDA_MAX_TIMEOUT:
            raise _fail(
                f"Lambda(timeout={seconds}) is longer than Lambda's limit of {LAMBDA_MAX_TIMEOUT} seconds",
                rule="lambda-timeout",
                hint="run long steps on AWS Batch: compute=Batch(vcpus=..., memory=...)",
            )

    @property
    def timeout_seconds(self) -> int:
        return to_seconds(self.timeout, what="timeout")


@dataclass(frozen=True, slots=True)
class Batch:
    """Run the step as an AWS Batch job, on GPUs when ``gpus`` > 0: ``@step(compute=Batch(gpus=1))``.

    Use it for work longer than Lambda's 15 minutes, or that needs GPUs. A Batch step takes
    its inputs and writes its result by S3 reference (an ``if`` cannot test its result
    directly), and Step Functions sees its failures only as ``States.TaskFailed`` (or
    ``States.Timeout``), whatever it raised.

    Args:
        gpus: GPUs for the job (0 for a CPU-only job, which runs on CPU instances).
        vcpus: vCPUs for the job.
        memory: Memory for the job, in MiB.
        image: A container image URI; ``None`` uses the project's step-runner image, built
            from its Dockerfile by ``cdk deploy``.
        spot: Run on Spot instances (up to 90% cheaper; EC2 may take one back), falling back
            to on-demand ones when Spot has none; a job whose instance was reclaimed is
            started again (up to 3 times).
        instances: Instance families (``["g6", "p4d"]``) or types (``["g5.12xlarge"]``) the
            job may run on; default: g5 and g6 for GPU jobs, m6i, c6i and r6i for CPU jobs.
    """

    gpus: int = 1
    vcpus: int = 4
    memory: int = 16_384
    image: str | None = None
    spot: bool = False
    instances: Sequence[str] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.spot, bool):
            raise _fail(f"Batch spot must be True or False, got {self.spot!r}", rule="bad-option")
        if self.instances is not None:
            names = [self.instances] if isinstance(self.instances, str) else list(self.instances)
            bad = [n for n in names if not isinstance(n, str) or not _INSTANCE_NAME.match(n)]
            if bad or not names:
                raise _fail(f"Batch instances got {bad[0] if bad else self.instances!r}, which is not an instance "
                            "family or type", rule="bad-option")
            object.__setattr__(self, "instances", tuple(names))
        _positive_int(self.gpus, what="Batch gpus", low=BATCH_GPUS_RANGE[0], high=BATCH_GPUS_RANGE[1])
        _positive_int(self.vcpus, what="Batch vcpus", low=BATCH_VCPUS_RANGE[0], high=BATCH_VCPUS_RANGE[1])
        _positive_int(self.memory, what="Batch memory", low=BATCH_MEMORY_RANGE[0], high=BATCH_MEMORY_RANGE[1])
        if self.image is not None and (not isinstance(self.image, str) or not self.image.strip()):
            raise _fail(f"Batch image must be an image URI, got {self.image!r}", rule="bad-option")


BATCH_DEFAULT_TIMEOUT = 24 * 3600
"""A Batch step's timeout when it names none: Step Functions gives the job up after it (a job
left RUNNABLE, one that hangs), rather than never."""

_INSTANCE_NAME = re.compile(r"^[a-z][a-z0-9-]*[0-9][a-z0-9-]*(\.[a-z0-9]+)?\Z")  # g6, p4d, g5.12xlarge

Compute: TypeAlias = Lambda | Batch

_STATES_ERRORS = frozenset(
    {
        "States.ALL",
        "States.HeartbeatTimeout",
        "States.Timeout",
        "States.TaskFailed",
        "States.Permissions",
        "States.ResultPathMatchFailure",
        "States.ParameterPathFailure",
        "States.BranchFailed",
        "States.NoChoiceMatched",
        "States.IntrinsicFailure",
        "States.ExceedToleratedFailureThreshold",
        "States.ItemReaderFailed",
        "States.ResultWriterFailed",
    }
)
_ERROR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")

def _check_error_spec(spec: object, *, what: str) -> None:
    if isinstance(spec, type) and issubclass(spec, BaseException):
        return
    if isinstance(spec, str):
        if spec.startswith("States.") and spec not in _STATES_ERRORS:
            raise _fail(
                f"{what}: {spec!r} is not a Step Functions error name",
                rule="bad-error-name",
                hint="known names: " + ", ".join(sorted(_STATES_ERRORS)),
            )
        if not _ERROR_NAME.match(spec):
            raise _fail(f"{what}: {spec!r} is not an error name", rule="bad-error-name",
                        hint="use an exception class, or a name such as 'States.Timeout'")
        return
    raise _fail(
        f"{what}: {spec!r} is neither an exception class nor an error name",
        rule="bad-error-name",
        hint="write on=[MyError, 'States.Timeout']",
    )


def error_names(specs: Sequence[type[BaseException] | str]) -> tuple[str, ...]:
    """The ``ErrorEquals`` names for exception classes and error names.

    ASL matches error names exactly; Python's ``except DataError`` also catches subclasses.
    The two agree because each Lambda step's payload lists the names its Retry and Catch
    mention (``error_names``), and the step runner reports a raised exception under the
    first of those its class or a base class has. ``Exception`` (or ``BaseException``)
    means every error: ``States.ALL``, which ASL requires to stand alone.
    """
    names: set[str] = set()
    for spec in specs:
        if isinstance(spec, str):
            if spec == "States.ALL":
                return ("States.ALL",)
            names.add(spec)
        elif spec in (Exception, BaseException):
            return ("States.ALL",)
        else:  # a class may stand for a Step Functions name (compiler.dsl.errors.StepTimeoutError)
            fixed = getattr(spec, "error_name", None)
            names.add(fixed if isinstance(fixed, str) else spec.__name__)
    return tuple(sorted(names))


@dataclass(frozen=True, slots=True)
class Retry:
    """Retry a failed step: ``@step(retry=Retry(attempts=5, interval=2, on=[TransientError]))``.

    The first retry waits ``interval`` seconds, each next one ``backoff`` times longer,
    never more than ``max_delay``. By default every error is retried except a
    [`PermanentError`][stepstone.PermanentError]. Several policies can be given as a list,
    ``retry=[Retry(on=[Throttled], attempts=10), Retry(attempts=2)]``: each error uses the
    first policy that names it, so a catch-all policy comes last.

    Args:
        attempts: Every run of the step, the first one included, 1 to 100: ``attempts=3``
            is the first try and up to two retries.
        interval: The wait before the first retry, in seconds or a ``timedelta``.
        backoff: How much longer each next wait is (``2.0`` doubles it); at least 1.0.
        max_delay: The longest wait between two attempts, whatever ``backoff`` says.
        jitter: Spread the waits at random (full jitter), so many runs that failed together
            do not retry together.
        on: What to retry: exception classes (your own included, and their subclasses) or
            Step Functions error names such as ``"States.Timeout"``. A Batch step or nested
            workflow fails only as ``States.TaskFailed`` or ``States.Timeout``.
    """

    attempts: int = 3
    interval: Seconds = 1
    backoff: float = 2.0
    max_delay: Seconds | None = None
    jitter: bool = False
    on: Sequence[type[BaseException] | str] = field(default=(Exception,))

    def __post_init__(self) -> None:
        _positive_int(self.attempts, what="Retry attempts", low=1, high=100,
                      hint="attempts counts every run, the first included: attempts=3 is one try and two retries")
        to_seconds(self.interval, what="interval")
        if isinstance(self.backoff, bool) or not isinstance(self.backoff, (int, float)) or self.backoff < 1:
            raise _fail(f"Retry backoff must be a number >= 1.0, got {self.backoff!r}", rule="bad-option",
                        hint="backoff=2.0 doubles the wait after every retry")
        if self.max_delay is not None:
            to_seconds(self.max_delay, what="max_delay")
        if not isinstance(self.jitter, bool):
            raise _fail(f"Retry jitter must be True or False, got {self.jitter!r}", rule="bad-option")
        specs = self.on
        if isinstance(specs, (str, type)):
            specs = (specs,)
            object.__setattr__(self, "on", specs)
        elif isinstance(specs, list):
            specs = tuple(specs)
            object.__setattr__(self, "on", specs)
        if not isinstance(specs, tuple) or not specs:
            raise _fail("Retry on= must list at least one error", rule="bad-option",
                        hint="write on=[MyError] or leave it out to retry every error")
        for spec in specs:
            _check_error_spec(spec, what="Retry on")

    @property
    def interval_seconds(self) -> int:
        return to_seconds(self.interval, what="interval")

    @property
    def max_delay_seconds(self) -> int | None:
        return None if self.max_delay is None else to_seconds(self.max_delay, what="max_delay")

    @property
    def retries_everything(self) -> bool:
        return error_names(self.on) == ("States.ALL",)


def permanent_error_names() -> tuple[str, ...]:
    """Errors that a catch-all retry must not retry."""
    return error_names([PermanentError])
