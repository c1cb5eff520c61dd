"""A workflow as a tree for the terminal, each step marked and coloured by how a run went.

Lines come in the order things can run: what can start together is grouped "in parallel";
a condition's branches are labelled children (yes / no, or each ``elif``); a fan-out and a
``try`` (with its ``except`` handlers) are subtrees. A line says ``after: a, b`` when it
waits for something other than the line just above it. Fits 80 columns (long labels end
in "…").

    ml_training(request)
    ├── ✓ prod_initiation
    ├── in parallel
    │   ├── ✓ fetch_embedding
    │   └── ✓ build_dataset
    ├── ✓ check_data_quality  after: build_dataset
    ├── ✓ if not quality.passed  after: fetch_embedding, check_data_quality
    │   ├── - yes
    │   │   ├── - notify_data_team
    │   │   └── - return 'rejected-data'
    │   └── ✓ no: carry on
    ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from rich.tree import Tree

from compiler.dsl.options import Batch
from compiler.graph.build import Graph, reduced_deps
from compiler.graph.status import NOT_RUN, OK, Progress, progress, step_statuses
from compiler.ir import Approve, Block, CallWorkflow, Copy, FanOut, If, Node, Raise, Return, StepCall, Try, Workflow

if TYPE_CHECKING:
    from .records import RunRecord

__all__ = ["MARKS", "STYLES", "graph_tree", "record_statuses", "run_tree"]

MARKS = {"succeeded": "✓", "cached": "✓", "reused": "✓", "failed": "✗", "running": "…", "retrying": "↻",
         "skipped": "-", NOT_RUN: "-", "interrupted": "✗"}
STYLES = {"succeeded": "green", "cached": "cyan", "reused": "cyan", "running": "yellow", "retrying": "bold yellow",
          "failed": "bold red", "skipped": "dim", NOT_RUN: "dim"}
NOTES = {"cached": "cached", "reused": "reused", "retrying": "retrying", "running": "running", "skipped": "skipped"}
_SHORT = 32  # how much of a long name an ``after:`` list shows


def record_statuses(record: RunRecord) -> dict[str, str]:
    """State name -> status for a run record (a fan-out's items aggregated: any failed ->
    failed, any running -> running, all done -> succeeded)."""
    return step_statuses((step.state, step.status) for step in record.steps.values())


def run_tree(graph: Graph, record: RunRecord) -> Tree:
    """:func:`graph_tree` for a run: its steps' statuses, its own status and failed state."""
    return graph_tree(graph, record_statuses(record), run_status=record.status, failed_state=record.failed_state)


def graph_tree(graph: Graph, statuses: Mapping[str, str] | Iterable[tuple[str, str]] | None = None, *,
               run_status: str | None = None, failed_state: str | None = None) -> Tree:
    """The workflow ``graph`` (from ``compiler.graph.build_graph``) as a rich Tree.

    With ``statuses`` (state name -> step status, or (state, status) pairs, one per step
    record) each line has a mark and a colour: ✓ succeeded (cyan when cached or reused),
    ✗ failed, … running, ↻ retrying, - not run. Conditions, returns and raises are marked by
    what the run shows of them (see compiler.graph.status)."""
    workflow = graph.workflow
    if workflow is None:
        raise ValueError("graph_tree needs a graph made by build_graph (it walks the workflow it was drawn from)")
    shown = statuses is not None or run_status is not None
    found = progress(workflow, statuses, run_status=run_status, failed_state=failed_state) if shown else None
    return _TreeBuilder(workflow, found).tree()


def _levels(block: Block) -> list[int]:
    levels: list[int] = []
    for deps in block.deps:
        levels.append(1 + max((levels[d] for d in deps), default=-1))
    return levels


def _clip(text: str, width: int = _SHORT) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


class _TreeBuilder:
    def __init__(self, workflow: Workflow, found: Progress | None) -> None:
        self.workflow = workflow
        self.found = found

    def tree(self) -> Tree:
        params = ", ".join(self.workflow.params.names) if self.workflow.params.model_param is None else \
            self.workflow.params.model_param
        root = Text(f"{self.workflow.name}({params})", style="bold", no_wrap=True, overflow="ellipsis")
        if self.found is not None and not self.found.started:
            root.append("  not run", style="dim")
        tree = Tree(root, guide_style="dim")
        self.block(tree, self.workflow.body)
        return tree

    # --- lines ----------------------------------------------------------------------------------

    def status(self, node: Node) -> str | None:
        return None if self.found is None else self.found.status(node.name)

    def line(self, text: str, status: str | None, *, after: str = "", style: str = "") -> Text:
        label = Text(no_wrap=True, overflow="ellipsis")
        if status is not None:
            label.append(MARKS.get(status, "?") + " ", style=STYLES.get(status, ""))
            label.append(text, style=f"{STYLES.get(status, '')} {style}".strip())
            if status in NOTES:
                label.append(f" ({NOTES[status]})", style="dim")
        else:
            label.append(text, style=style)
        if after:
            label.append(f"  after: {after}", style="dim")
        return label

    def branch_label(self, text: str, taken: bool | None) -> Text:
        """A branch of a condition or a handler of a try: marked taken (✓) or not (-) when known."""
        if taken is None:
            return Text(text, style="italic", no_wrap=True, overflow="ellipsis")
        return Text.assemble(("✓ " if taken else "- ", "green" if taken else "dim"),
                             (text, "bold italic" if taken else "dim italic"), no_wrap=True, overflow="ellipsis")

    def name(self, node: Node) -> str:
        """How a line names the node (and how an ``after:`` list refers to it)."""
        if isinstance(node, StepCall):
            compute = node.step.compute
            if isinstance(compute, Batch):
                return node.step.name + (" (GPU)" if compute.gpus else " (Batch)")
            return node.step.name
        if isinstance(node, CallWorkflow):
            return f"{node.workflow} (workflow)"
        if isinstance(node, Approve):
            return f"approve: {node.message}"
        if isinstance(node, If):
            return f"if {node.branches[0].text}" if len(node.branches) == 1 else "which branch?"
        if isinstance(node, FanOut):
            return f"{node.name} ({node.mode} map" + (f", at most {node.max_items}" if node.max_items else "") + ")"
        return node.name  # copy, return, raise, try

    def short(self, node: Node) -> str:
        if isinstance(node, StepCall):
            return node.step.name
        if isinstance(node, If):
            return _clip(f"if {node.branches[0].text}") if len(node.branches) == 1 else "the condition"
        return _clip(node.name)

    # --- blocks ---------------------------------------------------------------------------------

    def block(self, parent: Tree, block: Block) -> None:
        levels = _levels(block)
        reduced = reduced_deps(block)
        rows: dict[int, list[int]] = {}
        for index, level in enumerate(levels):
            rows.setdefault(level, []).append(index)
        previous: set[int] = set()
        for level in sorted(rows):
            members = rows[level]
            target = parent if len(members) == 1 else parent.add(Text("in parallel", style="dim italic"))
            for index in members:
                deps = reduced[index]
                after = ", ".join(self.short(block.units[d].node) for d in sorted(deps)) if deps and \
                    deps != previous else ""
                self.unit(target, block.units[index].node, after)
            previous = set(members)

    def unit(self, parent: Tree, node: Node, after: str) -> None:
        status = self.status(node)
        if isinstance(node, If):
            self.choice(parent, node, status, after)
        elif isinstance(node, FanOut):
            branch = parent.add(self.line(self.name(node), status, after=after, style="bold"))
            self.block(branch, node.body)
        elif isinstance(node, Try):
            self.try_(parent, node, status, after)
        else:
            style = {Return: "", Raise: "", Copy: "italic"}.get(type(node), "bold")
            parent.add(self.line(self.name(node), status, after=after, style=style))

    def choice(self, parent: Tree, node: If, status: str | None, after: str) -> None:
        line = parent.add(self.line(self.name(node), status, after=after))
        taken = None if self.found is None else self.found.taken.get(node.name)
        known = self.found is not None and taken is not None

        def label(k: int, text: str) -> Text:
            return self.branch_label(text, (taken == k) if known else (False if status == NOT_RUN else None))

        single = len(node.branches) == 1
        for k, branch in enumerate(node.branches):
            child = line.add(label(k, "yes" if single else ("if " if k == 0 else "elif ") + branch.text))
            self.block(child, branch.body)
        last = len(node.branches)
        if node.orelse is not None and node.orelse.units:
            child = line.add(label(last, "no" if single else "else"))
            self.block(child, node.orelse)
        else:
            line.add(label(last, ("no" if single else "else") + ": carry on"))

    def try_(self, parent: Tree, node: Try, status: str | None, after: str) -> None:
        caught = None if self.found is None else self.found.taken.get(node.name)
        text = "try" + (" (failed, caught)" if caught is not None and status in OK else "")
        line = parent.add(self.line(text, status, after=after))
        self.block(line, node.body)
        for k, handler in enumerate(node.handlers):
            names = "any error" if handler.errors == ("States.ALL",) else " | ".join(handler.errors)
            known = self.found is not None and (caught is not None or status == NOT_RUN or
                                                (self.found.completed and status in OK))
            child = line.add(self.branch_label(f"except {names}", (caught == k) if known else None))
            self.block(child, handler.body)
