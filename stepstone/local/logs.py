"""Step logs of the local target: what a step prints or logs goes to its own log file.

In Lambda each invocation's output lands in CloudWatch Logs; locally, every attempt of a
step gets ``runs/<workflow>/<run>/[<map_path>/]<state>/attempt-<n>/log.txt`` in the
artifact store, beside its lineage record. Steps run side by side on threads, so
``sys.stdout`` and ``sys.stderr`` are replaced, for the length of a run, by streams that
send each write to the log of the step running in that thread (a context variable; the
thread that enforces a step's timeout copies the context) and, unless told otherwise, on
to the terminal as well. The ``logging`` module's handlers that write to those streams are
captured the same way.
"""

from __future__ import annotations

import contextvars
import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from lambdas.store import ArtifactStore

__all__ = ["LOG_NAME", "capture_output", "step_log"]

LOG_NAME = "log.txt"
_current: contextvars.ContextVar[io.StringIO | None] = contextvars.ContextVar("stepstone_step_log", default=None)
_install_lock = threading.Lock()


class _StepStream(io.TextIOBase):
    """A stand-in for sys.stdout/sys.stderr: the running step's log, and (if ``echo``) the stream it replaced."""

    def __init__(self, underlying: TextIO, *, echo: bool) -> None:
        super().__init__()
        self.underlying = underlying
        self.echo = echo

    def write(self, text: str) -> int:
        log = _current.get()
        if log is not None:
            log.write(text)
            if not self.echo:
                return len(text)
        return self.underlying.write(text)

    def flush(self) -> None:
        self.underlying.flush()

    def isatty(self) -> bool:
        return self.underlying.isatty()

    def fileno(self) -> int:
        return self.underlying.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.underlying, "encoding", "utf-8")


@contextmanager
def capture_output(*, echo: bool = True) -> Iterator[None]:
    """For the length of a run: steps' output goes to their logs (and, with ``echo``, on as before)."""
    with _install_lock:
        installed = not isinstance(sys.stdout, _StepStream)
        if installed:
            saved = sys.stdout, sys.stderr
            sys.stdout = _StepStream(sys.stdout, echo=echo)
            # stderr always echoes: a step's warnings and errors should not vanish from sight
            sys.stderr = _StepStream(sys.stderr, echo=True)
    try:
        yield
    finally:
        if installed:
            with _install_lock:
                sys.stdout.flush()
                sys.stdout, sys.stderr = saved


@contextmanager
def step_log(store: ArtifactStore, attempt_prefix: str) -> Iterator[None]:
    """Collect what this thread prints during one attempt; written to the store when it ends."""
    buffer = io.StringIO()
    token = _current.set(buffer)
    try:
        yield
    finally:
        _current.reset(token)
        text = buffer.getvalue()
        if text:
            store.write(attempt_prefix + LOG_NAME, text.encode("utf-8", "replace"))
