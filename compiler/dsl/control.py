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
    """The answer to an [`approve(...)`][stepstone.approve] gate: test ``approved`` with ``if``.

    Attributes:
        approved: ``True`` when the person approved, ``False`` when they rejected.
        comment: What they wrote with their answer, if anything.
        approver: Who answered (with ``stepstone approve``: the user who ran it).
    """

    model_config = ConfigDict(frozen=True)

    approved: bool
    comment: str = ""
    approver: str = ""


DEFAULT_APPROVAL_TIMEOUT = 7 * 24 * 3600


def approve(message: str, *, timeout: Seconds = DEFAULT_APPROVAL_TIMEOUT, after: Sequence[object] = ()) -> Approval:
    """Wait for a person to approve (or reject) before going on.

    In a run this is a task-token gate: the run waits (and costs nothing while it waits)
    until someone answers with ``stepstone approve RUN_ID`` or ``stepstone reject RUN_ID``
    (on AWS, anything that sends the gate's task token back). Called directly (the workflow function run as
    plain Python) it asks on the terminal, or, with no terminal, approves and says so;
    ``STEPSTONE_APPROVE=yes`` or ``no`` answers without asking. Express workflows cannot
    wait for an approval.

    Args:
        message: The question, one literal string (it is written into the state machine).
        timeout: How long to wait for an answer, in seconds or a ``timedelta`` (default:
            7 days); past it, the run fails with ``States.Timeout``.
        after: Step results to wait for before asking, e.g. ``after=[report]``.

    Returns:
        The answer, whose ``approved`` the workflow tests with ``if``.

    Example:
        ```python
        decision = approve("Release the model?", timeout=timedelta(days=2), after=[report])
        if decision.approved:
            publish(model)
        ```
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
    """Run ``step`` once per item (in parallel in a run) and return the list of results.

    The same as ``[step(item, **kwargs) for item in items]`` in a workflow body, with the
    fan-out's options. Called directly, it is that loop.

    Args:
        step: A ``@step`` whose first parameter takes the item.
        items: The list to fan out over: a parameter, or a list a step returned.
        max_concurrency: How many items run at once (a literal number; at most 40 when the
            fan-out stays inside the run). Default: as many as Step Functions allows.
        max_items: How long the list can be (a literal number). Up to 100, the fan-out stays
            inside one run (an inline Map); above that, or when the size is not declared,
            each item is a child run of a distributed Map.
        **kwargs: Arguments every call of ``step`` gets.

    Returns:
        The steps' results, in the order of ``items``.

    Example:
        ```python
        models = stepstone.map(train, grid, max_concurrency=4, dataset=dataset)
        ```
    """
    if not isinstance(step, StepDef):
        raise CompileError(f"stepstone.map() takes a @step function first, got {step!r}", rule="bad-map",
                           location=caller_location())
    return [step(item, **kwargs) for item in items]
