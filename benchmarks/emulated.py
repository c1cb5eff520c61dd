"""LocalStack for the benchmarks that need emulated AWS: the one running (``stepstone
localstack up``), or one started here and stopped when the benchmark run ends."""

from __future__ import annotations

import atexit
import os

from stepstone.localstack import LocalStack, LocalStackError
from stepstone.localstack.clients import clients
from stepstone.testing.localstack import LocalStackSession

from .core import Context

__all__ = ["session"]

_session: LocalStackSession | None = None


def session(ctx: Context) -> LocalStackSession | None:
    """A session on LocalStack, or None (with the reason said) when it cannot be had."""
    global _session
    if _session is not None:
        return _session
    harness = LocalStack()
    if harness.health() is None:
        if os.environ.get("STEPSTONE_BENCH_START_LOCALSTACK", "1") != "1":
            ctx.say("LocalStack is not running (STEPSTONE_BENCH_START_LOCALSTACK=0): its benchmarks are left out")
            return None
        ctx.say("starting LocalStack for the emulated-AWS benchmarks (stopped at the end)")
        try:
            harness.start(progress=ctx.say)
        except LocalStackError as exc:
            ctx.say(f"LocalStack cannot start: {exc}")
            return None
        atexit.register(harness.stop)
    _session = LocalStackSession(harness, clients())
    return _session
