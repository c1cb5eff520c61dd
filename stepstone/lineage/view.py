"""What a person sees of a run's lineage: a tree of its steps with what each read and made, a
Mermaid flowchart of the same, and the table of the runs that used a value."""

from __future__ import annotations

import json

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from compiler.graph.status import STATUS_CLASSES, STATUS_STYLES
from compiler.protocol import ValueRef

from ..view import MARKS, STYLES, size_text
from .model import Edge, Graph, OutputNode, ParamNode, StepNode, ValueNode
from .uses import Use

__all__ = ["lineage_mermaid", "lineage_tree", "uses_table"]

_HOW = {"field": " (a field of it)", "gathered": " (one item of the list)", "guess": " (an equal value: the "
        "latest made before)"}


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12]


def _value(ref: ValueRef) -> str:
    if not ref.codec:
        return "(its lineage record is gone)"
    return f"{ref.codec} {ref.type.rsplit('.', 1)[-1]} {size_text(ref.bytes)} {_short(ref.hash)}"


def _maker(graph: Graph, node: str) -> str:
    step = graph.maker(node)
    if step is None:
        return "?"
    return f"{step.workflow} run {step.run}: {step.key}" if step.foreign else step.key


def _source(graph: Graph, edge: Edge) -> str:
    node = graph.nodes[edge.source]
    if isinstance(node, ParamNode):
        return f"parameter {node.name} = {json.dumps(node.value)[:60]}"
    if isinstance(node, ValueNode):
        return f"{_maker(graph, node.id)}: {node.path or 'output'}  {_value(node.ref)}"
    assert isinstance(node, OutputNode)
    return f"{_maker(graph, node.id)}: JSON output {size_text(node.bytes)} {_short(node.hash)}{_HOW.get(edge.how, '')}"


def _made(graph: Graph, edge: Edge) -> str:
    node = graph.nodes[edge.target]
    if isinstance(node, ValueNode):
        return f"{node.path or 'output'}  {_value(node.ref)}"
    assert isinstance(node, OutputNode)
    return f"JSON output {size_text(node.bytes)} {_short(node.hash)}" + (" (stored)" if node.stored else "")


def _heading(step: StepNode) -> str:
    style = STYLES.get(step.status, "")
    code = f"  [dim]code {step.code_hash}[/dim]" if step.code_hash else ""
    return (f"[bold]{escape(step.key)}[/bold]  [{style}]{MARKS.get(step.status, '')} {step.status}[/]  "
            f"attempt {step.attempt}{code}")


def lineage_tree(graph: Graph) -> Tree:
    """Each step with what it read (from which step, or which parameter) and what it made."""
    root = Tree(f"[bold]{escape(graph.workflow)}[/bold] run {escape(graph.run)}  [dim]{escape(graph.trigger)}[/dim]")
    for step in graph.steps():
        branch = root.add(_heading(step))
        edges = graph.into(step.id)
        for edge in edges:
            items = [e for e in edges if e.label == edge.label and e.how == "gathered"]
            if len(items) > 1 and edge is items[0] and (first := graph.maker(edge.source)) is not None:
                fan_out = (first.map_path or "").rpartition("/")[0]
                branch.add(f"read {escape(edge.label)} ← {first.state} of each of the {len(items)} items of "
                           f"{escape(fan_out)}: their JSON outputs")
            elif len(items) <= 1:
                branch.add(f"read {escape(edge.label)} ← {escape(_source(graph, edge))}")
        for missing in (u for u in graph.unlinked if u.step == step.id):
            branch.add(f"read {escape(missing.input)} [dim]{_short(missing.hash)}, not linked: {escape(missing.why)}"
                       "[/dim]")
        for edge in graph.out_of(step.id):
            branch.add(f"made {escape(_made(graph, edge))}")
        if step.error:
            branch.add(f"[red]{escape(step.error)}[/red]")
    return root


def _text(label: str) -> str:
    # Mermaid's entity codes, as compiler/graph/mermaid.py writes them: no quote ends a label
    return label.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("`", "#96;")


def lineage_mermaid(graph: Graph) -> str:
    """A Mermaid flowchart: steps as boxes (coloured by status), stored values as cylinders,
    parameters as stadiums; a JSON output is drawn as an edge from its step (dashed)."""
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for node in graph.nodes.values():
        if isinstance(node, OutputNode):
            continue
        ids[node.id] = f"n{len(ids)}"
        if isinstance(node, StepNode):
            label = f"{node.workflow}: {node.key}" if node.foreign else node.key
            left, right = ('[["', '"]]') if node.foreign else ('["', '"]')
        elif isinstance(node, ValueNode):
            label, (left, right) = f"{node.path or 'output'}<br/>{_text(_value(node.ref))}", ('[("', '")]')
        else:
            label, (left, right) = f"{node.name} = {json.dumps(node.value)[:40]}", ('(["', '"])')
        lines.append(f"  {ids[node.id]}{left}{label if isinstance(node, ValueNode) else _text(label)}{right}")
    drawn: set[tuple[str, str, str]] = set()
    for edge in graph.edges:
        source = graph.nodes[edge.source]
        if isinstance(source, OutputNode):
            if edge.how == "made":
                continue
            start, arrow = source.step, "-.->"
        else:
            start, arrow = edge.source, "-->"
        if (start, edge.target, edge.label) not in drawn and start in ids and edge.target in ids:
            drawn.add((start, edge.target, edge.label))
            label = "" if edge.how == "made" else f'|"{_text(edge.label)}"|'
            lines.append(f"  {ids[start]} {arrow}{label} {ids[edge.target]}")
    classes: dict[str, list[str]] = {}
    for step in graph.steps():
        classes.setdefault(STATUS_CLASSES.get(step.status, "notrun"), []).append(ids[step.id])
    for name, members in classes.items():
        lines += [f"  classDef {name} {STATUS_STYLES[name]}", f"  class {','.join(members)} {name}"]
    return "\n".join(lines) + "\n"


def _produced(use: Use) -> str:
    made = [f"{ref.type.rsplit('.', 1)[-1]} {_short(ref.hash)[:8]}" for ref in use.produced]
    return ", ".join(made) or (f"JSON {_short(use.output)[:8]}" if use.output else "-")


def uses_table(uses: list[Use]) -> Group:
    """Per run (its id and workflow), a row for each step that read it: the input, and what the
    step made (the class and hash of each value it stored, or of its JSON output)."""
    parts: list[RenderableType] = []
    for run in dict.fromkeys(u.run for u in uses):
        rows = [u for u in uses if u.run == run]
        table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 2, 0, 0))
        for name in ("step", "input", "produced"):
            table.add_column(name, no_wrap=name != "produced")
        for use in rows:
            table.add_row(escape(use.step or "(its trigger)"), escape(use.input), escape(_produced(use)))
        parts += [f"[bold]run {escape(run)}[/bold]  {escape(rows[0].workflow)}", table]
    return Group(*parts)
