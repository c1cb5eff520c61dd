"""Run records of the local target: what ran, how it went, and where each output is.

A record lives beside the run's artifacts, at ``runs/<workflow>/<run>/run.json``, and is
rewritten (atomically) after every step, so an interrupted run leaves a consistent record
that ``stepstone show`` can read and ``stepstone run --resume`` can continue.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from compiler.protocol import run_prefix
from lambdas.errors import NotFoundError
from lambdas.store import ArtifactStore

__all__ = ["RunRecord", "StepRecord", "find_run", "list_runs", "new_run_id", "now", "save_run"]

RunStatus = Literal["running", "succeeded", "failed", "interrupted"]
StepStatus = Literal["running", "retrying", "succeeded", "failed", "cached", "reused", "skipped"]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def new_run_id() -> str:
    """Sortable by start time, unique: ``20261122-171512-3f9a``."""
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


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
        return f"{self.map_path}/{self.state}" if self.map_path else self.state


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
    target: str = "local"  # where it ran: local | localstack | aws
    trigger: str = "manual"  # what started it, in words (compiler.protocol.trigger_text)
    resumed: int = 0  # how many times it was resumed
    transitions: int | None = None  # states entered (what Standard workflows are billed by); None: not known
    steps: dict[str, StepRecord] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        return run_prefix(self.workflow, self.run_id) + "run.json"


def save_run(record: RunRecord, store: ArtifactStore) -> None:
    store.write(record.key, record.model_dump_json(indent=2).encode())


def list_runs(store: ArtifactStore, workflow: str | None = None) -> list[RunRecord]:
    """Every recorded run (of ``workflow``), newest first."""
    prefix = f"runs/{workflow}/" if workflow else "runs/"
    records = []
    for key in store.keys(prefix):
        parts = key.split("/")
        if len(parts) == 4 and parts[3] == "run.json":
            try:
                records.append(RunRecord.model_validate_json(store.read(key)))
            except (ValueError, NotFoundError):
                continue  # a record being written, or not ours
    return sorted(records, key=lambda r: r.started, reverse=True)


def find_run(store: ArtifactStore, run_id: str) -> RunRecord | None:
    """The run with this id (or the only one whose id starts with it)."""
    matches = [r for r in list_runs(store) if r.run_id == run_id]
    if not matches:
        matches = [r for r in list_runs(store) if r.run_id.startswith(run_id)]
    return matches[0] if len(matches) == 1 else None


def dumps(record: RunRecord) -> str:
    return json.dumps(record.model_dump(mode="json"), indent=2)
