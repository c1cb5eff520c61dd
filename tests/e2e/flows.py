"""Workflows for the LocalStack tests: faults that cross process boundaries, a wide fan-out.

On LocalStack each attempt of a step may run in another process, so a fault is decided
from the attempt number (``running_step().attempt``), not from memory.
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import BaseModel, Field

import stepstone
from stepstone import PermanentError, Retry, TransientError, running_step, step, workflow


class Flaky(TransientError):
    """Fails the first ``fails`` attempts on purpose."""


class Attempted(BaseModel):
    attempt: int
    value: int


@step(retry=Retry(attempts=3, interval=1, backoff=2.0, on=[Flaky]))
def flaky(value: int, fails: int) -> Attempted:
    where = running_step()
    attempt = where.attempt if where else 0
    if attempt < fails:
        raise Flaky(f"attempt {attempt} fails on purpose ({fails} planned)")
    return Attempted(attempt=attempt, value=value * 10)


@workflow
def retried(value: int = 4, fails: int = 2) -> int:
    result = flaky(value, fails)
    return result.value


@step
def square(x: int) -> int:
    return x * x


@step
def add_up(squares: list[int]) -> int:
    return sum(squares)


@workflow
def wide_fan_out(items: Annotated[list[int], Field(max_length=100)] = list(range(60))) -> int:  # noqa: B006 (a run gets a validated copy)
    squares = stepstone.map(square, items, max_concurrency=5)
    return add_up(squares)


@step
def prepare(n: int) -> int:
    print(f"preparing {n}")
    return n + 1


@step
def fragile(value: int, blocker: str) -> int:
    """Fails while the file ``blocker`` exists: the fault a person fixes before a redrive."""
    print(f"fragile got {value}")
    if blocker and os.path.exists(blocker):
        raise PermanentError(f"blocked: {blocker} exists")
    return value * 2


@step
def finish(value: int) -> int:
    return value + 1


@workflow
def blocked(n: int = 1, blocker: str = "") -> int:
    ready = prepare(n)
    doubled = fragile(ready, blocker)
    return finish(doubled)


@step
def scale(value: int, factor: int) -> int:
    return value * factor


@workflow
def scaled(value: int, factor: int = 3) -> int:
    """A required parameter beside a default: what a console start must give."""
    return scale(value, factor)
