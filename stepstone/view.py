"""What a person sees of a run: a live view while it runs, and the per-step table after.

On a terminal, a live table shows each step as it starts, retries, succeeds or fails;
elsewhere (CI, pipes) each change is one line. Tables fit 80 columns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from compiler.protocol import ValueRef, is_value_ref, value_refs

from .records import Event, RunRecord, StepRecord

__all__ = ["MARKS", "STYLES", "LiveView", "duration_text", "kept", "run_summary", "size_text", "steps_table"]

STYLES = {
    "running": "yellow", "retrying": "bold yellow", "succeeded": "green", "cached": "cyan", "reused": "cyan",
    "failed": "bold red", "skipped": "dim", "interrupted": "bold red",
}
MARKS = {"running": "…", "retrying": "↻", "succeeded": "✓", "cached": "✓", "reused": "✓", "failed": "✗",
         "skipped": "-"}


def size_text(size: int | None) -> str:
    if size is None:
        return ""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return ""


def duration_text(ms: float | None) -> str:
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms:.0f} ms"
    seconds = ms / 1000
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _name(step: StepRecord, width: int = 30) -> str:
    key = step.key
    return key if len(key) <= width else "…" + key[-(width - 1):]


def _refs(step: StepRecord) -> list[ValueRef]:
    value = step.envelope.get("value") if isinstance(step.envelope, dict) else None
    return [ref for _, ref in value_refs(value)] if isinstance(value, (dict, list)) else []


def kept(step: StepRecord, record: RunRecord) -> str:
    """Where a step's output is: inline (in the state), stored (in the artifact store), or,
    for values a codec carries by reference (a DataFrame, a model), in the store by that
    codec (``parquet``, ``pickle+parquet``)."""
    if step.batch:
        return "stored (Batch*)" if record.batch_as_lambda else "stored (Batch)"
    if step.stored:
        return "stored"
    refs = _refs(step)
    if refs:
        return "+".join(sorted({ref.codec for ref in refs}))
    return "inline" if step.status in ("succeeded", "cached", "reused") else ""


def output_size(step: StepRecord) -> int | None:
    """The output's size: what the state holds of it and the values it names in the store."""
    if step.output_bytes is None:
        return None
    return step.output_bytes + sum(ref.bytes for ref in _refs(step))


def shown(value: Any) -> Any:
    """A value as a person reads it: each stored value (a reference) as ``<DataFrame: parquet,
    18.4 KB>``; ``stepstone artifacts RUN`` lists them, ``stepstone.load`` reads them."""
    if is_value_ref(value):
        ref = ValueRef.decode(value)
        return f"<{ref.type.rsplit('.', 1)[-1]}: {ref.codec}, {size_text(ref.bytes)}>"
    if isinstance(value, dict):
        return {key: shown(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shown(item) for item in value]
    return value


def in_item_order(steps: list[StepRecord]) -> list[StepRecord]:
    """Steps in the order they started, except that a fan-out's items are listed by their
    index (item 2 may start before item 1, and does on Step Functions), each fan-out where
    its first item started."""

    def shape(step: StepRecord) -> tuple[str, tuple[str, ...]]:
        parts = (step.map_path or "").split("/")
        return step.state, tuple("#" if part.isdigit() else part for part in parts)

    def indices(step: StepRecord) -> tuple[int, ...]:
        return tuple(int(part) for part in (step.map_path or "").split("/") if part.isdigit())

    first: dict[tuple[str, tuple[str, ...]], int] = {}
    for position, step in enumerate(steps):
        first.setdefault(shape(step), position)
    return sorted(steps, key=lambda step: (first[shape(step)], indices(step)))


def steps_table(record: RunRecord) -> Table:
    """One row per step (per fan-out item): status, attempts, time, output size, where it is."""
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("step", no_wrap=True, max_width=30)
    table.add_column("status", no_wrap=True)
    table.add_column("tries", justify="right")
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("output", justify="right", no_wrap=True)
    table.add_column("kept", no_wrap=True)
    for step in in_item_order(list(record.steps.values())):
        style = STYLES.get(step.status, "")
        status = Text(f"{MARKS.get(step.status, '')} {step.status}", style=style)
        table.add_row(_name(step), status, str(step.attempts or ""), duration_text(step.duration_ms),
                      size_text(output_size(step)), kept(step, record))
    return table


def run_summary(record: RunRecord, store_location: str) -> Group:
    style = STYLES.get(record.status, "")
    lines: list[Any] = [steps_table(record), Text("")]
    head = Text.assemble(("run ", "bold"), (record.run_id, "bold"), f"  {record.workflow}  ",
                         (record.status, style), f"  {duration_text(record.duration_ms)}")
    lines.append(head)
    if record.error:
        lines.append(Text.assemble(("error: ", "bold red"), f"{record.failed_state}: {record.error}: ",
                                   (record.cause or "")[:300]))
    elif record.output is not None:
        value = record.output.get("value") if isinstance(record.output, dict) else record.output
        if value is not None:
            lines.append(Text.assemble(("output: ", "bold"), escape(str(shown(value)))[:300]))
    lines.append(Text(f"artifacts: {store_location}", style="dim"))
    if record.batch_as_lambda and any(s.batch for s in record.steps.values()):
        lines.append(Text(f"* an AWS Batch step; {record.where} has no Batch, so it ran as a Lambda function",
                          style="dim"))
    return Group(*lines)


class LiveView:
    """Receives a run's events; draws them live on a terminal, or as lines elsewhere."""

    def __init__(self, console: Console, *, live: bool) -> None:
        self.console = console
        self.live_enabled = live
        self.lock = threading.Lock()
        self._live: Live | None = None
        self._record: RunRecord | None = None
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        with self.lock:
            if event.record.parent is None:
                self._record = event.record
            if self._live is not None:
                if time.monotonic() - self._last > 0.1 or event.kind == "run":
                    self._refresh()
                return
            if event.kind == "step" and event.step is not None:
                step = event.step
                if step.status == "running" and step.attempts > 1:
                    return  # the retrying line said it
                note = f" ({event.note})" if event.note else ""
                detail = ""
                if step.status in ("succeeded", "cached"):
                    detail = f" in {duration_text(step.duration_ms)}, {size_text(step.output_bytes)}"
                elif step.status == "failed":
                    detail = f": {step.error}: {(step.cause or '')[:200]}"
                elif step.status == "retrying":
                    detail = f" after {step.error}"
                self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] "
                                   f"{escape(event.record.workflow)}/{escape(step.key)} "
                                   f"[{STYLES.get(step.status, '')}]{step.status}[/]{escape(detail)}{escape(note)}")

    @property
    def run_id(self) -> str | None:
        """The id of the run shown (the top-level one)."""
        return self._record.run_id if self._record is not None else None

    def _refresh(self) -> None:
        self._last = time.monotonic()
        if self._live is not None and self._record is not None:
            self._live.update(steps_table(self._record))

    @contextmanager
    def running(self) -> Iterator[LiveView]:
        if not self.live_enabled:
            yield self
            return
        with Live(console=self.console, refresh_per_second=8, transient=True) as live:
            self._live = live
            try:
                yield self
            finally:
                self._live = None

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop drawing while someone answers a prompt."""
        live = self._live
        if live is None:
            yield
            return
        live.stop()
        try:
            yield
        finally:
            live.start()
