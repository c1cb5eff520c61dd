"""The DSL's exceptions: what a workflow can do wrong, and what a step raises on purpose.

- :class:`CompileError`: the one error a user's workflow can cause at compile time. Every
  failure the compiler finds carries the user's source location, the name of the rule that
  failed and what to write instead. The message is formatted in one place (here) so the
  command line, the tests and the Lambda runtime all print it the same way:
  ``file:line:col: error[rule]: message`` and, on the next line, ``  hint: ...``.
- :class:`ParamsError`: a run's parameters that do not fit the workflow's types.
- :class:`PermanentError`, :class:`TransientError`, :class:`StepTimeoutError`: what a step
  raises (or catches) to say how a failure is treated. A step reports an exception by its
  class name, which is what the compiled ``Retry`` and ``Catch`` fields match: by default
  every failure is retried except a :class:`PermanentError` (bad input, a rejected model:
  trying again cannot help), and a :class:`TransientError` (a throttled API, a lost
  connection) is the one to name in ``Retry(on=[TransientError])`` when only those should
  be retried.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = [
    "CompileError",
    "Location",
    "ParamsError",
    "PermanentError",
    "StepTimeout",
    "StepTimeoutError",
    "TransientError",
    "caller_location",
    "definition_location",
    "relative_path",
]


def relative_path(file: str) -> str:
    """``file`` relative to the working directory when it lies below it, else as given."""
    try:
        rel = os.path.relpath(file)
    except ValueError:  # another drive on Windows
        return file
    return file if rel.startswith("..") else rel


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the user's source: file, 1-based line and 1-based column."""

    file: str
    line: int
    col: int = 0

    def __str__(self) -> str:
        where = f"{relative_path(self.file)}:{self.line}"
        return f"{where}:{self.col}" if self.col else where


class CompileError(ValueError):
    """A workflow that cannot be compiled, with where, which rule and what to do.

    Raised where the mistake is written: by a decorator or option when the workflow file is
    imported, and by the compiler when it reads the workflow body. The command line prints
    it as ``file:line:col: error[rule]: message``, the line with a caret, and the hint.
    [Compiler rules](rules.md) lists every rule with a workflow that breaks it.

    Attributes:
        message: What is wrong, naming the construct.
        rule: A short stable name (``unsupported-statement``, ``cycle``...) that tests and
            scripts can match on.
        location: Where in the user's file (``file``, ``line``, ``col``), when known.
        hint: What to write instead.
    """

    def __init__(
        self,
        message: str,
        *,
        rule: str,
        location: Location | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.rule = rule
        self.location = location
        self.hint = hint
        super().__init__(self.format())

    def format(self) -> str:
        where = f"{self.location}: " if self.location else ""
        text = f"{where}error[{self.rule}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def at(self, location: Location) -> CompileError:
        """The same error placed at ``location`` when it has none yet."""
        if self.location is not None:
            return self
        return CompileError(self.message, rule=self.rule, location=location, hint=self.hint)


class ParamsError(ValueError):
    """A run's parameters that do not fit the workflow's declared types.

    ``stepstone run -p`` and ``stepstone trigger`` report it before a run starts, and the
    compiler when a schedule's or trigger's ``params=`` would not fit.

    Attributes:
        workflow: The workflow's name.
        errors: One line per problem, naming the parameter and what it expected.
    """

    def __init__(self, workflow: str, errors: list[str]) -> None:
        self.workflow = workflow
        self.errors = errors
        super().__init__(f"invalid parameters for workflow {workflow!r}:\n  " + "\n  ".join(errors))


class PermanentError(Exception):
    """A failure that retrying cannot fix (bad input, a rejected model): raise it, or a subclass, from a step.

    A ``Retry`` that names no errors retries everything but this, so the run fails (or
    reaches its ``except``) at once instead of trying again.
    """


class TransientError(Exception):
    """A failure that may go away on its own (a throttled API, a lost connection): raise it, or a subclass.

    Name it in ``Retry(on=[TransientError])`` when only those failures should be retried.
    """


class StepTimeoutError(Exception):
    """A step ran longer than its ``timeout=``: ``except StepTimeout`` catches that, and
    ``Retry(on=[StepTimeout])`` retries it. ``StepTimeout`` is this class, by the name
    workflows write. Step Functions reports it as ``States.Timeout`` (the name the compiled
    Catch and Retry match), and the local target raises it with that name when it stops a
    step that ran too long."""

    error_name = "States.Timeout"


StepTimeout = StepTimeoutError  # the name workflows write: ``except StepTimeout``


_OWN_DIRS = (str(Path(__file__).resolve().parent.parent) + os.sep,)  # all of compiler/


def caller_location(skip_dirs: tuple[str, ...] = ()) -> Location | None:
    """The first frame on the stack outside stepstone's own packages.

    Used by decorators and option constructors so that a misused ``@step(...)`` or
    ``cron(...)`` is reported at the line where the user wrote it.
    """
    own = _OWN_DIRS + skip_dirs
    frame: FrameType | None = inspect.currentframe()
    while frame is not None:
        file = frame.f_code.co_filename
        resolved = str(Path(file).resolve()) if not file.startswith("<") else file
        generated = file == "<string>" and frame.f_code.co_name in ("__init__", "__post_init__")
        if not resolved.startswith(own) and "<frozen importlib" not in file and not generated:
            return Location(file=file, line=frame.f_lineno)
        frame = frame.f_back
    return None


def definition_location(fn: object) -> Location:
    """The ``def`` line of a function (below its decorators), where errors about it point."""
    code = getattr(fn, "__code__", None)
    file = inspect.getsourcefile(fn) or (code.co_filename if code else "?")  # type: ignore[arg-type]
    try:
        lines, start = inspect.getsourcelines(fn)  # type: ignore[arg-type]
    except (OSError, TypeError):
        return Location(file, code.co_firstlineno if code else 1)
    for offset, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("def ", "async def ")):
            return Location(file, start + offset, len(line) - len(stripped) + 1)
    return Location(file, start)
