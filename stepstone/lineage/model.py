"""What a run's provenance graph is made of: its nodes (parameters, steps, stored values, JSON
outputs), the edges between them and the inputs no edge explains. Built by
``stepstone.lineage.graph``; read by the views, ``--input`` and the OpenLineage export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeAlias

from compiler.protocol import ValueRef

__all__ = ["Edge", "Graph", "How", "Node", "OutputNode", "ParamNode", "StepNode", "Unlinked", "ValueNode"]

JSON: TypeAlias = Any
How: TypeAlias = Literal["made", "key", "ref", "field", "hash", "guess", "gathered", "param"]


@dataclass(frozen=True, slots=True)
class ParamNode:
    id: str
    name: str
    value: JSON
    hash: str


@dataclass(frozen=True, slots=True)
class StepNode:
    """A step's last attempt; ``foreign``: a step of another run (a nested workflow's) whose value this run read."""

    id: str
    key: str  # [<map_path>/]<state>
    state: str
    step: str  # module:function
    attempt: int
    status: str  # succeeded | failed | cached | reused
    code_hash: str | None
    started: str
    finished: str | None
    map_path: str | None
    run: str
    workflow: str
    foreign: bool = False
    error: str | None = None
    cache: str | None = None  # the cache record a cached step's output came from
    reused_from: str | None = None  # the attempt a redrive reused


@dataclass(frozen=True, slots=True)
class ValueNode:
    id: str
    ref: ValueRef  # codec "" when the value's lineage could not be read
    path: str  # where it sits in its producer's output ("" the whole output)


@dataclass(frozen=True, slots=True)
class OutputNode:
    id: str
    step: str  # its step's node id
    hash: str
    bytes: int
    stored: str | None  # the key of a stored output (None: inline, in the state)


Node: TypeAlias = ParamNode | StepNode | ValueNode | OutputNode
_KINDS = {ParamNode: "param", StepNode: "step", ValueNode: "value", OutputNode: "output"}


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str  # into a step: the input's name; out of one: the value's path ("output": all of it)
    how: How


@dataclass(frozen=True, slots=True)
class Unlinked:
    step: str  # its node id
    input: str
    hash: str
    why: str


@dataclass(frozen=True)
class Graph:
    run: str
    workflow: str
    trigger: str  # what started the run, in words (``s3://bucket/key`` for an S3 trigger)
    nodes: Mapping[str, Node]
    edges: tuple[Edge, ...]
    unlinked: tuple[Unlinked, ...]

    def steps(self) -> list[StepNode]:
        """The run's own steps, in the run's order."""
        return [n for n in self.nodes.values() if isinstance(n, StepNode) and not n.foreign]

    def into(self, node: str) -> list[Edge]:
        return [e for e in self.edges if e.target == node]

    def out_of(self, node: str) -> list[Edge]:
        return [e for e in self.edges if e.source == node]

    def maker(self, node: str) -> StepNode | None:
        """The step that made a value or output."""
        found = [self.nodes[e.source] for e in self.into(node) if e.how == "made"]
        return found[0] if found and isinstance(found[0], StepNode) else None

    def to_json(self) -> dict[str, JSON]:
        return {"run": self.run, "workflow": self.workflow, "trigger": self.trigger,
                "nodes": [{"kind": _KINDS[type(n)], **asdict(n)} for n in self.nodes.values()],
                "edges": [asdict(e) for e in self.edges], "unlinked": [asdict(u) for u in self.unlinked]}
