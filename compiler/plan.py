"""How each block of a workflow runs: its series-parallel layout, and what it reads.

Shared by the ASL emitter, ``--explain`` and the checks, so the layout is computed once
per block and every consumer sees the same one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .ir import (
    Approve,
    Block,
    CallWorkflow,
    Compare,
    Condition,
    Copy,
    FanOut,
    If,
    IsNull,
    Node,
    ParamRef,
    Return,
    StepCall,
    Truthy,
    Try,
    Unit,
    Value,
)
from .seriesparallel import Decomposition, decompose

__all__ = ["Planner", "all_nodes", "blocks_of", "condition_values", "node_values"]


def blocks_of(node: Node) -> Iterator[Block]:
    if isinstance(node, If):
        for branch in node.branches:
            yield branch.body
        if node.orelse is not None:
            yield node.orelse
    elif isinstance(node, FanOut):
        yield node.body
    elif isinstance(node, Try):
        yield node.body
        for handler in node.handlers:
            yield handler.body


def all_nodes(block: Block) -> Iterator[Node]:
    """Every node of a block, those of the blocks inside it too (in program order, outside in)."""
    for unit in block.units:
        yield unit.node
        for inner in blocks_of(unit.node):
            yield from all_nodes(inner)


def condition_values(condition: Condition) -> Iterator[Value]:
    if isinstance(condition, Compare):
        yield condition.left
        yield condition.right
    elif isinstance(condition, (IsNull, Truthy)):
        yield condition.value
    else:
        for inner in getattr(condition, "items", ()) or (getattr(condition, "inner", None),):
            if inner is not None:
                yield from condition_values(inner)


def node_values(node: Node) -> Iterator[Value]:
    """The values a node itself uses (not those of the blocks inside it)."""
    if isinstance(node, StepCall):
        yield from (v for _, v in node.args)
    elif isinstance(node, CallWorkflow):
        yield from (v for _, v in node.params)
    elif isinstance(node, Copy):
        yield node.value
    elif isinstance(node, Return):
        if node.value is not None:
            yield node.value
    elif isinstance(node, If):
        for branch in node.branches:
            yield from condition_values(branch.condition)
    elif isinstance(node, FanOut):
        yield node.items


@dataclass
class Planner:
    """Layouts and summaries of blocks, computed once each. ``param_names``: the run input's fields."""

    _layouts: dict[int, Decomposition] = field(default_factory=dict)
    _spans: dict[int, float] = field(default_factory=dict)
    _defined: dict[int, frozenset[str]] = field(default_factory=dict)
    _params: dict[int, frozenset[str]] = field(default_factory=dict)
    param_names: tuple[str, ...] = ()

    def weight(self, node: Node) -> float:
        """Expected duration, in steps: a step counts 1, bookkeeping states 0."""
        if isinstance(node, (StepCall, CallWorkflow, Approve)):
            return 1.0
        if isinstance(node, (If, Try)):
            return max((self.span(b) for b in blocks_of(node)), default=0.0)
        if isinstance(node, FanOut):
            return self.span(node.body)
        return 0.0

    def layout(self, block: Block) -> Decomposition:
        key = id(block)
        if key not in self._layouts:
            weights = [self.weight(u.node) for u in block.units]
            self._layouts[key] = decompose(len(block.units), block.edges, weights)
        return self._layouts[key]

    def span(self, block: Block) -> float:
        key = id(block)
        if key not in self._spans:
            self._spans[key] = self.layout(block).makespan
        return self._spans[key]

    def defined(self, block: Block) -> frozenset[str]:
        """Every key made inside the block, nested blocks included."""
        key = id(block)
        if key not in self._defined:
            keys: set[str] = set()
            for unit in block.units:
                keys |= unit.writes
                node = unit.node
                for attr in ("binding", "item"):
                    value = getattr(node, attr, None)
                    if isinstance(value, str):
                        keys.add(value)
                if isinstance(node, Try):
                    keys |= {h.binding for h in node.handlers if h.binding}
                for inner in blocks_of(node):
                    keys |= self.defined(inner)
            self._defined[key] = frozenset(keys)
        return self._defined[key]

    def free_reads(self, block: Block) -> frozenset[str]:
        reads: set[str] = set()
        for unit in block.units:
            reads |= unit.reads
        return frozenset(reads - self.defined(block))

    def unit_params(self, unit: Unit) -> frozenset[str]:
        """Top-level input fields a unit reads (all of them for the whole parameters model)."""
        used: set[str] = set()
        for value in node_values(unit.node):
            if isinstance(value, ParamRef):
                if value.whole_model or not value.path:
                    used.update(self.param_names)
                else:
                    used.add(str(value.path[0]))
        for inner in blocks_of(unit.node):
            used |= self.params_used(inner)
        return frozenset(used)

    def params_used(self, block: Block) -> frozenset[str]:
        key = id(block)
        if key not in self._params:
            used: set[str] = set()
            for unit in block.units:
                used |= self.unit_params(unit)
            self._params[key] = frozenset(used)
        return self._params[key]
