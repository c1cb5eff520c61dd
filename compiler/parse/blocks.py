"""A block under construction: units, their data dependencies and the ordering rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..ir import Block, Node, Unit

__all__ = ["BlockBuilder"]


@dataclass
class BlockBuilder:
    """Collects the units of one block in program order and works out their dependencies.

    A unit depends on the units in this block that produced what it reads. A unit that can
    end the path (a return or raise inside it) follows every earlier unit and precedes
    every later one, as in Python: nothing after it may run when it returns, and
    everything before it has run when it does.
    """

    units: list[Unit] = field(default_factory=list)
    deps: list[frozenset[int]] = field(default_factory=list)
    producers: dict[str, int] = field(default_factory=dict)
    defined: set[str] = field(default_factory=set)  # every key made inside, nested ones too
    last_barrier: int | None = None
    returns: bool = False

    def add(self, node: Node, *, reads: frozenset[str] = frozenset(), writes: frozenset[str] = frozenset(),
            defines: frozenset[str] = frozenset(), ends: bool = False) -> int:
        index = len(self.units)
        before = {self.producers[k] for k in reads if k in self.producers}
        if self.last_barrier is not None:
            before.add(self.last_barrier)
        if ends:
            before.update(range(index))
        self.units.append(Unit(node=node, reads=reads, writes=writes, ends=ends))
        self.deps.append(frozenset(before))
        for key in writes:
            self.producers[key] = index
        self.defined.update(writes, defines)
        if ends:
            self.last_barrier = index
        return index

    @property
    def free_reads(self) -> frozenset[str]:
        """Keys this block reads that are made outside it."""
        reads: set[str] = set()
        for unit in self.units:
            reads.update(unit.reads)
        return frozenset(reads - self.defined)

    def build(self) -> Block:
        return Block(units=tuple(self.units), deps=tuple(self.deps), returns=self.returns)
