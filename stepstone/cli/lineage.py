"""``stepstone lineage``: what went into a run's values and came out of them, and which runs
used a value or a file."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict

import click

from ..console import EXIT_FAILED, fail, out
from ..lineage import build_graph, dataset_namespace, find_uses, openlineage_events, parse_needle
from ..lineage.view import lineage_mermaid, lineage_tree, uses_table
from . import main
from .targets import home_option, opened, target_errors, target_option

__all__ = ["lineage"]

FORMATS = ("tree", "mermaid", "json", "openlineage")


@main.command()
@click.argument("run_id", metavar="[RUN]", required=False)
@click.option("--input", "needle", metavar="HASH|S3URI|KEY",
              help="Instead of a run: the runs and steps that read this value or file (a content hash, sha256:... or "
                   "its first 8+ hex digits; an s3:// URI; a stored value's key).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
              help="RUN: tree (default), mermaid (a flowchart), json (the graph) or openlineage (one RunEvent a "
                   "line); --input: a table (default) or json.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="With --input: how many of the newest runs to look through (each one's lineage records are read).")
@click.option("--namespace", default="stepstone", show_default=True,
              help="With --format openlineage: the OpenLineage namespace of the jobs.")
@home_option
@target_option
def lineage(run_id: str | None, needle: str | None, fmt: str | None, limit: int, namespace: str, home: str | None,
            target: str) -> None:
    """What went into a run's values and what came out: each step with what it read (the
    value, its codec, size and content hash, and the step or parameter it came from) and what
    it made. With --input instead of a run: the runs and steps that read a value or a file.

    \b
    Examples:
      stepstone lineage 20261207-174902-7fe37d5d                        the run's provenance, a tree
      stepstone lineage 20261207-174902-7fe37d5d --format mermaid       the same as a flowchart
      stepstone lineage --input sha256:f6aa690efd3a                     which runs read this value
      stepstone lineage --input s3://raw-data/sales/day.csv --limit 500 which models were trained on this file
    Into Marquez (its API takes one event a request):
      stepstone lineage RUN --format openlineage | while read -r e; do
        curl -s -H 'Content-Type: application/json' -d "$e" http://localhost:5000/api/v1/lineage; done
    A value is known by its content: the same DataFrame stored by two runs has one hash. With
    --input the exit code is 1 when no step of the runs looked through read it.
    """
    if (run_id is None) == (needle is None):
        fail("give a RUN or --input HASH|S3URI, not both" if run_id else "give a RUN, or --input HASH|S3URI",
             hint="stepstone lineage RUN draws a run's provenance; stepstone lineage --input HASH lists the runs "
                  "that used a value")
    if needle is not None:
        _uses(needle, fmt, limit, home, target)
        return
    assert run_id is not None
    where = opened(target, home)
    with target_errors(where):
        record = where.record(run_id)
        store = where.value_store(record)
        graph = build_graph(record, store)
    if fmt == "json":
        sys.stdout.write(json.dumps(graph.to_json(), indent=2) + "\n")
    elif fmt == "mermaid":
        sys.stdout.write(lineage_mermaid(graph))
    elif fmt == "openlineage":
        for event in openlineage_events(record, graph, datasets=dataset_namespace(store), namespace=namespace):
            sys.stdout.write(json.dumps(event) + "\n")
    else:
        out.print(lineage_tree(graph), soft_wrap=False)  # a long line wraps under its branch


def _uses(needle: str, fmt: str | None, limit: int, home: str | None, target: str) -> None:
    if fmt not in (None, "json"):
        fail(f"--format {fmt} draws one run; --input lists runs as a table, or as json",
             hint=f"stepstone lineage --input {needle} [--format json]")
    try:
        parse_needle(needle)
    except ValueError as exc:
        fail(str(exc), hint="a hash as `stepstone artifacts RUN` shows it (12 digits do), an s3:// URI, or a key")
    where = opened(target, home)
    with target_errors(where):
        uses = find_uses(where, needle, limit=limit)
    if fmt == "json":
        sys.stdout.write(json.dumps([{**asdict(u), "produced": [asdict(r) for r in u.produced]} for u in uses],
                                    indent=2) + "\n")
    elif uses:
        out.print(uses_table(uses))
    if not uses:
        check = ("the hash (stepstone artifacts RUN lists each value's)" if parse_needle(needle).hash else
                 "the key: a file is found by the key a run's trigger or one of its parameters gave")
        fail(f"no step of the newest {limit} runs {where.runs_place} read {needle}",
             hint=f"look further back with --limit N, or check {check}", code=EXIT_FAILED)
