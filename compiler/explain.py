"""``stepstone compile --explain``: what the compiler decided, and why.

It shows the layout (what runs in sequence and what in parallel), every ordering the
compiler had to add because the DAG is not series-parallel (and what that costs on the
critical path), how each fan-out runs, and the limits it proved: state size and history.
"""

from __future__ import annotations

from .dsl.quotas import HISTORY_LIMIT, PAYLOAD_LIMIT
from .ir import Block, FanOut, If, Try
from .pipeline import CompiledWorkflow
from .plan import Planner, blocks_of
from .seriesparallel import Leaf, Parallel, Series, SPNode

__all__ = ["explain"]

MAX_LISTED = 20


def _outline(block: Block, tree: SPNode, planner: Planner, indent: str, lines: list[str]) -> None:
    if isinstance(tree, Leaf):
        node = block.units[tree.index].node
        lines.append(f"{indent}{node.name}")
        inner = list(blocks_of(node))
        if isinstance(node, If):
            labels = [f"when {b.text}" for b in node.branches] + (["otherwise"] if node.orelse else [])
            for label, body in zip(labels, inner, strict=False):
                lines.append(f"{indent}  {label}:")
                _block(body, planner, indent + "    ", lines)
        elif isinstance(node, FanOut):
            lines.append(f"{indent}  for each item ({node.mode} map):")
            _block(node.body, planner, indent + "    ", lines)
        elif isinstance(node, Try):
            lines.append(f"{indent}  try:")
            _block(node.body, planner, indent + "    ", lines)
            for handler in node.handlers:
                lines.append(f"{indent}  on {' | '.join(handler.errors)}:")
                _block(handler.body, planner, indent + "    ", lines)
        return
    if isinstance(tree, Series):
        for part in tree.parts:
            _outline(block, part, planner, indent, lines)
        return
    assert isinstance(tree, Parallel)
    lines.append(f"{indent}in parallel:")
    for part in tree.parts:
        sub: list[str] = []
        _outline(block, part, planner, "", sub)
        lines.append(f"{indent}  - {sub[0]}" if sub else f"{indent}  -")
        lines.extend(f"{indent}    {line}" for line in sub[1:])


def _block(block: Block, planner: Planner, indent: str, lines: list[str]) -> None:
    if not block.units:
        lines.append(f"{indent}(nothing)")
        return
    _outline(block, planner.layout(block).tree, planner, indent, lines)


def _serialized(block: Block, planner: Planner, lines: list[str]) -> None:
    layout = planner.layout(block)
    if layout.added:
        for before, after in layout.added[:MAX_LISTED]:
            first, second = block.units[before].node.name, block.units[after].node.name
            lines.append(f"  {second} now waits for {first} (no data flows between them)")
        if len(layout.added) > MAX_LISTED:
            lines.append(f"  ... and {len(layout.added) - MAX_LISTED:,} more")
        cost = layout.makespan - layout.critical_path
        lines.append(f"  critical path: {layout.critical_path:g} -> {layout.makespan:g} steps"
                     + (f" (+{cost:g})" if cost else " (no longer: the added orderings cost nothing)"))
    for unit in block.units:
        for inner in blocks_of(unit.node):
            _serialized(inner, planner, lines)


def _fan_outs(block: Block, lines: list[str]) -> None:
    for unit in block.units:
        node = unit.node
        if isinstance(node, FanOut):
            concurrency = f", at most {node.max_concurrency} at once" if node.max_concurrency else ""
            lines.append(f"  {node.name}: {node.mode} map{concurrency}, because {node.why}")
        for inner in blocks_of(node):
            _fan_outs(inner, lines)


def explain(compiled: CompiledWorkflow) -> str:
    wf = compiled.workflow
    planner = compiled.planner
    lines = [f"workflow {wf.name} ({wf.type}), compiled to {_count_states(compiled.definition)} states", "",
             "layout (top to bottom; 'in parallel' groups run side by side):"]
    _block(wf.body, planner, "  ", lines)
    lines.append("")
    added: list[str] = []
    _serialized(wf.body, planner, added)
    if added:
        lines.append("orderings added (Step Functions runs only series-parallel graphs):")
        lines.extend(added)
    else:
        lines.append("orderings added: none; every step starts as soon as its inputs are ready "
                     f"(critical path {planner.layout(wf.body).critical_path:g} steps)")
    fans: list[str] = []
    _fan_outs(wf.body, fans)
    if fans:
        lines.append("")
        lines.append("fan-outs:")
        lines.extend(fans)
    sizes = compiled.sizes
    lines.append("")
    lines.append(f"state size: step outputs up to {sizes.inline_limit:,} bytes travel in the state; larger ones go to "
                 f"S3 and the state keeps a reference. Largest possible state: {sizes.worst_bytes / 1024:,.0f} KiB "
                 f"of {PAYLOAD_LIMIT // 1024} KiB.")
    if wf.type == "standard":
        lines.append(f"history: at most {compiled.history_events:,} events a run (Step Functions allows "
                     f"{HISTORY_LIMIT:,}).")
    return "\n".join(lines) + "\n"


def _count_states(definition: dict[str, object]) -> int:
    count = 0
    stack: list[object] = [definition]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            states = item.get("States")
            if isinstance(states, dict):
                count += len(states)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count
