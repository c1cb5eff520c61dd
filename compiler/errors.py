"""The compiler passes' exceptions (the DSL's own, ``CompileError`` first, are in
``compiler/dsl/errors.py``; the protocol's in ``compiler/protocol/errors.py``)."""

from __future__ import annotations

__all__ = ["CostError", "LoadError", "LockError", "PathError"]


class LoadError(Exception):
    """The file or the workflow asked for does not exist (a usage error, not a compile error)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class CostError(ValueError):
    """An assumption the estimate cannot use (an unknown step name, a job no instance fits)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class PathError(LookupError):
    """A path that reads nothing: Step Functions fails the run with States.Runtime."""

    error_name = "States.Runtime"


class LockError(RuntimeError):
    """A workflow file's lock that cannot be made or read (``compiler/deployment/lock.py``):
    the message names the file and, from uv, what could not be resolved."""
