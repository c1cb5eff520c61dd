"""Following a run to its end in the live view (a local run in a process of its own, or a
run in Step Functions), answering its approval gates, and the summary and exit code after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from rich.markup import escape
from rich.prompt import Confirm

from compiler.protocol import machine_of, run_id_of, run_prefix

from ..console import EXIT_FAILED, EXIT_OK, err, fail, out
from ..local.executor import Event
from ..local.records import RunRecord
from ..local.view import LiveView, run_summary
from .find import manual
from .remote import remote_errors, store

__all__ = ["finish", "follow_local", "follow_remote", "start_local", "started"]

EXIT_INTERRUPTED = 130


def _answerer(approval: bool | None, view: LiveView) -> Any:
    def answer(question: str, state: str) -> bool | None:
        if approval is not None:
            return approval
        if not sys.stdin.isatty():
            return None
        with view.paused():
            return Confirm.ask(f"[bold]approval[/bold] {escape(state)}: {escape(question)}", default=False)

    return answer


def finish(record: RunRecord, where: str, artifacts: str, as_json: bool) -> NoReturn:
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
    else:
        out.print(run_summary(record, artifacts))
        if record.status == "failed":
            flag = "" if where == "local" else f" --target {where}"
            out.print(f"[dim]see the error in full: stepstone show {record.run_id}{flag}; its logs: "
                      f"stepstone logs {record.run_id}{flag}; go on after a fix: "
                      f"stepstone redrive {record.run_id}{flag}[/dim]")
    sys.exit(EXIT_OK if record.status == "succeeded" else EXIT_FAILED)


def follow_remote(target: Any, arn: str, *, approval: bool | None, as_json: bool) -> NoReturn:
    """Follow a run in Step Functions to its end in the live view; exit 0 if it succeeded, else 1."""
    report = err if as_json else out
    run_id = run_id_of(arn)
    flag = f" --target {target.where}"
    view = LiveView(report, live=out.is_terminal and not as_json)

    def waiting(state: str, question: str) -> None:
        report.print(f"[bold yellow]waiting[/bold yellow] for approval of {escape(state)}: {escape(question)}\n"
                     f"  answer from another terminal: stepstone approve {run_id} {escape(state)}{flag} "
                     "(or stepstone reject ...)")

    try:
        with remote_errors(target.label), view.running():
            record = target.follow(arn, view, _answerer(approval, view), waiting)
    except KeyboardInterrupt:
        err.print(f"\n[bold]stopped following[/bold]: run {run_id} goes on in {target.label}; see it with "
                  f"`stepstone show {run_id}{flag}`")
        sys.exit(EXIT_INTERRUPTED)
    with remote_errors(target.label):
        bucket = target.bucket(machine_of(arn))
    finish(record, target.where, f"s3://{bucket}/{run_prefix(record.workflow, record.run_id)}", as_json)


def follow_local(home: str | None, workflow: str, run_id: str, *, approval: bool | None, as_json: bool,
                 resumed: int = 0, poll: float = 0.25) -> NoReturn:
    """Follow a local run another process runs (``stepstone trigger``), from its run record
    (for a resumed run: from when its record says it was resumed ``resumed`` times)."""
    from ..local.approvals import answer, pending

    artifacts = store(home)
    key = run_prefix(workflow, run_id) + "run.json"
    view = LiveView(err if as_json else out, live=out.is_terminal and not as_json)
    ask = _answerer(approval, view)
    seen: dict[str, tuple[str, int]] = {}
    asked: set[str] = set()
    record: RunRecord | None = None
    deadline = time.monotonic() + 30
    try:
        with view.running():
            while True:
                try:
                    record = RunRecord.model_validate_json(artifacts.read(key))
                    if record.resumed < resumed:
                        record = None
                        raise LookupError("not resumed yet")
                except Exception:  # not written (or resumed) yet, or being written
                    if record is None and time.monotonic() > deadline:
                        fail(f"run {run_id} did not start: see {Path(artifacts.root) / run_prefix(workflow, run_id)}"
                             "console.log")
                    time.sleep(poll)
                    continue
                if not seen:
                    view(Event("run", record))
                for step_key, step in record.steps.items():
                    now = (step.status, step.attempts)
                    if seen.get(step_key) != now:
                        seen[step_key] = now
                        view(Event("step", record, step))
                for state, question in pending(artifacts, record).items():
                    if state not in asked:
                        asked.add(state)
                        decision = ask(question, state)
                        if decision is None:
                            (err if as_json else out).print(
                                f"[bold yellow]waiting[/bold yellow] for approval of {escape(state)}: "
                                f"{escape(question)}\n  answer from another terminal: stepstone approve "
                                f"{run_id} {escape(state)} (or stepstone reject ...)")
                        else:
                            answer(artifacts, record, state, decision, approver=manual()["by"])
                if record.status != "running":
                    view(Event("run", record))
                    break
                time.sleep(poll)
    except KeyboardInterrupt:
        err.print(f"\n[bold]stopped following[/bold]: run {run_id} goes on; see it with `stepstone show {run_id}`")
        sys.exit(EXIT_INTERRUPTED)
    assert record is not None
    finish(record, "local", str(Path(artifacts.root) / run_prefix(workflow, run_id)), as_json)


def start_local(spec: str, workflow: str, run_id: str, home: str | None, *, params: dict[str, Any] | None,
                trigger: dict[str, Any], resume: bool = False) -> Path:
    """Run ``spec`` in a process of its own that outlives this command (what a trigger does);
    its console output goes to console.log in the run's folder."""
    artifacts = store(home)
    folder = Path(artifacts.root) / run_prefix(workflow, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "stepstone", "run", spec, "--home", str(artifacts.root), "--approvals-wait",
               "--trigger-json", json.dumps(trigger)]
    command += ["--resume", run_id] if resume else ["--run-id", run_id]
    for name, value in (params or {}).items():
        command += ["--param", f"{name}={json.dumps(value)}"]
    log = folder / "console.log"
    with open(log, "ab") as sink:
        subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                         start_new_session=True, env={**os.environ, "STEPSTONE_DEBUG": "0", "TERM": "dumb"})
    return log


def started(run_id: str, workflow: str, where: str, url: str | None, as_json: bool, note: str,
             console: Any = None) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"run": run_id, "workflow": workflow, "target": where, "console": url}) + "\n")
        return
    flag = "" if where == "local" else f" --target {where}"
    (console or out).print(f"started run [bold]{run_id}[/bold] of {escape(workflow)} ({where})")
    if url:
        (console or out).print(f"  console: {escape(url)}")
    if console is None:
        out.print(f"[dim]  watch it: stepstone show {run_id}{flag}   logs: stepstone logs {run_id}{flag}"
                  + (f"\n  {escape(note)}" if note else "") + "[/dim]")
