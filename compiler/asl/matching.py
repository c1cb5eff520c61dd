"""How Step Functions matches an error to a Retry or a Catch, and how long it waits before a
retry: the one reading of ASL's rules that the local target (to behave alike) and the
history reader (to tell whether a failed attempt will be retried) share.

- ``States.ALL`` matches every error but ``States.Runtime`` and ``States.DataLimitExceeded``,
  which no Retry or Catch can take;
- ``States.TaskFailed`` matches every failure of a task but a timeout (``States.Timeout``);
- the first retrier whose ``ErrorEquals`` matches decides: it retries while its
  ``MaxAttempts`` last, waiting ``IntervalSeconds x BackoffRate ** n`` (at most
  ``MaxDelaySeconds``; with full jitter, a random part of it).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .states import Retrier

__all__ = ["RetryBook", "error_matches"]

_UNCATCHABLE = ("States.Runtime", "States.DataLimitExceeded")


def error_matches(errors: Sequence[str], error: str) -> bool:
    """Whether an ``ErrorEquals`` list takes ``error``."""
    if error in errors:
        return True
    if "States.ALL" in errors:
        return error not in _UNCATCHABLE
    return "States.TaskFailed" in errors and error not in ("States.Timeout", *_UNCATCHABLE)


class RetryBook:
    """The retries one task (one state, one fan-out item) has used, retrier by retrier."""

    def __init__(self, retriers: Sequence[Retrier]) -> None:
        self.retriers = list(retriers)
        self.used = [0] * len(self.retriers)

    def next_delay(self, error: str, *, jitter: bool = True) -> float | None:
        """Seconds before the next attempt after ``error``, or None when it is not retried.
        Each call that returns a delay uses one retry."""
        for index, retrier in enumerate(self.retriers):
            if error_matches(retrier.errors, error):
                if self.used[index] >= retrier.max_attempts:
                    return None
                delay = float(retrier.interval or 1) * (retrier.backoff or 2.0) ** self.used[index]
                if retrier.max_delay is not None:
                    delay = min(delay, float(retrier.max_delay))
                self.used[index] += 1
                return random.uniform(0, delay) if retrier.jitter and jitter else delay
        return None
