"""Run records: the one account of a run that every target gives, whichever ran it.

The local target writes a :class:`RunRecord` as it runs (``runs/<workflow>/<run>/run.json``
in its artifact store); a Step Functions target (LocalStack, AWS) makes the same record from
the execution's history. Commands show, draw and compare runs from records alone, so every
target tells the same story about a run. An :class:`Event` is one change of a record, as a
run is followed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from compiler.protocol import run_prefix, step_key

__all__ = ["Event", "RunRecord", "RunStatus", "StepRecord", "StepStatus", "new_run_id", "now"]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    """Sortable by start time, unique: ``20261122-171512-3f9a0c27``. Eight hex digits: with four,
    two of a few dozen runs started in the same second shared an id often enough to be seen
    (a fuzz test starting runs in a loop lost one), and Step Functions takes a second start
    under a name it knows, with the same input, for the first."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(4)


RunStatus = Literal["running", "succeeded", "failed", "interrupted"]
StepStatus = Literal["running", "retrying", "succeeded", "failed", "cached", "reused", "skipped"]


class StepRecord(BaseModel):
    state: str
    step: str  # the step's name (several states can run one step)
    map_path: str | None = None
    status: StepStatus = "running"
    attempts: int = 0
    started: str | None = None
    duration_ms: float = 0.0
    output_bytes: int | None = None
    stored: str | None = None  # where a stored output is (a key of the artifact store)
    envelope: Any = None  # what the state holds for it, kept so a resumed run can reuse it
    batch: bool = False
    error: str | None = None
    cause: str | None = None
    traceback: str | None = None

    @property
    def key(self) -> str:
        return step_key(self.state, self.map_path)


class RunRecord(BaseModel):
    run_id: str
    workflow: str
    ref: str  # module:qualname of the workflow
    file: str
    status: RunStatus = "running"
    params: dict[str, Any] = Field(default_factory=dict)
    started: str = Field(default_factory=now)
    finished: str | None = None
    duration_ms: float | None = None
    output: Any = None
    error: str | None = None
    cause: str | None = None
    failed_state: str | None = None
    parent: str | None = None  # the run that started this one (a nested workflow)
    target: str = "local"  # where it ran: the target's name (local | localstack | aws)
    where: str = "local target"  # the same, in words: "local target", "LocalStack", "AWS"
    batch_as_lambda: bool = False  # its Batch steps ran as Lambda functions (where there is no Batch)
    trigger: str = "manual"  # what started it, in words (compiler.protocol.trigger_text)
    resumed: int = 0  # how many times it was resumed
    transitions: int | None = None  # states entered (what Standard workflows are billed by); None: not known
    steps: dict[str, StepRecord] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """Where the local target keeps it: beside the run's artifacts."""
        return run_prefix(self.workflow, self.run_id) + "run.json"


@dataclass(frozen=True)
class Event:
    """One change of a run, as a target reports it while the run is followed."""

    kind: Literal["run", "step", "approval"]
    record: RunRecord
    step: StepRecord | None = None
    note: str = ""
