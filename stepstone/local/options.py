"""How a local run runs: one typed record, handed to each run and to the runs it starts."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ExecutorOptions"]


@dataclass(frozen=True)
class ExecutorOptions:
    workers: int = 8  # steps that may run at once
    sequential: bool = False  # one unit at a time in this thread, in program order (for breakpoint())
    retry_delay_scale: float = 1.0  # 0 in tests: retries without their waits
    enforce_timeouts: bool = True  # a step past its timeout fails with States.Timeout
    echo_output: bool = True  # what steps print also goes to this terminal

    @property
    def one_at_a_time(self) -> bool:
        return self.sequential or self.workers <= 1
