"""Graph -> Mermaid flowchart (renders on GitHub, in the Step Functions docs' style of DAG)."""

from __future__ import annotations

from .build import Graph, GraphNode

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
    return label.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def _node(node: GraphNode) -> str:
    left, right = _SHAPES[node.shape]
    return f"{node.id}{left}{_text(node.label)}{right}"


def to_mermaid(graph: Graph, *, classes: dict[str, str] | None = None) -> str:
    """The graph as a Mermaid ``flowchart TD``; ``classes`` maps node ids to extra class names."""
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
    for node in graph.nodes.values():
        if node.shape in _CLASSES:
            lines.append(f"  class {node.id} {node.shape}")
    for node_id, name in sorted((classes or {}).items()):
        lines.append(f"  class {node_id} {name}")
    return "\n".join(lines) + "\n"
