"""Following a run to its end in the live view, on any target: answering its approval gates,
Ctrl-C, and the summary and exit code after."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from rich.console import Console
from rich.markup import escape
from rich.prompt import Confirm

from ..console import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, err, out
from ..errors import RunInterruptedError
from ..records import RunRecord
from ..targets import Answer, Started, Target
from ..view import LiveView, run_summary
from .targets import target_errors

__all__ = ["answerer", "finish", "follow", "interrupted", "started", "waiting_note"]


def answerer(approval: bool | None, view: LiveView) -> Answer:
    """``--approve``/``--reject`` if given, else a prompt on a terminal, else no answer (the gate waits)."""

    def answer(question: str, state: str) -> bool | None:
        if approval is not None:
            return approval
        if not sys.stdin.isatty():
            return None
        with view.paused():
            return Confirm.ask(f"[bold]approval[/bold] {escape(state)}: {escape(question)}", default=False)

    return answer


def waiting_note(target: Target, view: LiveView, console: Console) -> Callable[[str, str], None]:
    """What to say of a gate nobody here answers: how to answer it from elsewhere."""

    def waiting(state: str, question: str) -> None:
        run = view.run_id or "RUN"
        console.print(f"[bold yellow]waiting[/bold yellow] for approval of {escape(state)}: {escape(question)}\n"
                      f"  answer from another terminal: stepstone approve {run} {escape(state)}{target.flag} "
                      "(or stepstone reject ...)")

    return waiting


def finish(record: RunRecord, target: Target, as_json: bool) -> NoReturn:
    """The run's summary (or its record as JSON); exit 0 if it succeeded, 1 if not."""
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
    else:
        with target_errors(target):
            location = target.artifacts(record)
        out.print(run_summary(record, location))
        if record.status == "failed":
            flag = target.flag
            out.print(f"[dim]see the error in full: stepstone show {record.run_id}{flag}; its logs: "
                      f"stepstone logs {record.run_id}{flag}; go on after a fix: "
                      f"stepstone redrive {record.run_id}{flag}[/dim]")
    sys.exit(EXIT_OK if record.status == "succeeded" else EXIT_FAILED)


def interrupted(exc: RunInterruptedError, target: Target) -> NoReturn:
    """Ctrl-C: a run that goes on says where to see it; one that stopped with this process,
    how to go on with it (without waiting for the steps still running in its threads)."""
    if exc.goes_on:
        err.print(f"\n[bold]stopped following[/bold]: run {exc.run} goes on ({target.label}); see it with "
                  f"`stepstone show {exc.run}{target.flag}`")
        sys.exit(EXIT_INTERRUPTED)
    err.print(f"\n[bold red]interrupted[/bold red]: run {exc.run} is recorded; go on with it with "
              f"`stepstone redrive {exc.run}{target.flag}`")
    sys.stdout.flush()
    os._exit(EXIT_INTERRUPTED)


def follow(target: Target, run: str, *, approval: bool | None, as_json: bool) -> NoReturn:
    """Follow a run to its end in the live view; exit 0 if it succeeded, else 1."""
    report = err if as_json else out
    view = LiveView(report, live=out.is_terminal and not as_json)
    try:
        with target_errors(target), view.running():
            record = target.follow(run, view, answerer(approval, view), waiting_note(target, view, report))
    except RunInterruptedError as exc:
        interrupted(exc, target)
    finish(record, target, as_json)


def started(begun: Started, target: Target, as_json: bool, console: Any = None) -> None:
    """Say that a run started (and goes on without this command)."""
    if as_json:
        sys.stdout.write(json.dumps({"run": begun.run, "workflow": begun.workflow, "target": target.name,
                                     "console": begun.console}) + "\n")
        return
    (console or out).print(f"started run [bold]{begun.run}[/bold] of {escape(begun.workflow)} ({target.label})")
    if begun.console:
        (console or out).print(f"  console: {escape(begun.console)}")
    if console is None:
        out.print(f"[dim]  watch it: stepstone show {begun.run}{target.flag}   logs: stepstone logs "
                  f"{begun.run}{target.flag}" + (f"\n  {escape(begun.note)}" if begun.note else "") + "[/dim]")
