"""A way through (part of) a state machine, and what it uses: transitions, Lambda requests
and GB-seconds, Batch hours, wall-clock seconds. Ways combine in series (``then``), in
parallel (``beside``) and over a Map's items (``times``); a condition makes several."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .prices import Prices

__all__ = ["METRICS", "START", "Way", "prune"]

PRUNE_ABOVE = 64  # ways through kept whole up to this many; beyond, only each quantity's extremes


@dataclass(frozen=True)
class Way:
    """What one way through (part of) a state machine uses."""

    transitions: float = 0
    lambda_requests: float = 0
    lambda_gb_seconds: float = 0.0
    batch_hours: float = 0.0  # instance-hours billed
    gpu_hours: float = 0.0
    batch_usd: float = 0.0
    other_usd: float = 0.0  # nested Express runs' own charges
    seconds: float = 0.0  # wall clock

    def then(self, other: Way) -> Way:
        return Way(*(a + b for a, b in zip(self._numbers(), other._numbers())))

    def beside(self, other: Way) -> Way:
        summed = self.then(other)
        return dataclasses.replace(summed, seconds=max(self.seconds, other.seconds))

    def times(self, count: int, waves: int) -> Way:
        numbers = [n * count for n in self._numbers()]
        numbers[-1] = self.seconds * waves
        return Way(*numbers)

    def _numbers(self) -> list[float]:
        return [self.transitions, self.lambda_requests, self.lambda_gb_seconds, self.batch_hours, self.gpu_hours,
                self.batch_usd, self.other_usd, self.seconds]

    def work_usd(self, prices: Prices) -> float:
        """What the run's work costs whatever the workflow type: Lambda, Batch, nested Express runs."""
        return prices.lambda_usd(self.lambda_requests, self.lambda_gb_seconds) + self.batch_usd + self.other_usd

    def standard_usd(self, prices: Prices) -> float:
        return self.transitions * prices.standard_per_transition + self.work_usd(prices)

    def express_usd(self, prices: Prices, memory_mb: int) -> float:
        return prices.express_usd(self.seconds, memory_mb) + self.work_usd(prices)


START = Way()
METRICS = ("transitions", "lambda_requests", "lambda_gb_seconds", "batch_hours", "gpu_hours", "batch_usd",
            "other_usd", "seconds")


def prune(paths: Iterable[Way], prices: Prices) -> list[Way]:
    """The distinct ways; when there are many, only those at an extreme of some quantity
    (which keeps every quantity's min and max exact through series, parallel and Map)."""
    unique = list(dict.fromkeys(paths))
    if len(unique) <= PRUNE_ABOVE:
        return unique
    keys: list[Any] = [lambda p, m=m: getattr(p, m) for m in METRICS]
    keys.append(lambda p: p.standard_usd(prices))
    kept: dict[Way, None] = {}
    for key in keys:
        kept[min(unique, key=key)] = None
        kept[max(unique, key=key)] = None
    return list(kept)
