"""What a run of a generated workflow (tests/support/programs.py) must show, on any target.

The run's execution history (moto's or LocalStack's, the same event shapes as AWS) and
its attempts per step are compared with the oracle's record of the program run as plain
Python: the same steps ran, each as many times as its faults and retry policy say, each
only after every step it waits for had finished; the run ended as the oracle did.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .programs import Expected

__all__ = ["attempts_by_step", "check_attempts", "check_order", "expected_attempts", "item_of"]

JSON = Any


def item_of(map_path: str | None) -> int | None:
    """The fan-out item a ``map_path`` (``"for_x_in_grid/3"``) names; None outside a fan-out."""
    return int(map_path.rsplit("/", 1)[1]) if map_path else None


def expected_attempts(expected: Iterable[Expected]) -> Counter[tuple[str, int | None]]:
    return Counter({(e.state, e.item): e.attempts for e in expected})


def attempts_by_step(calls: Iterable[tuple[str, str | None]]) -> Counter[tuple[str, int | None]]:
    """Attempts per (state, fan-out item), from one (state, map_path) per attempt."""
    return Counter((state, item_of(map_path)) for state, map_path in calls)


def check_attempts(found: Mapping[tuple[str, int | None], int], expected: Iterable[Expected], *,
                   finished: bool, states: set[str], source: str) -> None:
    """Every step the oracle called ran exactly its attempts; nothing else ran. A failed run
    may stop parallel branches early (Step Functions cancels them) or start ones the plain
    Python order reaches only after the failure: there, what ran is checked against the
    oracle's bound and the program's steps."""
    want = expected_attempts(expected)
    if finished:
        assert dict(found) == dict(want), f"attempts differ\nran:      {dict(found)}\nexpected: {dict(want)}\n{source}"
        return
    for (state, item), count in found.items():
        if (state, item) in want:
            assert count <= want[(state, item)], f"{state}[{item}] ran {count} times, at most {want[(state, item)]}"
        else:
            assert state in states, f"{state}[{item}] ran, but the program has no such step\n{source}"


def _entered_exited(history: Iterable[Mapping[str, JSON]]) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    entered: dict[str, list[int]] = {}
    exited: dict[str, list[int]] = {}
    for position, event in enumerate(history):
        kind = str(event.get("type", ""))
        if kind == "TaskStateEntered":
            entered.setdefault(event["stateEnteredEventDetails"]["name"], []).append(position)
        elif kind == "TaskStateExited":
            exited.setdefault(event["stateExitedEventDetails"]["name"], []).append(position)
    return entered, exited


def check_order(history: list[Mapping[str, JSON]], expected: Iterable[Expected], *, source: str) -> int:
    """Each step's state is entered only after every state it waits for has exited (all
    of a fan-out's items). Returns how many such orderings were checked."""
    entered, exited = _entered_exited(history)
    checked = 0
    for item in expected:
        if item.state not in entered:
            continue
        first = min(entered[item.state])
        for dep in item.deps:
            assert dep in exited, f"{item.state} ran, but {dep} (which it waits for) never finished\n{source}"
            assert max(exited[dep]) < first, (
                f"{item.state} started before {dep} finished (history positions {first} < {max(exited[dep])})\n"
                + json.dumps([e.get("type") for e in history])[:2000] + f"\n{source}")
            checked += 1
    return checked
