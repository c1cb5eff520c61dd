"""stepstone's own exceptions (the command line, the targets, the deployers, the test helpers), in one place.

The command line turns each into one line and an exit code (``stepstone/console.py``); none
reaches a user as a traceback.
"""

from __future__ import annotations

__all__ = [
    "DeployError",
    "LambdaError",
    "LocalStackError",
    "MermaidMissingError",
    "NoSuchRunError",
    "NoSuchValueError",
    "NothingToDoError",
    "RunFailedError",
    "RunInterruptedError",
    "TargetError",
]


class TargetError(Exception):
    """A target cannot be reached, or refuses what was asked: the message says why, the hint what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class NoSuchRunError(TargetError, LookupError):
    """No run (or workflow, or approval request) of that name on the target."""


class NoSuchValueError(NoSuchRunError):
    """The run has no finished step, or no stored value, of that name."""


class LocalStackError(Exception):
    """LocalStack could not be installed, started or reached; the message says why and what to do."""


class DeployError(Exception):
    """The workflow cannot be put on LocalStack as it is; the message says why."""


class RunFailedError(Exception):
    """A local run (or the branch it happened in) failed: what Step Functions would record."""

    def __init__(self, error: str, cause: str, state: str | None = None, trace: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.state = state
        self.trace = trace


class MermaidMissingError(Exception):
    """node_modules has no Mermaid: ``npm ci`` in the project root installs it."""


class LambdaError(Exception):
    """Raise from a moto Lambda handler to fail the function with this error name (``errorType``)."""

    def __init__(self, error_type: str, message: str = "") -> None:
        super().__init__(message)
        self.error_type = error_type


class NothingToDoError(TargetError):
    """What was asked has nothing to act on: a redrive of a run that succeeded, an approval
    where no gate waits (exit code 1: the command's verdict is "no")."""


class RunInterruptedError(Exception):
    """Ctrl-C while a run was followed: ``goes_on`` says whether the run goes on without us."""

    def __init__(self, run: str, *, goes_on: bool) -> None:
        super().__init__(run)
        self.run = run
        self.goes_on = goes_on
