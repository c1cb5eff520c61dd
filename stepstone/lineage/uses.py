"""Which runs used a value or a file: ``stepstone lineage --input HASH|S3URI``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.protocol import ValueRef
from lambdas.store import ArtifactStore

from ..errors import TargetError
from .graph import build_graph
from .model import Graph, OutputNode, ParamNode, StepNode, ValueNode

if TYPE_CHECKING:
    from ..targets.base import Target

__all__ = ["Needle", "Use", "find_uses", "parse_needle"]

_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True, slots=True)
class Needle:
    """What ``stepstone lineage --input`` looks for: a content hash (or its start), or a key
    (of a stored value, or of the file an S3 trigger started a run with) and its bucket."""

    hash: str | None = None  # sha256:<hex>, 8 to 64 digits
    key: str | None = None
    bucket: str | None = None


def parse_needle(text: str) -> Needle:
    """``sha256:<hex>`` or 8+ hex digits, ``s3://BUCKET/KEY``, or a key; ValueError otherwise."""
    text = text.strip()
    if text.startswith("s3://"):
        bucket, _, key = text[5:].partition("/")
        if not bucket or not key:
            raise ValueError(f"{text!r} names no object: an S3 URI is s3://BUCKET/KEY")
        return Needle(key=key, bucket=bucket)
    digits = text.removeprefix("sha256:").lower()
    if text.startswith("sha256:") or _HEX.fullmatch(digits):
        if not _HEX.fullmatch(digits) or not 8 <= len(digits) <= 64:
            raise ValueError(f"{text!r} is not a content hash: sha256: and 64 hex digits, or at least the first 8")
        return Needle(hash="sha256:" + digits)
    if not text:
        raise ValueError("give a content hash, an s3:// URI or a key")
    return Needle(key=text)


@dataclass(frozen=True, slots=True)
class Use:
    """A step of a run that read what was looked for, and what it made."""

    run: str
    workflow: str
    step: str  # its key; "" when only the run's trigger names the file
    input: str  # the input's name ("trigger": the run's)
    found: str  # what matched: the value's content hash or key, or the parameter's name
    produced: tuple[ValueRef, ...]  # the values it stored by reference
    output: str  # the content hash of its JSON output ("" when its whole output is one stored value)


def _trigger_key(graph: Graph) -> tuple[str, str] | None:
    if not graph.trigger.startswith("s3://"):
        return None
    bucket, _, key = graph.trigger[5:].partition("/")
    return bucket, key


def _matches(graph: Graph, needle: Needle, store: ArtifactStore) -> dict[str, str]:
    """The graph's nodes that are what ``needle`` names -> what matched."""
    found: dict[str, str] = {}
    for node in graph.nodes.values():
        if needle.hash is not None:
            digest = node.ref.hash if isinstance(node, ValueNode) else "" if isinstance(node, StepNode) else node.hash
            if digest and digest.startswith(needle.hash):
                found[node.id] = digest
        elif isinstance(node, ValueNode) and node.ref.key == needle.key:
            if needle.bucket is None or not store.location("").startswith("s3://") or \
                    store.location(node.ref.key) == f"s3://{needle.bucket}/{needle.key}":
                found[node.id] = node.ref.key
        elif isinstance(node, ParamNode) and (node.value == f"s3://{needle.bucket}/{needle.key}" or (
                node.value == needle.key and _in_bucket(graph, needle.bucket))):
            found[node.id] = node.name
    return found


def _in_bucket(graph: Graph, bucket: str | None) -> bool:
    """Whether the run's file can be in ``bucket``: its trigger's, or one a parameter names."""
    trigger = _trigger_key(graph)
    return bucket is None or (trigger is not None and trigger[0] == bucket) or any(
        isinstance(n, ParamNode) and n.value == bucket for n in graph.nodes.values())


def _uses(graph: Graph, needle: Needle, store: ArtifactStore) -> list[Use]:
    def use(step: str, name: str, found: str) -> Use:
        node = graph.nodes[step]
        assert isinstance(node, StepNode)
        made = [graph.nodes[e.target] for e in graph.out_of(step) if e.how == "made"]
        return Use(graph.run, graph.workflow, node.key, name, found,
                   tuple(n.ref for n in made if isinstance(n, ValueNode)),
                   next((n.hash for n in made if isinstance(n, OutputNode)), ""))

    matched = _matches(graph, needle, store)
    found = [use(e.target, e.label, matched[e.source]) for e in graph.edges
             if e.source in matched and e.how != "made"]
    if needle.hash is not None:
        found += [use(u.step, u.input, u.hash) for u in graph.unlinked if u.hash.startswith(needle.hash)]
    trigger = _trigger_key(graph)
    if not found and needle.key is not None and trigger is not None and trigger[1] == needle.key and \
            needle.bucket in (None, trigger[0]):
        found = [Use(graph.run, graph.workflow, "", "trigger", graph.trigger, (), "")]
    unique = {(u.step, u.input): u for u in found}
    order = {n.key: i for i, n in enumerate(graph.steps())}
    return sorted(unique.values(), key=lambda u: (order.get(u.step, -1), u.input))


def find_uses(target: Target, needle: str, *, limit: int = 50) -> list[Use]:
    """The steps of the newest ``limit`` runs that read ``needle``, and what each made: which
    models were trained on this file. ``needle`` is a content hash (``sha256:<hex>``, or its
    first 8 or more hex digits), a stored value's key or ``s3://`` URI, or the S3 file a run's
    trigger or a parameter names. A file is found in a run by its key and bucket; a value by its
    content too (the same DataFrame stored by two runs has one hash).

    What it costs: every run it looks at is read as :func:`build_graph` reads it: its record
    and the lineage record of each step's last attempt, one read each (an S3 GET on AWS), so
    ``limit`` bounds it. ValueError when ``needle`` is none of these; TargetError when a hash's
    start names several values.
    """
    wanted = parse_needle(needle)
    uses: list[Use] = []
    for summary in target.runs(limit=limit):
        record = target.record(summary.run)
        store = target.value_store(record)
        uses += _uses(build_graph(record, store), wanted, store)
    hashes = {u.found for u in uses if u.found.startswith("sha256:")}
    if wanted.hash is not None and len(hashes) > 1:
        raise TargetError(f"{needle} is the start of {len(hashes)} content hashes",
                          hint="give more of it: " + ", ".join(sorted(h[7:19] for h in hashes)))
    return uses
