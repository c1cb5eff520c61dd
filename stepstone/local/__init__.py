"""The local target: workflows run in this process, artifacts in a local folder (``.stepstone/``)."""

from __future__ import annotations

from .executor import Event, LocalRun, RunFailure, RunResult
from .records import RunRecord, StepRecord, find_run, list_runs, new_run_id

__all__ = ["Event", "LocalRun", "RunFailure", "RunRecord", "RunResult", "StepRecord", "find_run", "list_runs",
           "new_run_id"]
