"""The local target's engine: workflows run in this process, artifacts in a local folder (``.stepstone/``)."""

from __future__ import annotations

from .executor import LocalRun, RunResult
from .options import ExecutorOptions
from .records import find_run, list_runs

__all__ = ["ExecutorOptions", "LocalRun", "RunResult", "find_run", "list_runs"]
