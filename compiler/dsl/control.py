"""What a workflow body calls besides steps: ``approve(...)`` and ``stepstone.map(...)``.

Each is plain Python when the workflow is called directly (an approval asks on the
terminal; a map is a loop) and a state of its own when compiled (a task-token gate; a Map).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from .errors import CompileError, caller_location
from .options import Seconds
from .steps import StepDef

__all__ = ["DEFAULT_APPROVAL_TIMEOUT", "Approval", "approve", "map"]

T = TypeVar("T")


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
