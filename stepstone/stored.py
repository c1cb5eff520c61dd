"""A run's values, read back: what each step returned (the DataFrames, arrays, models and
files carried by reference, and the JSON around them) and the files it saved, on any
target (``stepstone artifacts``, ``stepstone.load``).

A step's output is found where the run left it: the envelope its state held (kept in the
run record), read from the store when it was stored, or a Batch step's output key. Each
reference in it is read from the run's own store only (under ``runs/``) and
checked against its content hash before it is decoded, so a pickle is unpickled only when
its bytes are the ones the step wrote.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.dsl.decorated import import_ref
from compiler.dsl.steps import StepDef
from compiler.protocol import (
    RUNS_PREFIX,
    Lineage,
    ValuePath,
    ValueRef,
    attempt_prefix,
    content_hash,
    output_key,
    value_refs,
)
from compiler.protocol.codecs import FILE, FOLDER
from lambdas.codecs import load_value, materialize, verify
from lambdas.envelope import read_envelope
from lambdas.store import ArtifactStore

from .errors import NoSuchValueError
from .records import RunRecord, StepRecord

__all__ = ["StoredEntry", "entries", "fetch", "label", "load_output", "step_lineage", "step_records"]

_EMPTY: Any = inspect.Parameter.empty  # no annotation: values by their own codecs, records as dicts


@dataclass(frozen=True)
class StoredEntry:
    """One stored value or file of a run: the step (``[<map_path>/]<state>``), where it sits
    in the step's output (``model.pipeline``; ``""`` for the whole output; a file's name for
    a file the step saved), and its reference."""

    step: str
    path: str
    ref: ValueRef
    saved: bool = False  # a file the step saved with save_artifact (not part of its output)


def step_records(record: RunRecord, step: str | None) -> list[tuple[str, StepRecord]]:
    """The run's steps that finished with an output, or those ``step`` names (a state, a
    step's name, or one fan-out item's key), in the run's order."""
    done = [(key, s) for key, s in record.steps.items() if s.status in ("succeeded", "cached", "reused")]
    if step is None:
        return done
    chosen = [(key, s) for key, s in done if step in (key, s.state, s.step)]
    if not chosen:
        known = sorted({s.state for _, s in done})
        raise NoSuchValueError(f"run {record.run_id} has no finished step {step!r}",
                               hint=f"its steps with outputs: {', '.join(known) or 'none'}")
    return chosen


def _skeleton(record: RunRecord, key: str, step: StepRecord, store: ArtifactStore) -> Any:
    if step.batch:
        return json.loads(store.read(output_key(record.workflow, record.run_id, step.state, step.map_path)))
    return read_envelope(step.envelope, store)


def _dotted(path: ValuePath) -> str:
    return ".".join(str(p) for p in path)


def step_lineage(record: RunRecord, step: StepRecord, store: ArtifactStore) -> Lineage | None:
    """The lineage of the step's last attempt (None when it left none: a step of an older run)."""
    prefix = attempt_prefix(record.workflow, record.run_id, step.state, max(step.attempts - 1, 0), step.map_path)
    try:
        return Lineage.decode(store.read(prefix + "lineage.json"))
    except Exception:
        return None


def _saved_files(record: RunRecord, step: StepRecord, store: ArtifactStore) -> Iterator[tuple[str, ValueRef]]:
    lineage = step_lineage(record, step, store)
    for key in (lineage.files or ()) if lineage is not None else ():
        data = store.read(key)
        name = key.rsplit("/", 1)[-1]
        yield name, ValueRef(key=key, codec=FILE, media_type="application/octet-stream",
                             hash=content_hash(data), bytes=len(data), type="file", name=name)


def entries(record: RunRecord, store: ArtifactStore, step: str | None = None) -> list[StoredEntry]:
    """Every value a codec carried by reference and every file saved, of the run (or of ``step``)."""
    found: list[StoredEntry] = []
    for key, chosen in step_records(record, step):
        skeleton = _skeleton(record, key, chosen, store)
        found.extend(StoredEntry(key, _dotted(path), ref) for path, ref in value_refs(skeleton))
        found.extend(StoredEntry(key, name, ref, saved=True) for name, ref in _saved_files(record, chosen, store))
    return found


def _annotation(record: RunRecord, step: StepRecord, store: ArtifactStore) -> Any:
    """The step's return annotation, when its module (named in its lineage) imports here: a
    notebook beside the project; otherwise none: values come back by their own codecs,
    records as dicts."""
    lineage = step_lineage(record, step, store)
    try:
        found = import_ref(lineage.step) if lineage is not None and ":" in lineage.step else None
    except Exception:  # the project is not importable here
        return _EMPTY
    return found.return_annotation if isinstance(found, StepDef) else _EMPTY


def load_output(record: RunRecord, store: ArtifactStore, step: str) -> Any:
    """What ``step`` returned in the run, decoded (a fan-out's step: the list of its items'
    outputs, in item order)."""
    chosen = step_records(record, step)
    values = []
    for key, found in chosen:
        annotation = _annotation(record, found, store)
        skeleton = _skeleton(record, key, found, store)
        values.append(load_value(skeleton, annotation, store=store, within=RUNS_PREFIX))
    return values[0] if len(chosen) == 1 and chosen[0][1].map_path is None else values


def label(entry: StoredEntry) -> str:
    """How ``stepstone artifacts get`` names a value: ``STEP`` (the output), ``STEP.FIELD``, or a
    saved file's ``STEP/NAME``; STEP is the step's key (a fan-out item's: ``for_x_in_xs/0/train``)."""
    if entry.saved:
        return f"{entry.step}/{entry.path}"
    return f"{entry.step}.{entry.path}" if entry.path else entry.step


def fetch(record: RunRecord, store: ArtifactStore, spec: str, into: Path) -> tuple[StoredEntry, Path]:
    """Download one stored value (``STEP`` or ``STEP.FIELD``, a saved file's ``STEP/NAME``) to
    ``into``, checked against its hash: a file or folder as itself, any other value as its
    codec's bytes (``.parquet``, ``.npy``, ``.pkl``)."""
    candidates = entries(record, store)
    wanted = [e for e in candidates if label(e) == spec]
    if len(wanted) != 1:
        listed = ", ".join(label(e) for e in candidates)
        raise NoSuchValueError(f"run {record.run_id} has no stored value {spec!r}",
                               hint=f"its stored values: {listed or 'none'} (stepstone artifacts {record.run_id})")
    entry = wanted[0]
    if entry.ref.codec in (FILE, FOLDER) and not entry.saved:
        target = into if not into.is_dir() else into / (entry.ref.name or Path(entry.ref.key).name)
        local = materialize(entry.ref, store, into=Path(os.path.dirname(os.path.abspath(target))))
        if local.path != target.resolve():
            local.path.replace(target)
        return entry, target
    data = store.read(entry.ref.key)
    verify(data, key=entry.ref.key, expected_hash=entry.ref.hash)
    target = into / Path(entry.ref.key).name if into.is_dir() else into
    target.write_bytes(data)
    return entry, target
