"""The local target: runs on this machine, recorded in a local artifact store (``.stepstone/``).

``stepstone run`` runs the workflow in this process (``stepstone.local``: the compiled
layout and semantics, the real step runner); ``trigger`` and ``redrive`` start it in a
process of its own that outlives the command, as a deployed workflow would, and ``follow``
reads its run record as it grows. Approval gates of a run nobody watches wait for an
answer written beside their request (``stepstone approve``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from compiler.dsl.workflows import WorkflowDef
from compiler.protocol import cache_prefix, run_prefix, trigger_text
from lambdas.faults import ENV as FAULTS_ENV
from lambdas.store import LocalStore

from ..errors import NoSuchRunError, NothingToDoError, RunFailedError, RunInterruptedError, TargetError
from ..local import LocalRun, find_run, list_runs
from ..local.approvals import answer as answer_gate
from ..local.approvals import pending, waiting_approver
from ..local.logs import LOG_NAME
from ..local.options import ExecutorOptions
from ..project import lookup_workflow, workflow_files
from ..records import Event, RunRecord, RunStatus, new_run_id
from .base import Answer, OnEvent, OnWaiting, RunRequest, RunSummary, Say, Started, StepLog, Target

__all__ = ["DEFAULT_HOME", "LocalTarget"]

DEFAULT_HOME = ".stepstone"
POLL_SECONDS = 0.25
START_TIMEOUT = 30.0  # seconds a triggered run's process may take to write its first record


class LocalTarget(Target):
    name = "local"
    label = "local target"

    def __init__(self, home: str | None = None) -> None:
        self.store = LocalStore(home or os.environ.get("STEPSTONE_HOME", DEFAULT_HOME))
        self._resumed: dict[str, int] = {}  # run -> the resume count a redrive waits for
        self._started: dict[str, str] = {}  # run -> workflow, of the runs started here (their record may be late)

    @property
    def flag(self) -> str:
        return ""

    @property
    def runs_place(self) -> str:
        return f"in {self.root}"

    @property
    def unreachable_hint(self) -> str:
        return "pass --home DIR (or set STEPSTONE_HOME) to a folder you can write to"

    @property
    def root(self) -> Path:
        return Path(self.store.root)

    def check(self) -> None:
        """The artifact store's folder can be written (it is made when missing)."""
        root = self.root
        if root.exists() and not root.is_dir():
            raise TargetError(f"cannot write runs to {root}: it is not a folder", self.unreachable_hint)
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / f".write-test-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise TargetError(f"cannot write runs to {root}: {exc.strerror or exc}", self.unreachable_hint) from None

    def value_store(self, record: RunRecord) -> LocalStore:
        return self.store

    def artifacts(self, record: RunRecord) -> str:
        return str(self.root / run_prefix(record.workflow, record.run_id))

    # --- running ------------------------------------------------------------------------

    def run(self, request: RunRequest, on_event: OnEvent, answer: Answer | None, on_waiting: OnWaiting,
            say: Say) -> RunRecord:
        """Run in this process. A gate nobody answers fails the run (``ApprovalNeeded``),
        or, for a triggered run, waits for ``stepstone approve``."""
        self.check()
        definition = request.definition
        previous = self._resumable(request.resume, definition.name) if request.resume else None
        params = dict(previous.params if previous is not None else request.params or {})
        run_id = previous.run_id if previous is not None else request.run_id or new_run_id()
        if request.faults is not None:
            os.environ[FAULTS_ENV] = request.faults  # the step runner in this process reads it
        if request.refresh_cache:
            cleared = self.store.delete(self.store.keys(cache_prefix(definition.name)))
            say(f"cleared {cleared} cached result{'s' if cleared != 1 else ''} of {definition.name}")
        waiter = waiting_approver(self.store, definition.name, run_id)

        def approver(question: str, state: str) -> bool:
            decision = answer(question, state) if answer is not None else None
            if decision is not None:
                return decision
            if request.approvals_wait:
                return waiter(question, state)
            raise RunFailedError("ApprovalNeeded", f"{question!r} needs an answer, and there is no terminal to ask; "
                                 f"run again with --approve or --reject, or redrive with stepstone redrive {run_id}",
                                 state)

        local = LocalRun(definition, self.store, run_id=run_id, file=request.spec.rsplit(":", 1)[0]
                         if ".py:" in request.spec else request.spec,
                         options=ExecutorOptions(workers=request.workers, sequential=request.debug,
                                                 echo_output=request.echo_output),
                         approver=approver, on_event=on_event, resume=previous, trigger=trigger_text(
                             dict(request.trigger)))
        verb = "resuming" if previous else "running"
        say(f"{verb} {definition.name} as run {local.run_id} (local target, artifacts in {self.root})")
        try:
            return local.run(params).record
        except KeyboardInterrupt:
            raise RunInterruptedError(local.run_id, goes_on=False) from None

    def _resumable(self, run: str, workflow: str) -> RunRecord:
        previous = self.record(run)
        if previous.status == "succeeded":
            raise NothingToDoError(f"run {previous.run_id} succeeded; there is nothing to resume")
        if previous.workflow != workflow:
            raise TargetError(f"run {previous.run_id} is of workflow {previous.workflow!r}, not {workflow!r}")
        return previous

    def trigger(self, spec: str, definition: WorkflowDef[..., Any], params: Mapping[str, Any],
                trigger: Mapping[str, Any]) -> Started:
        """Run ``spec`` in a process of its own that outlives this command (what a trigger does)."""
        self.check()
        run_id = new_run_id()
        log = self._start(spec, definition.name, run_id, params=params, trigger=trigger)
        return Started(run_id, definition.name, note=f"console: {log}")

    def _start(self, spec: str, workflow: str, run_id: str, *, params: Mapping[str, Any] | None,
               trigger: Mapping[str, Any], resume: bool = False) -> Path:
        """``stepstone run`` in a process of its own; its console output goes to console.log in the run's folder."""
        folder = self.root / run_prefix(workflow, run_id)
        folder.mkdir(parents=True, exist_ok=True)
        self._started[run_id] = workflow
        command = [sys.executable, "-m", "stepstone", "run", spec, "--home", str(self.root), "--approvals-wait",
                   "--trigger-json", json.dumps(dict(trigger))]
        command += ["--resume", run_id] if resume else ["--run-id", run_id]
        for name, value in (params or {}).items():
            command += ["--param", f"{name}={json.dumps(value)}"]
        log = folder / "console.log"
        with open(log, "ab") as sink:
            subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                             start_new_session=True, env={**os.environ, "STEPSTONE_DEBUG": "0", "TERM": "dumb"})
        return log

    def follow(self, run: str, on_event: OnEvent, answer: Answer | None = None,
               on_waiting: OnWaiting | None = None, timeout: float | None = None) -> RunRecord:
        """Follow a run another process runs, from its run record (for a redrive: from when its
        record says it was resumed once more)."""
        run_id, workflow = self._locate(run)
        key = run_prefix(workflow, run_id) + "run.json"
        resumed = self._resumed.get(run_id, 0)
        seen: dict[str, tuple[str, int]] = {}
        asked: set[str] = set()
        record: RunRecord | None = None
        began = time.monotonic()
        try:
            while True:
                try:
                    record = RunRecord.model_validate_json(self.store.read(key))
                    if record.resumed < resumed:
                        record = None
                        raise LookupError("not resumed yet")
                except Exception:  # not written (or resumed) yet, or being written
                    if record is None and time.monotonic() - began > START_TIMEOUT:
                        raise TargetError(f"run {run_id} did not start",
                                          f"see {self.root / run_prefix(workflow, run_id)}console.log") from None
                    time.sleep(POLL_SECONDS)
                    continue
                if not seen:
                    on_event(Event("run", record))
                for step_key, step in record.steps.items():
                    now = (step.status, step.attempts)
                    if seen.get(step_key) != now:
                        seen[step_key] = now
                        on_event(Event("step", record, step))
                for state, question in pending(self.store, record).items():
                    if state in asked:
                        continue
                    asked.add(state)
                    decision = answer(question, state) if answer is not None else None
                    if decision is None:
                        if on_waiting is not None:
                            on_waiting(state, question)
                    else:
                        answer_gate(self.store, record, state, decision, approver=_user())
                if record.status != "running":
                    on_event(Event("run", record))
                    return record
                if timeout is not None and time.monotonic() - began > timeout:
                    raise TimeoutError(f"run {run_id} still runs after {timeout:.0f} s")
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            raise RunInterruptedError(run_id, goes_on=True) from None

    def _locate(self, run: str) -> tuple[str, str]:
        """(run id, workflow) of a run (one started here may not have written its record yet)."""
        if run in self._started:
            return run, self._started[run]
        record = self.record(run)
        return record.run_id, record.workflow

    def redrive(self, run: str) -> Started:
        """Go on under the same id, in a process of its own, reusing every finished step."""
        record = self.record(run)
        if record.status in ("succeeded", "running"):
            how = "succeeded" if record.status == "succeeded" else "is running"
            raise NothingToDoError(f"run {record.run_id} {how}; only a failed or interrupted run can be redriven")
        if record.parent:
            raise TargetError(f"run {record.run_id} is a nested run of {record.parent}; redrive that one")
        spec = f"{record.file}:{record.workflow}" if record.file else self._spec_of(record.workflow)
        log = self._start(spec, record.workflow, record.run_id, params=None, trigger={}, resume=True)
        self._resumed[record.run_id] = record.resumed + 1
        return Started(record.run_id, record.workflow, note=f"console: {log}", continues=record.run_id)

    @staticmethod
    def _spec_of(workflow: str) -> str:
        found = lookup_workflow(workflow, workflow_files())
        if found is None:
            raise TargetError(f"the file of workflow {workflow!r} is not among the project's workflow files",
                              "run the command where the workflow's file is (or set STEPSTONE_WORKFLOWS)")
        return found[0]

    # --- reading ------------------------------------------------------------------------

    def record(self, run: str) -> RunRecord:
        found = find_run(self.store, run)
        if found is None:
            raise NoSuchRunError(f"no run {run!r} in {self.root}", "list runs with `stepstone runs`")
        return found

    def runs(self, workflow: str | None = None, status: RunStatus | None = None, since: datetime | None = None,
             limit: int = 20) -> list[RunSummary]:
        rows: list[RunSummary] = []
        for record in list_runs(self.store, workflow):
            started = datetime.fromisoformat(record.started)
            if (status and record.status != status) or (since and started < since) or record.parent:
                continue
            rows.append(RunSummary(record.run_id, record.workflow, record.status, started, record.duration_ms,
                                   record.trigger))
            if len(rows) >= limit:
                break
        return rows

    def logs(self, run: str, step: str | None = None) -> list[StepLog]:
        """Each attempt's output, kept beside its lineage (``log.txt``)."""
        record = self.record(run)
        prefix = run_prefix(record.workflow, record.run_id)
        found: list[StepLog] = []
        for key in self.store.keys(prefix):
            if not key.endswith("/" + LOG_NAME):
                continue
            step_key, _, attempt = key[len(prefix):-len(LOG_NAME) - 1].rpartition("/")
            if step and not (step in (step_key, step_key.rsplit("/", 1)[-1]) or step_key.startswith(step + "/")):
                continue
            number = int(attempt.removeprefix("attempt-")) if attempt.startswith("attempt-") else 0
            found.append(StepLog(step_key, number,
                                 tuple(self.store.read(key).decode("utf-8", "replace").splitlines())))
        return sorted(found, key=lambda log: (log.key, log.attempt))

    # --- approvals ----------------------------------------------------------------------

    def pending_approvals(self, run: str) -> tuple[str, dict[str, str]]:
        record = self.record(run)
        return record.run_id, pending(self.store, record)

    def answer(self, run: str, state: str, approved: bool, *, approver: str, comment: str = "") -> None:
        answer_gate(self.store, self.record(run), state, approved, approver=approver, comment=comment)


def _user() -> str:
    return os.environ.get("USER") or "stepstone"
