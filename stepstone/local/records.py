"""Where the local target keeps its run records: beside each run's artifacts, at
``runs/<workflow>/<run>/run.json``, rewritten (atomically) as the run goes, so an
interrupted run leaves a consistent record that ``stepstone show`` can read and
``stepstone redrive`` can continue.
"""

from __future__ import annotations

from lambdas.errors import NotFoundError
from lambdas.store import ArtifactStore

from ..records import RunRecord

__all__ = ["find_run", "list_runs", "save_run"]


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
