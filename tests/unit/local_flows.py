"""Workflows for the local target's tests: faults on demand, concurrency probes, every construct."""

from __future__ import annotations

import threading
import time
from typing import Annotated

from pydantic import BaseModel, Field

import stepstone
from stepstone import Batch, PermanentError, Retry, approve, step, workflow

# what the tests arrange: how many times a named step should fail before it succeeds
FAULTS: dict[str, int] = {}
CALLS: list[str] = []
THREADS: set[str] = set()  # the threads steps ran in
BARRIER = threading.Barrier(2, timeout=10)
ACTIVE = {"now": 0, "most": 0}
LOCK = threading.Lock()


class Flaky(Exception):
    pass


class Broken(PermanentError):
    pass


class Out(BaseModel):
    n: int
    ok: bool = True


class Params(BaseModel):
    n: int = 3
    items: Annotated[list[int], Field(max_length=10)] = [1, 2, 3, 4, 5, 6]
    many: list[int] = [1, 2, 3]


def _maybe_fail(name: str) -> None:
    CALLS.append(name)
    THREADS.add(threading.current_thread().name)
    left = FAULTS.get(name, 0)
    if left:
        FAULTS[name] = left - 1
        raise Flaky(f"{name} failed on purpose ({left} more)")


@step
def first(n: int) -> Out:
    _maybe_fail("first")
    return Out(n=n)


@step(retry=Retry(attempts=4, interval=1, backoff=2.0, jitter=True, on=[Flaky]))
def flaky(a: Out) -> Out:
    _maybe_fail("flaky")
    return Out(n=a.n + 1)


@step
def second(a: Out) -> Out:
    _maybe_fail("second")
    return Out(n=a.n * 10)


@step
def breaks(a: Out) -> Out:
    _maybe_fail("breaks")
    return Out(n=a.n, ok=False)


@step
def rendezvous(a: Out, side: str) -> Out:
    CALLS.append(f"rendezvous:{side}")
    BARRIER.wait()  # both sides must be running at the same time, or this times out
    return Out(n=a.n)


@step
def counted(x: int) -> Out:
    with LOCK:
        ACTIVE["now"] += 1
        ACTIVE["most"] = max(ACTIVE["most"], ACTIVE["now"])
    time.sleep(0.02)
    with LOCK:
        ACTIVE["now"] -= 1
    return Out(n=x)


@step
def joined(a: Out, b: Out) -> Out:
    return Out(n=a.n + b.n)


@step
def total(xs: list[Out]) -> Out:
    return Out(n=sum(x.n for x in xs))


@step(timeout=1)
def slow(a: Out) -> Out:
    time.sleep(5)
    return a


@step
def fallback(error: Exception) -> Out:
    CALLS.append(f"fallback:{type(error).__name__}")
    return Out(n=-1, ok=False)


@step(compute=Batch(gpus=1), retry=Retry(attempts=2, interval=1, on=["States.TaskFailed"]))
def gpu(a: Out) -> Out:
    _maybe_fail("gpu")
    return Out(n=a.n + 100)


@step(compute=Batch(gpus=1))
def gpu_once(a: Out) -> Out:
    _maybe_fail("gpu")
    return Out(n=a.n + 100)


@workflow
def on_gpu_once(params: Params) -> Out:
    a = first(params.n)
    try:
        b = gpu_once(a)
    except Exception:
        b = second(a)
    return b


@step
def interrupt(a: Out) -> Out:
    raise KeyboardInterrupt


@workflow
def chain(params: Params) -> Out:
    a = first(params.n)
    b = flaky(a)
    return second(b)


@workflow
def resumable(params: Params) -> int:
    a = first(params.n)
    b = second(a)
    c = breaks(b)
    return c.n


@workflow
def side_by_side(params: Params) -> Out:
    a = first(params.n)
    left = rendezvous(a, side="left")
    right = rendezvous(a, side="right")
    return joined(left, right)


@workflow
def bounded(params: Params) -> Out:
    done = stepstone.map(counted, params.items, max_concurrency=2)
    return total(done)


@workflow
def spread(params: Params) -> Out:
    done = [counted(x) for x in params.many]   # size not declared: a distributed map
    return total(done)


@workflow
def guarded(params: Params) -> Out:
    a = first(params.n)
    try:
        b = slow(a)
    except Exception as e:
        b = fallback(e)
    return b


@workflow
def on_gpu(params: Params) -> Out:
    a = first(params.n)
    return second(gpu(a))


@workflow
def gated(params: Params) -> str:
    first(params.n)
    decision = approve("Ship it?")
    if decision.approved:
        return "shipped"
    return "kept"


@workflow
def child(n: int = 1) -> Out:
    return second(first(n))


@workflow
def parent(params: Params) -> int:
    a = first(params.n)
    result = child(n=a.n)
    return result.n


@workflow
def stopped(params: Params) -> Out:
    a = first(params.n)
    return interrupt(a)


@workflow
def needs_n(n: int, label: str = "plain", factor: float | None = None, tags: list[str] | None = None) -> Out:
    """A required parameter beside defaults of several JSON types: what a console start must give."""
    a = first(n)
    return second(a)


@workflow
def no_parameters() -> Out:
    a = first(2)
    return second(a)
