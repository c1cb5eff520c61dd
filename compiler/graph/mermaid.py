"""Graph -> Mermaid flowchart (renders on GitHub, in the Step Functions docs' style of DAG)."""

from __future__ import annotations

from collections.abc import Mapping

from .build import Graph, GraphNode
from .status import STATUS_STYLES

__all__ = ["to_mermaid"]

_SHAPES = {
    "step": ('["', '"]'),
    "gpu": ('[/"', '"/]'),
    "choice": ('{"', '"}'),
    "approval": ('{{"', '"}}'),
    "workflow": ('[["', '"]]'),
    "return": ('(["', '"])'),
    "fail": ('(["', '"])'),
    "start": ('(["', '"])'),
    "end": ('(["', '"])'),
    "value": ('("', '")'),
}
_CLASSES = {
    "gpu": "fill:#fde9c8,stroke:#c77700",
    "approval": "fill:#e6dcf5,stroke:#6a3fb5",
    "fail": "fill:#f8d7da,stroke:#b02a37",
    "return": "fill:#d1e7dd,stroke:#146c43",
    "start": "fill:#e2e3e5,stroke:#41464b",
    "end": "fill:#e2e3e5,stroke:#41464b",
}


def _text(label: str) -> str:
    # Mermaid's entity codes: no quote ends the label, no tag is markup, no backtick starts a Markdown string
    return label.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("`", "#96;")


def _node(node: GraphNode) -> str:
    left, right = _SHAPES[node.shape]
    return f"{node.id}{left}{_text(node.label)}{right}"


def to_mermaid(graph: Graph, *, classes: Mapping[str, str] | None = None) -> str:
    """The graph as a Mermaid ``flowchart TD``; ``classes`` maps node ids to extra class names.

    The classes of a run's statuses (``status_classes(graph, statuses)``: succeeded, cached,
    running, failed, notrun) come with their ``classDef``; they follow the shapes' own, so a
    node's status colour wins over its shape's."""
    lines = ["flowchart TD"]

    def emit(ids: list[str], indent: str) -> None:
        for item in ids:
            if item in graph.groups:
                group = graph.groups[item]
                lines.append(f'{indent}subgraph {group.id}["{_text(group.label)}"]')
                emit(group.members, indent + "  ")
                lines.append(f"{indent}end")
            else:
                lines.append(indent + _node(graph.nodes[item]))

    emit(graph.top, "  ")
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f'|"{_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {edge.source} {arrow}{label} {edge.target}")
    used = {n.shape for n in graph.nodes.values()}
    for shape, style in _CLASSES.items():
        if shape in used:
            lines.append(f"  classDef {shape} {style}")
    extra = set((classes or {}).values())
    for name, style in STATUS_STYLES.items():
        if name in extra:
            lines.append(f"  classDef {name} {style}")
    for node in graph.nodes.values():
        if node.shape in _CLASSES:
            lines.append(f"  class {node.id} {node.shape}")
    for node_id, name in sorted((classes or {}).items()):
        lines.append(f"  class {node_id} {name}")
    return "\n".join(lines) + "\n"
