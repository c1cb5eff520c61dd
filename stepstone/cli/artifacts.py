"""``stepstone artifacts``: a run's stored values and files, listed and downloaded."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from lambdas.errors import CodecError, CorruptValueError

from ..console import EXIT_FAILED, fail, out
from ..stored import StoredEntry, entries, fetch
from ..view import size_text
from . import main
from .targets import home_option, opened, target_errors, target_option

__all__ = ["artifacts"]


class _ListByDefault(click.Group):
    """``stepstone artifacts RUN [STEP]`` lists; ``stepstone artifacts get ...`` downloads."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["list", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_ListByDefault)
def artifacts() -> None:
    """A run's stored values (DataFrames, arrays, models, files) and the files its steps saved.

    \b
    Examples:
      stepstone artifacts 20261207-174902-7fe37d5d                  every value, with type, size, hash
      stepstone artifacts 20261207-174902-7fe37d5d train_model      one step's
      stepstone artifacts get 20261207-174902-7fe37d5d train_model.pipeline -o model.pkl
      stepstone artifacts get 20261207-174902-7fe37d5d release_model/model.pkl -o .
    In Python (a notebook): stepstone.load("20261207-174902-7fe37d5d", "train_model").
    """


def _row(entry: StoredEntry) -> dict[str, Any]:
    ref = entry.ref
    return {"step": entry.step, "value": entry.path, "saved": entry.saved, "type": ref.type, "codec": ref.codec,
            "media_type": ref.media_type, "bytes": ref.bytes, "hash": ref.hash, "key": ref.key}


@artifacts.command("list")
@click.argument("run_id")
@click.argument("step", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the values as JSON: one object each.")
@home_option
@target_option
def list_values(run_id: str, step: str | None, as_json: bool, home: str | None, target: str) -> None:
    """List a run's stored values (or one step's): step, value, type, codec, size, hash."""
    where = opened(target, home)
    with target_errors(where):
        record = where.record(run_id)
        found = entries(record, where.value_store(record), step)
    if as_json:
        sys.stdout.write(json.dumps([_row(e) for e in found], indent=2) + "\n")
        return
    if not found:
        out.print(f"run {escape(record.run_id)} stored no values by reference and saved no files: its steps' "
                  f"outputs are JSON (stepstone show {escape(record.run_id)})")
        return
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 2, 0, 0))
    for name, right in (("step", False), ("value", False), ("type", False), ("codec", False), ("size", True),
                        ("hash", False)):
        table.add_column(name, no_wrap=True, justify="right" if right else "left")
    for entry in found:
        value = (f"{entry.path} (saved)" if entry.saved else entry.path) or "(output)"
        table.add_row(escape(entry.step), escape(value), escape(entry.ref.type.rsplit(".", 1)[-1]),
                      entry.ref.codec, size_text(entry.ref.bytes), entry.ref.hash.removeprefix("sha256:")[:12])
    out.print(table)
    out.print(f"[dim]stepstone artifacts get {escape(record.run_id)} STEP[.FIELD] -o PATH downloads one[/dim]")


@artifacts.command("get")
@click.argument("run_id")
@click.argument("value")
@click.option("-o", "--output", "into", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Where to write it: a file, or a folder to write it into under its own name.")
@home_option
@target_option
def get_value(run_id: str, value: str, into: Path, home: str | None, target: str) -> None:
    """Download one stored value: STEP (the whole output), STEP.FIELD, or STEP/NAME (a saved file).

    A file or folder comes back as itself; a DataFrame as Parquet, an array as .npy, a model
    as its pickle. Its bytes are checked against the hash the step recorded first.
    """
    where = opened(target, home)
    with target_errors(where):
        record = where.record(run_id)
        try:
            entry, written = fetch(record, where.value_store(record), value, into)
        except CorruptValueError as exc:
            fail(str(exc), hint="the stored bytes are not the ones the step wrote: run the step again "
                                "(stepstone redrive, or a new run)", code=EXIT_FAILED)
        except CodecError as exc:
            fail(str(exc))
    out.print(f"{escape(str(written))}  {entry.ref.codec}  {size_text(entry.ref.bytes)}  {entry.ref.hash}")
