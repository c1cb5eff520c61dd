"""How the command line talks: errors with their source line, never a traceback; and the
exit codes every command chooses from (here only).

0 ok; 1 the command's verdict is "no" (``validate`` found an invalid workflow, ``run`` ran
and the run failed, nothing waits for an answer); 2 bad input (usage, a missing file, a
workflow that does not compile, parameters that do not validate, a target that does not
answer); 70 a bug in stepstone itself; 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import linecache
import sys
from typing import NoReturn

from rich.console import Console
from rich.markup import escape

from compiler.dsl.errors import CompileError

__all__ = ["EXIT_COMPILE", "EXIT_FAILED", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "err",
           "fail", "out", "print_compile_error"]

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and its verdict is "no" (invalid workflow, failed run)
EXIT_USAGE = 2  # bad input: usage, missing file, a workflow that does not compile
EXIT_COMPILE = 2
EXIT_INTERNAL = 70  # a bug in stepstone itself (EX_SOFTWARE)
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_compile_error(error: CompileError) -> None:
    """``file:line:col: error[rule]: message``, the source line with a caret, and the hint."""
    location = error.location
    where = f"{location}: " if location else ""
    label = escape(f"error[{error.rule}]")
    err.print(f"[bold]{escape(where)}[/bold][bold red]{label}[/bold red]: {escape(error.message)}")
    if location is not None:
        line = linecache.getline(location.file, location.line).rstrip("\n")
        if line.strip():
            number = str(location.line)
            err.print(f"  [dim]{number} |[/dim] {escape(line)}")
            if location.col:
                err.print(" " * (len(number) + 5 + location.col - 1) + "[bold red]^[/bold red]")
    if error.hint:
        err.print(f"  [cyan]hint:[/cyan] {escape(error.hint)}")


def fail(message: str, *, hint: str | None = None, code: int = EXIT_USAGE) -> NoReturn:
    """One line of cause (and one of fix) on stderr, then exit with ``code``."""
    err.print(f"[bold red]error:[/bold red] {escape(message)}")
    if hint:
        err.print(f"  [cyan]hint:[/cyan] {escape(hint)}")
    sys.exit(code)

