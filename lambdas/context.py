"""The running step's context: which run, step and attempt the code runs in, and where
the files it makes go. The step runner sets it around every call of a step's function.

- :func:`running_step` tells a step where it runs (for idempotency keys and logs);
- ``save_artifact("model.json", data)`` inside a step stores the file next to the step's
  output in the run's artifacts (the S3 bucket in AWS, ``.stepstone/`` locally) and returns
  where it is; the step's lineage record lists it. Called outside a run (the workflow
  function run as plain Python), it writes under ``$STEPSTONE_HOME/files/`` (``.stepstone``).
"""

from __future__ import annotations

import os
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from compiler.dsl.secrets import SecretRef

__all__ = ["RunningStep", "StepContext", "current_step", "running_step", "save_artifact"]

_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")


class _Sink(Protocol):
    def write(self, key: str, data: bytes, *, if_absent: bool = False) -> bool: ...

    def location(self, key: str) -> str: ...


@dataclass(frozen=True)
class RunningStep:
    """Which run, step and attempt the code is running in (what [`running_step()`][stepstone.running_step] returns).

    Attributes:
        workflow: The workflow's name.
        run: The run's id, as ``stepstone runs`` shows it.
        state: The step's name in the workflow (a step called twice has two).
        attempt: 0 the first time, 1 on the first retry, and so on.
        map_path: Inside a fan-out, which item this is; ``None`` outside one.
    """

    workflow: str
    run: str
    state: str  # the step's name in the workflow (a step called twice has two)
    attempt: int  # 0 the first time, 1 on the first retry, ...
    map_path: str | None = None  # which fan-out item, inside a fan-out


@dataclass
class StepContext:
    """Set by the step runner while a step runs."""

    sink: _Sink
    prefix: str  # the attempt's folder in the artifact store
    written: list[str] = field(default_factory=list)
    step: RunningStep | None = None
    secrets: tuple[SecretRef, ...] = ()  # what the step declares in @step(secrets=[...]): all it may read


_CURRENT: ContextVar[StepContext | None] = ContextVar("stepstone_step", default=None)


def current_step() -> ContextVar[StepContext | None]:
    return _CURRENT


def running_step() -> RunningStep | None:
    """The run, step and attempt this code runs in, or ``None`` outside a run.

    Call it inside a step. It is ``None`` when the step's function is called as plain
    Python (a test, or the workflow function called directly). Useful for idempotency keys
    (one per run and step, the same on every retry) and for logs.

    Returns:
        A [`RunningStep`][lambdas.context.RunningStep], or ``None`` outside a run.

    Example:
        ```python
        @step(retry=Retry(attempts=3, on=[WarehouseBusy]))
        def load(batch: Batch) -> Summary:
            where = running_step()
            log.info("loading", extra={"run": where and where.run, "attempt": where and where.attempt})
        ```
    """
    context = _CURRENT.get()
    return context.step if context is not None else None


def save_artifact(name: str, data: bytes | str) -> str:
    """Store a file the running step made, next to the step's output in the run's artifacts.

    Deployed, it goes to the artifact bucket in S3; on the local target, under
    ``.stepstone/``; the step's lineage record lists it. Called outside a run (the step's
    function called as plain Python), it is written under ``$STEPSTONE_HOME/files/``
    (``.stepstone/files/``).

    Args:
        name: The file's name, letters, digits, ``.``, ``_`` and ``-``, with ``/`` between
            folders (no ``..``): ``"plots/roc.png"``.
        data: The file's contents; text is stored as UTF-8.

    Returns:
        Where it was stored, a local path or an ``s3://`` URI.

    Raises:
        ValueError: The name is not one the store can use.

    Example:
        ```python
        @step
        def evaluate(model: Model) -> Evaluation:
            report = render_report(model)
            uri = save_artifact("report.html", report)
            return Evaluation(auc=0.91, report_uri=uri)
        ```
    """
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name.split("/"):
        raise ValueError(f"artifact name {name!r}: use letters, digits, '.', '_', '-' and '/' (no '..')")
    payload = data.encode() if isinstance(data, str) else bytes(data)
    context = _CURRENT.get()
    if context is None:
        path = Path(os.environ.get("STEPSTONE_HOME", ".stepstone")) / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(payload)
        return str(path)
    key = f"{context.prefix}files/{name}"
    context.sink.write(key, payload)
    context.written.append(key)
    return context.sink.location(key)
