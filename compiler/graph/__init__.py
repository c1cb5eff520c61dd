"""Pictures of workflows: Mermaid flowcharts and Graphviz DOT, from the IR."""

from __future__ import annotations

from .build import Graph, build_graph
from .dot import to_dot
from .mermaid import to_mermaid
from .status import NOT_RUN, Progress, progress, status_classes, step_statuses

__all__ = ["FORMATS", "NOT_RUN", "Graph", "Progress", "build_graph", "progress", "render", "status_classes",
           "step_statuses", "to_dot", "to_mermaid"]

FORMATS = ("mermaid", "dot")


def render(graph: Graph, fmt: str = "mermaid") -> str:
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "dot":
        return to_dot(graph)
    raise ValueError(f"unknown graph format {fmt!r}; choose one of {', '.join(FORMATS)}")
