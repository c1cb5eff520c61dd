"""A run's provenance graph, built from its steps' lineage records; how an input is linked to
what made it is told in the package's docstring (``stepstone.lineage``)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from typing import Any, TypeAlias

from compiler.protocol import (
    InputInfo,
    Lineage,
    ValueRef,
    by_content,
    canonical,
    content_hash,
    is_value_ref,
    output_key,
    run_prefix,
    step_key,
)
from lambdas.store import ArtifactStore

from ..records import RunRecord
from ..stored import step_lineage
from .model import Edge, Graph, How, Node, OutputNode, ParamNode, StepNode, Unlinked, ValueNode

__all__ = ["build_graph"]

JSON: TypeAlias = Any
_ATTEMPT = re.compile(r"^(runs/.+?/attempt-\d+/)values/")  # the attempt a stored value's key names
_FIELD_DEPTH = 3  # how deep into an inline output its fields are hashed


def _fields(value: JSON, depth: int = _FIELD_DEPTH) -> Iterator[JSON]:
    if depth == 0 or is_value_ref(value):
        return
    for item in value.values() if isinstance(value, Mapping) else value if isinstance(value, list) else ():
        yield item
        yield from _fields(item, depth - 1)


def _hash(value: JSON) -> str:
    return content_hash(canonical(by_content(value)))


def _item(map_path: str) -> tuple[str, int]:
    """A fan-out item's fan-out and position: ``a/0/b/3`` -> (``a/0/b``, 3)."""
    fan_out, _, index = map_path.rpartition("/")
    return fan_out, int(index) if index.isdigit() else 0


class _Builder:
    def __init__(self, record: RunRecord, store: ArtifactStore) -> None:
        self.record, self.store = record, store
        self.nodes: dict[str, Node] = {}
        self.edges: dict[tuple[str, str, str], Edge] = {}
        self.unlinked: list[Unlinked] = []
        self.by_key: dict[str, str] = {}  # a stored value's key -> its node
        self.by_ref: dict[str, str] = {}  # a stored output's key -> its step's output node
        self.outputs: dict[str, str] = {}  # a step's node -> its output's (a JSON output, or its one stored value)
        self.by_hash: dict[str, list[tuple[str, str, How]]] = defaultdict(list)  # -> (output, its step, how)
        self.gathered: dict[str, list[str]] = {}  # hash of an inline fan-out's results -> its items' outputs
        self.results: dict[str, list[str]] = {}  # where a fan-out's results are -> its items' outputs
        self.attempts: dict[str, Lineage | None] = {}  # another run's attempt prefix -> its lineage
        self.made_by: dict[str, str] = {}  # a value's or output's node -> its step's

    def build(self) -> Graph:
        records = [(key, found) for key, step in self.record.steps.items()
                   if (found := step_lineage(self.record, step, self.store)) is not None and found.status != "running"]
        for name, value in self.record.params.items():
            self.nodes[f"param:{name}"] = ParamNode(f"param:{name}", name, value, content_hash(canonical(value)))
        for _, lineage in records:
            self.producer(lineage)
        self.fan_outs(records)
        for key, lineage in records:
            for name, info in lineage.inputs.items():
                self.link(f"step:{key}", lineage, name, info)
        return Graph(self.record.run_id, self.record.workflow, self.record.trigger, dict(self.nodes),
                     tuple(self.edges.values()), tuple(self.unlinked))

    def edge(self, source: str, target: str, label: str, how: How) -> None:
        self.edges.setdefault((source, target, label), Edge(source, target, label, how))
        if how == "made":
            self.made_by[target] = source

    def inline(self, key: str) -> tuple[bool, JSON]:
        """A step's output as the run record holds it, when it was inline."""
        step = self.record.steps.get(key)
        if step is None or step.batch or not isinstance(step.envelope, Mapping) or step.envelope.get("ref"):
            return False, None
        return True, step.envelope.get("value")

    def producer(self, lineage: Lineage) -> None:
        key = step_key(lineage.state, lineage.map_path)
        foreign = (lineage.workflow, lineage.run) != (self.record.workflow, self.record.run_id)
        step_id = f"step:{lineage.workflow}/{lineage.run}/{key}" if foreign else f"step:{key}"
        self.nodes[step_id] = StepNode(
            step_id, key, lineage.state, lineage.step, lineage.attempt, lineage.status, lineage.code_hash,
            lineage.started, lineage.finished, lineage.map_path, lineage.run, lineage.workflow, foreign,
            error=f"{lineage.error.error}: {lineage.error.cause}" if lineage.error else None, cache=lineage.cache,
            reused_from=lineage.reused_from)
        output = lineage.output
        if output is None:
            return
        for path, ref in output.values:
            self.nodes[f"value:{ref.key}"] = ValueNode(f"value:{ref.key}", ref, ".".join(str(p) for p in path))
            self.by_key[ref.key] = f"value:{ref.key}"
            self.edge(step_id, f"value:{ref.key}", ".".join(str(p) for p in path) or "output", "made")
        if foreign:
            return
        if len(output.values) == 1 and output.values[0][0] == ():
            out_id = f"value:{output.values[0][1].key}"
        else:
            out_id = f"output:{key}"
            self.nodes[out_id] = OutputNode(out_id, step_id, output.hash, output.bytes, output.ref)
            self.edge(step_id, out_id, "output", "made")
        self.outputs[step_id] = out_id
        self.by_hash[output.hash].append((out_id, step_id, "hash"))
        for stored in (output.ref, output_key(lineage.workflow, lineage.run, lineage.state, lineage.map_path)):
            if stored:
                self.by_ref[stored] = out_id
        inline, value = self.inline(key)
        for part in _fields(value) if inline else ():
            self.by_hash[_hash(part)].append((out_id, step_id, "field"))

    def fan_outs(self, records: list[tuple[str, Lineage]]) -> None:
        """Each fan-out's results: its items' last steps' outputs, in item order."""
        items: dict[str, dict[str, tuple[str, Lineage]]] = defaultdict(dict)
        for key, lineage in records:
            if lineage.map_path and "/" in lineage.map_path:
                last = items[_item(lineage.map_path)[0]].get(lineage.map_path)
                if last is None or (lineage.finished or "") >= (last[1].finished or ""):
                    items[_item(lineage.map_path)[0]][lineage.map_path] = (key, lineage)
        for fan_out, chosen in items.items():
            ordered = [chosen[p] for p in sorted(chosen, key=lambda p: _item(p)[1])]
            outputs = [self.outputs[f"step:{key}"] for key, _ in ordered if f"step:{key}" in self.outputs]
            self.results[run_prefix(self.record.workflow, self.record.run_id) + fan_out + "/"] = outputs
            values = [self.inline(key) for key, _ in ordered]
            if len(outputs) == len(ordered) and all(inline for inline, _ in values):
                self.gathered[_hash([value for _, value in values])] = outputs

    def other_run(self, key: str) -> str | None:
        """The node of a value another run stored (a nested workflow's), from the attempt its key names."""
        match = _ATTEMPT.match(key)
        if match and match.group(1) not in self.attempts:
            try:
                self.attempts[match.group(1)] = Lineage.decode(self.store.read(match.group(1) + "lineage.json"))
            except Exception:  # gone, or unreadable: the value stays, without its maker
                self.attempts[match.group(1)] = None
            if (found := self.attempts[match.group(1)]) is not None:
                self.producer(found)
        return self.by_key.get(key)

    def finished(self, step: str) -> str:
        made = self.nodes[step]
        return made.finished or "" if isinstance(made, StepNode) else ""

    def before(self, producer: str, consumer: Lineage) -> bool:
        """Whether a step's output could reach ``consumer``: in its fan-out item (or outside any), and done first."""
        made, inside = self.nodes[producer], f"{consumer.map_path or ''}/"
        if isinstance(made, StepNode) and made.map_path and not inside.startswith(made.map_path + "/"):
            return False
        return not (self.finished(producer) and consumer.started and self.finished(producer) > consumer.started)

    def by_value(self, lineage: Lineage, name: str, info: InputInfo) -> list[tuple[str, How]]:
        param = self.nodes.get(f"param:{name}")
        if not info.values and isinstance(param, ParamNode) and param.hash == info.hash:
            return [(param.id, "param")]
        found = [c for c in self.by_hash.get(info.hash, ()) if self.before(c[1], lineage)]
        if found:
            whole = [c for c in found if c[2] == "hash"] or found
            best = max(whole, key=lambda c: self.finished(c[1]))
            return [(best[0], best[2] if len({c[0] for c in whole}) == 1 else "guess")]
        if info.hash in self.gathered:
            return [(output, "gathered") for output in self.gathered[info.hash]]
        return [(n.id, "param") for n in self.nodes.values() if isinstance(n, ParamNode) and n.hash == info.hash][:1]

    def link(self, step_id: str, lineage: Lineage, name: str, info: InputInfo) -> None:
        makers: set[str] = set()
        for key in info.values:
            value = self.by_key.get(key) or self.other_run(key)
            if value is None:
                self.nodes[f"value:{key}"] = ValueNode(f"value:{key}", ValueRef(key, "", "", "", 0, ""), "")
                self.by_key[key] = value = f"value:{key}"
                self.unlinked.append(Unlinked(step_id, name, info.hash, f"{key} was stored by a run whose lineage "
                                                                         "record could not be read"))
            self.edge(value, step_id, name, "key")
            makers.add(self.made_by.get(value, ""))
        sources: list[tuple[str, How]] = []
        if info.ref in self.by_ref:
            output = self.by_ref[info.ref]
            whole = any(c[0] == output and c[2] == "hash" for c in self.by_hash.get(info.hash, ()))
            sources = [(output, "ref" if whole else "field")]
        elif info.ref is not None:
            sources = next(([(o, "gathered") for o in outputs] for prefix, outputs in self.results.items()
                            if info.ref.startswith(prefix)), [])
        if not sources:
            sources = self.by_value(lineage, name, info)
        for source, how in sources:
            if not (how in ("field", "guess") and self.made_by.get(source) in makers):  # its values said so
                self.edge(source, step_id, name, how)
        if not (info.values or sources):
            why = ("a constant written in the workflow, or an error caught by except ... as e" if info.ref is None
                   else f"its stored output {info.ref} is not one this run's steps wrote")
            self.unlinked.append(Unlinked(step_id, name, info.hash, why))


def build_graph(record: RunRecord, store: ArtifactStore) -> Graph:
    """The run's provenance graph. It reads the lineage record of each step's last attempt (and
    of each attempt of another run whose stored value a step read): one read each."""
    return _Builder(record, store).build()

