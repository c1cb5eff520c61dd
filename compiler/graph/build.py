"""The workflow as a picture: nodes, edges and groups, drawn from the IR (not from the ASL).

The picture shows what the user wrote: each step once, an arrow for each dependency (data
flow or ``after=``), a diamond for each condition with its branches labelled, a box around
each fan-out and each ``try``. Redundant arrows (implied by longer paths) are left out.
The same model renders as Mermaid and as Graphviz DOT.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..dsl.options import Batch
from ..ir import (
    Approve,
    Block,
    CallWorkflow,
    Copy,
    FanOut,
    If,
    Node,
    Raise,
    Return,
    StepCall,
    Try,
    Workflow,
)

__all__ = ["Edge", "Graph", "GraphNode", "Group", "build_graph", "reduced_deps"]

Shape = Literal["step", "gpu", "choice", "approval", "workflow", "return", "fail", "start", "end", "value"]


@dataclass
class GraphNode:
    id: str
    label: str
    shape: Shape
    state: str | None = None  # the ASL state it stands for (to colour it by a run's progress)


@dataclass
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False


@dataclass
class Group:
    id: str
    label: str
    members: list[str] = field(default_factory=list)  # node and group ids
    state: str | None = None


@dataclass
class Graph:
    title: str
    nodes: dict[str, GraphNode] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    groups: dict[str, Group] = field(default_factory=dict)
    top: list[str] = field(default_factory=list)  # ids not inside any group
    # the IR it was drawn from (to colour it by a run's progress: see status.py)
    workflow: Workflow | None = field(default=None, repr=False, compare=False)


@dataclass
class _Piece:
    entry: str  # where arrows into the unit point
    exits: list[tuple[str, str]]  # (id, label) where arrows out of the unit start
    ends: bool = False  # every path through it ends (return/raise)


def reduced_deps(block: Block) -> list[set[int]]:
    """Each unit's dependencies without those implied through another dependency."""
    reach: list[set[int]] = []
    reduced: list[set[int]] = []
    for deps in block.deps:
        closure: set[int] = set()
        for d in deps:
            closure |= reach[d]
        reduced.append({d for d in deps if d not in closure})
        reach.append(closure | set(deps))
    return reduced


class _Builder:
    def __init__(self, workflow: Workflow) -> None:
        self.wf = workflow
        self.graph = Graph(title=workflow.name, workflow=workflow)
        self.count = 0

    def _id(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def node(self, label: str, shape: Shape, container: list[str], state: str | None = None) -> str:
        node_id = self._id("n")
        self.graph.nodes[node_id] = GraphNode(node_id, label, shape, state)
        container.append(node_id)
        return node_id

    def group(self, label: str, container: list[str], state: str | None = None) -> Group:
        group = Group(self._id("g"), label, state=state)
        self.graph.groups[group.id] = group
        container.append(group.id)
        return group

    def block(self, block: Block, container: list[str]) -> tuple[list[str], list[tuple[str, str]], bool]:
        """Draw a block: its entry ids, its open exits, and whether it always ends."""
        pieces = [self.unit(u.node, container) for u in block.units]
        reduced = reduced_deps(block)
        has_successor = [False] * len(pieces)
        for index, deps in enumerate(reduced):
            for d in sorted(deps):
                has_successor[d] = True
                for source, label in pieces[d].exits:
                    self.graph.edges.append(Edge(source, pieces[index].entry, label))
        entries = [pieces[i].entry for i, deps in enumerate(block.deps) if not deps]
        exits = [ex for i, piece in enumerate(pieces) if not has_successor[i] for ex in piece.exits]
        return entries, exits, block.returns

    def unit(self, node: Node, container: list[str]) -> _Piece:
        if isinstance(node, StepCall):
            compute = node.step.compute
            gpu = isinstance(compute, Batch)
            label = node.step.name + ((" (GPU)" if compute.gpus else " (Batch)") if isinstance(compute, Batch) else "")
            node_id = self.node(label, "gpu" if gpu else "step", container, node.name)
            return _Piece(node_id, [(node_id, "")])
        if isinstance(node, CallWorkflow):
            node_id = self.node(f"{node.workflow} (workflow)", "workflow", container, node.name)
            return _Piece(node_id, [(node_id, "")])
        if isinstance(node, Approve):
            node_id = self.node(f"approve: {node.message}", "approval", container, node.name)
            return _Piece(node_id, [(node_id, "")])
        if isinstance(node, Copy):
            node_id = self.node(node.name, "value", container, node.name)
            return _Piece(node_id, [(node_id, "")])
        if isinstance(node, Return):
            node_id = self.node(node.name, "return", container, node.name)
            return _Piece(node_id, [], ends=True)
        if isinstance(node, Raise):
            node_id = self.node(node.name, "fail", container, node.name)
            return _Piece(node_id, [], ends=True)
        if isinstance(node, If):
            return self.choice(node, container)
        if isinstance(node, FanOut):
            label = f"{node.name} ({node.mode} map" + (f", at most {node.max_items}" if node.max_items else "") + ")"
            group = self.group(label, container, node.name)
            self.block(node.body, group.members)
            return _Piece(group.id, [(group.id, "")])
        assert isinstance(node, Try)
        group = self.group("try", container, node.name)
        self.block(node.body, group.members)
        exits: list[tuple[str, str]] = [(group.id, "")]
        for handler in node.handlers:
            entries, handler_exits, _ = self.block(handler.body, container)
            names = "any error" if handler.errors == ("States.ALL",) else " | ".join(handler.errors)
            for entry in entries:
                self.graph.edges.append(Edge(group.id, entry, f"on {names}", dashed=True))
            exits.extend(handler_exits)
        return _Piece(group.id, exits)

    def choice(self, node: If, container: list[str]) -> _Piece:
        single = len(node.branches) == 1
        question = f"{node.branches[0].text}?" if single else "which branch?"
        diamond = self.node(question, "choice", container, node.name)
        exits: list[tuple[str, str]] = []
        labels = ["yes"] if single else [b.text for b in node.branches]
        blocks: list[tuple[str, Block | None]] = [(label, b.body) for label, b in zip(labels, node.branches,
                                                                                       strict=True)]
        blocks.append(("no" if single else "else", node.orelse))
        for label, block in blocks:
            if block is None or not block.units:
                exits.append((diamond, label))
                continue
            entries, block_exits, _ = self.block(block, container)
            for entry in entries:
                self.graph.edges.append(Edge(diamond, entry, label))
            exits.extend(block_exits)
        return _Piece(diamond, exits)


def build_graph(workflow: Workflow) -> Graph:
    builder = _Builder(workflow)
    graph = builder.graph
    params = ", ".join(workflow.params.names) if workflow.params.model_param is None else \
        workflow.params.model_param
    start = builder.node(f"{workflow.name}({params})", "start", graph.top)
    entries, exits, ends = builder.block(workflow.body, graph.top)
    for entry in entries:
        graph.edges.append(Edge(start, entry))
    if exits and not ends:
        end = builder.node("done", "end", graph.top)
        for source, label in exits:
            graph.edges.append(Edge(source, end, label))
    return graph
