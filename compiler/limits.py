"""Step Functions' hard limits, proved at compile time.

**Payload (256 KiB).** A run's state holds the parameters and one entry per value the body
keeps; a step's output is kept inline only up to ``inline_limit`` bytes (larger outputs go
to S3 and the state keeps a reference). Every entry's size is bounded: ``a + b * E`` bytes
for a fixed part ``a`` and ``b`` step outputs of at most ``E = inline_limit`` bytes. While
it emits, the ASL emitter reports every state it makes, with exactly the values that state
holds (a Parallel's combined result counts every branch's final state). The compiler then
chooses the largest ``E`` (at most 32 KiB) that keeps every one under 256 KiB. When even
1 KiB is too much, the workflow keeps too many values at once, and compiling fails with
what to do.

**History (25,000 events a Standard run)** and **duration (5 minutes an Express run)** are
bounded from the layout, the retry policies and the declared fan-out sizes.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from . import typeinfo
from .dsl.quotas import ERROR_CAUSE_LIMIT, INLINE_MAP_CONCURRENCY, PAYLOAD_LIMIT
from .ir import (
    Approve,
    BindingKind,
    Block,
    CallWorkflow,
    Copy,
    FanOut,
    If,
    LiteralValue,
    Node,
    StepCall,
    Try,
    Workflow,
)
from .plan import Planner, blocks_of
from .protocol import DEFAULT_INLINE_LIMIT, ENVELOPE_OVERHEAD
from .seriesparallel import Leaf, Parallel, SPNode

__all__ = [
    "MAX_INLINE",
    "MIN_INLINE",
    "KeySizes",
    "Size",
    "SizePlan",
    "SizeTracker",
    "history_events",
    "longest_run",
]

MAX_INLINE = DEFAULT_INLINE_LIMIT  # the most an envelope holds inline; less when a state would not fit
MIN_INLINE = 1024
ERROR_BYTES = ERROR_CAUSE_LIMIT + 512  # Step Functions caps an error's cause
APPROVAL_BYTES = 2 * 1024
SCALAR_BYTES = 64  # a number, boolean or timestamp with its key
MARGIN = 4 * 1024  # JSON punctuation and bookkeeping (map_path, ...)


@dataclass(frozen=True)
class Size:
    fixed: int  # bytes
    outputs: float  # how many step outputs of at most ``inline_limit`` bytes

    def __add__(self, other: Size) -> Size:
        return Size(self.fixed + other.fixed, self.outputs + other.outputs)


ZERO = Size(0, 0)


@dataclass(frozen=True)
class SizePlan:
    inline_limit: int
    worst_fixed: int
    worst_outputs: float
    worst_factor: int

    @property
    def worst_bytes(self) -> int:
        return self.worst_fixed + math.ceil(self.worst_outputs * self.inline_limit)


class KeySizes:
    """The most bytes each value of a workflow can take in a run's state."""

    def __init__(self, wf: Workflow, planner: Planner) -> None:
        self.wf = wf
        self.planner = planner
        self.params = Size(wf.params.max_bytes, 0)
        self.raw: dict[str, Size] = {}
        self._totals: dict[frozenset[str], Size] = {}
        self._walk(wf.body)

    def _walk(self, block: Block) -> None:
        for unit in block.units:
            node = unit.node
            if isinstance(node, Copy):
                if isinstance(node.value, LiteralValue):
                    self.raw[node.binding] = Size(len(json.dumps(node.value.value)), 0)
                else:
                    self.raw[node.binding] = self.params + Size(ENVELOPE_OVERHEAD, 1)
            elif isinstance(node, Approve) and node.binding:
                self.raw[node.binding] = Size(APPROVAL_BYTES, 0)
            elif isinstance(node, Try):
                for handler in node.handlers:
                    if handler.binding:
                        self.raw[handler.binding] = Size(ERROR_BYTES, 0)
            elif isinstance(node, FanOut):
                self.raw[node.item] = self._item(node)
            for inner in blocks_of(node):
                self._walk(inner)

    def _item(self, fan: FanOut) -> Size:
        key = getattr(fan.items, "key", None)
        binding = self.wf.bindings.get(key) if key else None
        if binding is None:
            return self.params
        if binding.kind is BindingKind.RESULTS:
            return Size(ENVELOPE_OVERHEAD, 1)
        if binding.kind is BindingKind.RESULT:
            return Size(0, 1)
        return self.size(binding.key)

    def param_fields(self, names: frozenset[str] | set[str]) -> Size:
        """The most bytes the input fields ``names`` can take: small for numbers and booleans."""
        total = ZERO
        for name in names:
            annotation = self.wf.params.annotations.get(name)
            kind = typeinfo.scalar_kind(annotation) if annotation is not None else None
            bound = typeinfo.string_bound(annotation) if kind == "string" else None
            items = typeinfo.list_bound(annotation) if typeinfo.is_list(annotation) else None
            element = typeinfo.scalar_kind(typeinfo.element_type(annotation)) if items is not None else None
            if kind in ("numeric", "boolean", "timestamp"):
                total = total + Size(SCALAR_BYTES + len(name), 0)
            elif bound is not None:
                total = total + Size(bound * 4 + SCALAR_BYTES + len(name), 0)  # 4: worst UTF-8 width
            elif items is not None and element in ("numeric", "boolean"):
                total = total + Size(items * SCALAR_BYTES + len(name), 0)
            else:
                return self.params
        return Size(min(total.fixed, self.params.fixed), 0)

    def size(self, key: str) -> Size:
        binding = self.wf.bindings[key]
        if binding.kind is BindingKind.DEFERRED:
            return ZERO
        if binding.kind is BindingKind.RESULTS:
            bound = self.wf.bounds.get(key, 0)
            return Size(ENVELOPE_OVERHEAD * bound, bound)
        if binding.kind is BindingKind.RESULT:
            return Size(ENVELOPE_OVERHEAD, 1)
        return self.raw.get(key, self.params)

    def total(self, keys: frozenset[str]) -> Size:
        cached = self._totals.get(keys)
        if cached is None:
            cached = ZERO
            for key in keys:
                cached = cached + self.size(key)
            self._totals[keys] = cached
        return cached


class SizeTracker:
    """Collects the size of every state the emitter makes; then picks the inline limit."""

    def __init__(self, sizes: KeySizes) -> None:
        self.sizes = sizes
        # (inline limit it allows, branches, size, the values held)
        self.worst: tuple[float, int, Size, frozenset[str]] | None = None
        self.seen: dict[tuple[int, float, int], Size] = {}  # every distinct state size, by (fixed, outputs, width)

    def state(self, base: Size, present: frozenset[str]) -> None:
        """A state holding ``base`` (its input: parameters...) and the values in ``present``."""
        self._consider(base + self.sizes.total(present), 1, present)

    def combined(self, base: Size, ends: list[frozenset[str]]) -> None:
        """A Parallel's result: every branch's final state at once."""
        total = ZERO
        for present in ends:
            total = total + base + self.sizes.total(present)
        self._consider(total, len(ends), frozenset().union(*ends))

    def _consider(self, size: Size, width: int, keys: frozenset[str]) -> None:
        self.seen.setdefault((size.fixed, size.outputs, width), size)
        room = PAYLOAD_LIMIT - size.fixed - width * MARGIN
        limit = float(MAX_INLINE) if size.outputs == 0 else room / size.outputs
        if room <= 0:
            limit = 0.0
        if self.worst is None or limit < self.worst[0]:
            self.worst = (limit, width, size, keys)

    def _largest(self, keys: frozenset[str]) -> str:
        wf = self.sizes.wf
        ranked = sorted(keys, key=lambda k: (-self.sizes.size(k).outputs, -self.sizes.size(k).fixed, k))
        described = []
        for key in ranked[:4]:
            binding = wf.bindings[key]
            if binding.kind is BindingKind.RESULTS:
                described.append(f"{binding.var} (a fan-out's results, up to {wf.bounds.get(key, 0)} items)")
            elif binding.kind is BindingKind.RESULT:
                described.append(f"{binding.var} (a step result)")
            else:
                described.append(f"{binding.var} (up to {self.sizes.size(key).fixed // 1024 or 1} KiB)")
        more = len(ranked) - len(described)
        return ", ".join(described) + (f" and {more} more" if more > 0 else "")

    def plan(self, wf: Workflow) -> SizePlan:
        """The largest inline limit that keeps every state under 256 KiB; CompileError when none does."""
        from .dsl.errors import CompileError

        limit, width, size, keys = self.worst if self.worst is not None else (float(MAX_INLINE), 1, ZERO,
                                                                             frozenset())
        if limit < MIN_INLINE:
            where = f"in the {width} branches of a Parallel state together" if width > 1 else "in one state"
            raise CompileError(
                f"workflow {wf.name!r} can hold {self._largest(keys)} {where}: up to {size.outputs:g} step "
                f"outputs and {size.fixed // 1024:,} KiB of other values, which can pass Step Functions' 256 KiB "
                "limit on a run's state",
                rule="payload-limit",
                location=wf.location,
                hint="pass large lists to a step instead of keeping them all, split the workflow into nested "
                     "workflows, or fan out as a distributed map (declare more than 100 items with max_items=...)",
            )
        inline = int(min(MAX_INLINE, limit)) // 256 * 256
        # the largest state at that limit (not always the one that set the limit)
        fixed, outputs, width = max(self.seen, key=lambda s: s[0] + s[2] * MARGIN + s[1] * inline,
                                    default=(0, 0.0, 1))
        return SizePlan(inline_limit=inline, worst_fixed=fixed + width * MARGIN, worst_outputs=outputs,
                        worst_factor=width)


# --- history -------------------------------------------------------------------------------


def _retries(node: StepCall) -> int:
    return sum(max(policy.attempts - 1, 0) for policy in node.step.retry)


def _unit_events(wf: Workflow, planner: Planner, node: Node) -> int:
    if isinstance(node, StepCall):
        return 5 + 4 * _retries(node)
    if isinstance(node, (Approve, CallWorkflow)):
        return 5
    if isinstance(node, If):
        return 2 + max((block_events(wf, planner, b) for b in blocks_of(node)), default=0)
    if isinstance(node, Try):
        body = block_events(wf, planner, node.body)
        return body + max((block_events(wf, planner, h.body) for h in node.handlers), default=0)
    if isinstance(node, FanOut):
        if node.mode == "distributed":
            return 8
        items = node.max_items or 0
        return 4 + items * (2 + block_events(wf, planner, node.body))
    return 2


def _parallel_states(tree: SPNode) -> int:
    if isinstance(tree, Leaf):
        return 0
    inner = sum(_parallel_states(p) for p in tree.parts)
    return inner + (1 if isinstance(tree, Parallel) else 0)


def block_events(wf: Workflow, planner: Planner, block: Block) -> int:
    events = sum(_unit_events(wf, planner, u.node) for u in block.units)
    return events + 4 * _parallel_states(planner.layout(block).tree)


def history_events(wf: Workflow, planner: Planner) -> int:
    """The most history events one run can write (Standard runs stop at 25,000)."""
    return 3 + block_events(wf, planner, wf.body)


# --- duration ------------------------------------------------------------------------------


def step_seconds(node: StepCall) -> float:
    """The longest a step can take: every attempt to its timeout, plus the waits between."""
    timeout = node.step.timeout
    if timeout is None:
        return math.inf
    attempts = 1 + _retries(node)
    waits = 0.0
    for policy in node.step.retry:
        delay = float(policy.interval_seconds)
        for _ in range(policy.attempts - 1):
            capped = min(delay, policy.max_delay_seconds) if policy.max_delay_seconds else delay
            waits += capped
            delay *= policy.backoff
    return attempts * timeout + waits


def _unit_seconds(wf: Workflow, planner: Planner, node: Node) -> float:
    if isinstance(node, StepCall):
        return step_seconds(node)
    if isinstance(node, (Approve, CallWorkflow)):
        return math.inf
    if isinstance(node, If):
        return max((longest_block(wf, planner, b) for b in blocks_of(node)), default=0.0)
    if isinstance(node, Try):
        handlers = max((longest_block(wf, planner, h.body) for h in node.handlers), default=0.0)
        return longest_block(wf, planner, node.body) + handlers
    if isinstance(node, FanOut):
        if node.max_items is None:
            return math.inf
        concurrency = min(node.max_concurrency or INLINE_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY)
        return math.ceil(node.max_items / concurrency) * longest_block(wf, planner, node.body)
    return 0.0


def longest_block(wf: Workflow, planner: Planner, block: Block) -> float:
    durations = [_unit_seconds(wf, planner, u.node) for u in block.units]

    def span(tree: SPNode) -> float:
        if isinstance(tree, Leaf):
            return durations[tree.index]
        spans = [span(p) for p in tree.parts]
        return max(spans) if isinstance(tree, Parallel) else sum(spans)

    return span(planner.layout(block).tree)


def longest_run(wf: Workflow, planner: Planner) -> float:
    """The longest a run can take, from timeouts and retries (inf when something is unbounded)."""
    return longest_block(wf, planner, wf.body)
