"""Injected faults: make chosen steps fail on purpose, to see what the workflow does then.

Set ``STEPSTONE_FAULTS`` in the environment the step runner runs in (this process for the
local target, ``stepstone run --fault``; the function's environment on LocalStack or AWS):

    STEPSTONE_FAULTS="train_model=transient:2, load=permanent, score=timeout"

Each entry is ``NAME=KIND``; NAME is a state name (``train_model_2``) or a step's function
name (every state of that step, every fan-out item). KIND is one of

- ``transient:N``: the first N attempts raise :class:`InjectedTransientFaultError` (a
  :class:`~stepstone.TransientError`), then the step runs as written: a Retry policy with
  more than N attempts gets it through;
- ``permanent``: every attempt raises :class:`InjectedFaultError` (a
  :class:`~stepstone.PermanentError`, never retried by a catch-all Retry): the step's
  ``except`` path runs, or the run fails;
- ``timeout``: the step sleeps past its timeout, so whatever enforces it (the local
  target, Lambda, Step Functions) ends it with ``States.Timeout``.

``@Name`` after the kind raises an exception of that class name instead (``one=transient:2@Flaky``
is what ``Retry(on=[Flaky])`` and ``except Flaky`` match). Attempts are counted by the
state machine (``$$.State.RetryCount``), so the same spec gives the same faults on every
target. The step's inputs are read and checked before the fault, as in a real failure; a
reused or cached step does not run, so it does not fail either. Every injected fault says so
on stderr (the step's log).
"""

from __future__ import annotations

import functools
import os
import re
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .errors import FaultSpecError, InjectedFaultError, InjectedTransientFaultError

__all__ = ["ENV", "Fault", "FaultSpecError", "InjectedFaultError", "InjectedTransientFaultError", "fault_for", "inject",
           "parse_faults"]

ENV = "STEPSTONE_FAULTS"
Kind = Literal["transient", "permanent", "timeout"]
_ENTRY = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<kind>transient|permanent|timeout)"
                    r"(?::(?P<times>\d+))?(?:@(?P<error>[A-Za-z_][A-Za-z0-9_.]*))?$")
_TIMEOUT_MARGIN = 5.0  # seconds past the step's timeout an injected timeout sleeps


@dataclass(frozen=True)
class Fault:
    name: str  # state or step name
    kind: Kind
    times: int = 0  # transient: how many attempts fail
    error: str | None = None  # the exception class name to raise

    def applies(self, attempt: int) -> bool:
        return self.kind != "transient" or attempt < self.times

    def describe(self) -> str:
        what = f"transient:{self.times}" if self.kind == "transient" else self.kind
        return f"{self.name}={what}" + (f"@{self.error}" if self.error else "")


@functools.lru_cache(maxsize=8)
def parse_faults(text: str) -> tuple[Fault, ...]:
    """The faults a ``STEPSTONE_FAULTS`` value asks for (entries separated by commas)."""
    faults: list[Fault] = []
    for raw in text.split(","):
        entry = raw.strip()
        if not entry:
            continue
        match = _ENTRY.match(entry)
        if match is None:
            raise FaultSpecError(f"{ENV}: cannot read {entry!r}; write NAME=transient:N, NAME=permanent or "
                                 "NAME=timeout, optionally followed by @ErrorName (e.g. train=transient:2@Flaky)")
        kind: Kind = match["kind"]  # type: ignore[assignment]  # the pattern allows only the three
        times = match["times"]
        if kind == "transient" and times is None:
            raise FaultSpecError(f"{ENV}: {entry!r} says how many attempts fail: {match['name']}=transient:N")
        if kind != "transient" and times is not None:
            raise FaultSpecError(f"{ENV}: {entry!r}: only transient faults take a count")
        faults.append(Fault(match["name"], kind, int(times or 0), match["error"]))
    return tuple(faults)


def fault_for(state: str, step: str, attempt: int, environ: Mapping[str, str] = os.environ) -> Fault | None:
    """The fault to inject into this attempt of ``state`` (a state of the step ``step``), if any."""
    text = environ.get(ENV, "")
    if not text.strip():
        return None
    for fault in parse_faults(text):
        if fault.name in (state, step) and fault.applies(attempt):
            return fault
    return None


def _exception(fault: Fault) -> type[Exception]:
    base: type[Exception] = InjectedTransientFaultError if fault.kind == "transient" else InjectedFaultError
    if fault.error is None:
        return base
    return type(fault.error.rsplit(".", 1)[-1], (base,), {"__module__": __name__})


def inject(fault: Fault, *, timeout: float | None, where: str) -> Callable[..., Any]:
    """A stand-in for the step's function that fails as ``fault`` says; ``timeout`` is the
    step's (seconds), ``where`` names the attempt."""

    def failing(**kwargs: Any) -> Any:
        print(f"stepstone: injected fault {fault.describe()} in {where} ({ENV})", file=sys.stderr, flush=True)
        if fault.kind == "timeout":
            if timeout is None:
                raise InjectedFaultError(f"{ENV}: a timeout fault needs a step with a timeout; {where} has none")
            time.sleep(timeout + _TIMEOUT_MARGIN)
            # whatever enforces the timeout has ended the attempt before this; if nothing did, say so
            raise InjectedFaultError(f"{where} ran {_TIMEOUT_MARGIN:.0f} s past its timeout of {timeout} s and "
                                "nothing stopped it")
        raise _exception(fault)(f"injected by {ENV} ({fault.describe()}) in {where}")

    return failing
