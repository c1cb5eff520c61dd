"""Graph -> Graphviz DOT (for `dot -Tsvg`)."""

from __future__ import annotations

from .build import Graph

__all__ = ["to_dot"]

_SHAPES = {
    "step": "box",
    "gpu": "box3d",
    "choice": "diamond",
    "approval": "hexagon",
    "workflow": "component",
    "return": "oval",
    "fail": "octagon",
    "start": "oval",
    "end": "oval",
    "value": "note",
}
_FILLS = {"gpu": "#fde9c8", "approval": "#e6dcf5", "fail": "#f8d7da", "return": "#d1e7dd", "start": "#e2e3e5",
          "end": "#e2e3e5"}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(graph: Graph) -> str:
    lines = [f"digraph {_quote(graph.title)} {{", "  rankdir=TB;", '  node [fontname="Helvetica"];']
    # an edge to or from a group goes to an invisible anchor inside it
    anchors: dict[str, str] = {}

    def emit(ids: list[str], indent: str) -> None:
        for item in ids:
            if item in graph.groups:
                group = graph.groups[item]
                lines.append(f"{indent}subgraph cluster_{group.id} {{")
                lines.append(f"{indent}  label={_quote(group.label)}; style=rounded;")
                anchor = f"{group.id}_anchor"
                anchors[group.id] = anchor
                lines.append(f'{indent}  {anchor} [shape=point, style=invis, width=0];')
                emit(group.members, indent + "  ")
                lines.append(f"{indent}}}")
            else:
                node = graph.nodes[item]
                fill = f', style=filled, fillcolor="{_FILLS[node.shape]}"' if node.shape in _FILLS else ""
                lines.append(f"{indent}{node.id} [label={_quote(node.label)}, shape={_SHAPES[node.shape]}{fill}];")

    emit(graph.top, "  ")
    for edge in graph.edges:
        attrs = []
        source = anchors.get(edge.source, edge.source)
        target = anchors.get(edge.target, edge.target)
        if edge.source in anchors:
            attrs.append(f"ltail=cluster_{edge.source}")
        if edge.target in anchors:
            attrs.append(f"lhead=cluster_{edge.target}")
        if edge.label:
            attrs.append(f"label={_quote(edge.label)}")
        if edge.dashed:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {source} -> {target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
