"""The Target interface: what every place a run can run offers the commands.

A command opens its target once (``open_target``) and asks it; it never asks which target
it has. Two implementations: :class:`~stepstone.targets.local.LocalTarget` (this machine,
in-process or in a process of its own) and
:class:`~stepstone.targets.stepfunctions.StepFunctionsTarget` (Step Functions on LocalStack
or on AWS, told apart by their endpoint and profile). Every one of them tells a run's
story as the same :class:`~stepstone.records.RunRecord`.

A run is named by its id or a unique prefix of it (on Step Functions its execution ARN
names it too).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from compiler.dsl.workflows import WorkflowDef
from lambdas.store import ArtifactStore

from ..errors import TargetError
from ..records import Event, RunRecord, RunStatus

__all__ = ["Answer", "OnEvent", "OnWaiting", "RunRequest", "RunSummary", "Say", "Started", "StepLog", "Target",
           "TargetName"]

TargetName: TypeAlias = Literal["local", "localstack", "aws"]
Answer: TypeAlias = Callable[[str, str], bool | None]  # (question, state) -> approved? None: nobody can say now
OnEvent: TypeAlias = Callable[[Event], None]
OnWaiting: TypeAlias = Callable[[str, str], None]  # (state, question) of a gate that waits for `stepstone approve`
Say: TypeAlias = Callable[[str], None]  # a line of what the target is doing, for the person watching


@dataclass(frozen=True)
class StepLog:
    """What one attempt of a step printed and logged."""

    key: str  # [map_path/]state
    attempt: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class RunSummary:
    """One line of ``stepstone runs``."""

    run: str
    workflow: str
    status: RunStatus
    started: datetime | None
    duration_ms: float | None
    trigger: str

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run, "workflow": self.workflow, "status": self.status,
                "started": self.started.isoformat(timespec="seconds") if self.started else None,
                "duration_ms": self.duration_ms, "trigger": self.trigger}


@dataclass(frozen=True)
class RunRequest:
    """What ``stepstone run`` asks: run this workflow now and follow it to its end."""

    spec: str  # FILE[:NAME], as given
    definition: WorkflowDef[..., Any]
    params: Mapping[str, Any] | None  # validated; None when resuming (the run's own)
    trigger: Mapping[str, Any] = field(default_factory=lambda: {"kind": "manual"})
    run_id: str | None = None  # None: a new id
    resume: str | None = None  # go on with this failed run (the local target's --resume)
    faults: str | None = None  # STEPSTONE_FAULTS for this run only
    workers: int = 8
    debug: bool = False  # one step at a time in this thread (for breakpoint())
    echo_output: bool = True  # steps' output also on this terminal
    approvals_wait: bool = False  # a gate nobody answers waits for `stepstone approve` (a triggered run)
    refresh_cache: bool = False  # clear the workflow's cache first: every cached step runs again


@dataclass(frozen=True)
class Started:
    """A run that goes on without this command: its id, where to watch it, what to say."""

    run: str
    workflow: str
    console: str | None = None  # the Step Functions console's page of the run
    note: str = ""
    continues: str | None = None  # the failed run it goes on with (a redrive)
    same: bool = True  # a redrive that goes on in the same run (not a new one)


class Target(ABC):
    """Where runs run: start, follow, read, redrive and answer them."""

    name: TargetName
    label: str  # in words, for messages: "local", "LocalStack", "AWS"

    @property
    @abstractmethod
    def flag(self) -> str:
        """What a command line names this target with: ``""`` or `` --target localstack``."""

    @property
    @abstractmethod
    def runs_place(self) -> str:
        """Where its runs are, in words: ``in .stepstone``, ``on LocalStack``."""

    logs_note = ""  # what to know of its logs when none are found yet

    @property
    @abstractmethod
    def unreachable_hint(self) -> str:
        """What to do when the target does not answer (or refuses)."""

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`~stepstone.errors.TargetError` (with what to do) unless the target answers."""

    def refusal(self, request: RunRequest) -> TargetError | None:
        """Why this target cannot run ``request`` as asked (an option it has no use for), or None."""
        return None

    @abstractmethod
    def run(self, request: RunRequest, on_event: OnEvent, answer: Answer | None, on_waiting: OnWaiting,
            say: Say) -> RunRecord:
        """Run ``request`` now and follow it to its end. A KeyboardInterrupt leaves a
        :class:`~stepstone.errors.RunInterruptedError` saying whether the run goes on."""

    @abstractmethod
    def trigger(self, spec: str, definition: WorkflowDef[..., Any], params: Mapping[str, Any],
                trigger: Mapping[str, Any]) -> Started:
        """Start a run of a deployed workflow that goes on without this command."""

    @abstractmethod
    def follow(self, run: str, on_event: OnEvent, answer: Answer | None = None,
               on_waiting: OnWaiting | None = None, timeout: float | None = None) -> RunRecord:
        """Follow a run to its end, sending each change to ``on_event``; an approval gate is
        put to ``answer``, and when it gives none, ``on_waiting`` is told once. After
        ``timeout`` seconds (if given) TimeoutError; the run goes on."""

    @abstractmethod
    def record(self, run: str) -> RunRecord:
        """The run as it is now; :class:`~stepstone.errors.NoSuchRunError` when there is none."""

    @abstractmethod
    def runs(self, workflow: str | None = None, status: RunStatus | None = None, since: datetime | None = None,
             limit: int = 20) -> list[RunSummary]:
        """Runs, newest first (runs that another run started are left out)."""

    @abstractmethod
    def artifacts(self, record: RunRecord) -> str:
        """Where the run's artifacts are: a folder, or an ``s3://`` prefix."""

    @abstractmethod
    def value_store(self, record: RunRecord) -> ArtifactStore:
        """The artifact store the run wrote to (a folder, or its S3 bucket), to read its values."""

    @abstractmethod
    def logs(self, run: str, step: str | None = None) -> list[StepLog]:
        """What each attempt of the run's steps (or of ``step``: a state, a step's name, a
        fan-out item's key) printed and logged, sorted by step and attempt."""

    @abstractmethod
    def redrive(self, run: str) -> Started:
        """Go on with a failed run without running again what finished."""

    @abstractmethod
    def pending_approvals(self, run: str) -> tuple[str, dict[str, str]]:
        """The run's full id, and state -> question of each gate that waits for an answer now."""

    @abstractmethod
    def answer(self, run: str, state: str, approved: bool, *, approver: str, comment: str = "") -> None:
        """Answer an approval gate; the workflow reads ``approved`` and goes on."""

    def console_url(self, run: str) -> str | None:
        """Where a person sees the run in a browser, if anywhere."""
        return None
