"""A run on the picture: how each state went, and which states did not run.

A run's record has one entry per step (per fan-out item): ``running``, ``retrying``,
``succeeded``, ``failed``, ``cached``, ``reused`` or ``skipped``. Conditions, returns,
raises and the values Pass states make leave no record, nor does a nested workflow run
locally (its run has its own record); their status is inferred from the workflow's shape:

- a state ran (and finished) when a state that waits for it ran;
- a state that waits for nothing (or whose every dependency finished) ran as soon as its
  block was entered: a condition was evaluated, a return returned, a raise failed the run;
- a condition took the branch where something ran; else the one branch left when the others
  cannot have been taken (their first step has no record; they raise, and the run did not
  fail there; they end the run, and the run went on);
- an ``except`` ran when the ``try`` failed and the run did not fail there.

Whatever cannot be shown to have run is ``not run``. The run's own status and failed state
(``run_status``, ``failed_state``) make the inference sharper; both are optional.

:func:`status_classes` turns this into Mermaid class names per node id, for
``to_mermaid(graph, classes=...)``, which then adds the matching ``classDef`` lines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..ir import Approve, Block, CallWorkflow, Copy, FanOut, If, Node, Raise, Return, StepCall, Try, Workflow
from .build import Graph

__all__ = ["LEGEND", "NOT_RUN", "OK", "STATUS_CLASSES", "STATUS_STYLES", "Progress", "aggregate", "progress",
           "status_classes", "step_statuses"]

NOT_RUN = "not run"
OK = frozenset({"succeeded", "cached", "reused"})  # finished, with an output the next states use

# a status -> the Mermaid class that colours it
STATUS_CLASSES = {
    "succeeded": "succeeded",
    "cached": "cached",
    "reused": "cached",
    "running": "running",
    "retrying": "running",
    "failed": "failed",
    "skipped": "notrun",
    NOT_RUN: "notrun",
}
# class -> (fill, stroke, text colour)
COLOURS = {
    "succeeded": ("#8ee0a6", "#198754", "#0b3d1e"),
    "cached": ("#8fe3f5", "#0a8ca8", "#06404e"),
    "running": ("#ffd95e", "#c99700", "#4d3a00"),
    "failed": ("#f48a94", "#b02a37", "#4a0d14"),
    "notrun": ("#f1f3f5", "#adb5bd", "#6c757d"),
}
STATUS_STYLES = {
    name: f"fill:{fill},stroke:{stroke},color:{text}" + (",stroke-dasharray:4 3" if name == "notrun" else
                                                         ",stroke-width:2px")
    for name, (fill, stroke, text) in COLOURS.items()
}
# what a legend says of each class
LEGEND = (
    ("succeeded", "succeeded"),
    ("cached", "cached / reused"),
    ("running", "running / retrying"),
    ("failed", "failed"),
    ("notrun", "not run"),
)


def aggregate(statuses: Iterable[str]) -> str:
    """One status for several (a step over a fan-out's items, or a block's states): any failed
    -> failed; any retrying -> retrying; any running -> running; all done -> succeeded (or
    cached / reused / skipped when they all are); none ran -> not run."""
    seen = set(statuses) - {NOT_RUN}
    if not seen:
        return NOT_RUN
    for status in ("failed", "retrying", "running"):
        if status in seen:
            return status
    done = seen - {"skipped"}
    if not done:
        return "skipped"
    return done.pop() if len(done) == 1 else "succeeded"


def step_statuses(steps: Iterable[tuple[str, str]]) -> dict[str, str]:
    """(state, status) pairs, one per step record (a fan-out's items repeat a state) -> one
    status per state: ``step_statuses((s.state, s.status) for s in record.steps.values())``."""
    by_state: dict[str, list[str]] = defaultdict(list)
    for state, status in steps:
        by_state[state].append(status)
    return {state: aggregate(values) for state, values in by_state.items()}


def _as_statuses(statuses: Mapping[str, str] | Iterable[tuple[str, str]] | None) -> dict[str, str]:
    if statuses is None:
        return {}
    if isinstance(statuses, Mapping):
        return dict(statuses)
    return step_statuses(statuses)


@dataclass
class Progress:
    """Every state of a workflow with its status in one run."""

    states: dict[str, str] = field(default_factory=dict)  # state name -> status, NOT_RUN when it did not run
    taken: dict[str, int] = field(default_factory=dict)  # If -> branch index (len(branches): else); Try -> handler
    started: bool = False
    completed: bool = False  # the body ran to its end (the picture's "done")

    def status(self, state: str | None) -> str:
        return self.states.get(state, NOT_RUN) if state is not None else NOT_RUN


def _closure(block: Block) -> list[set[int]]:
    closure: list[set[int]] = []
    for deps in block.deps:
        reach = set(deps)
        for d in deps:
            reach |= closure[d]
        closure.append(reach)
    return closure


def _bodies(node: If) -> list[Block | None]:
    return [b.body for b in node.branches] + [node.orelse]


_RECORDED = (StepCall, Approve)  # units that always leave a record when they start


class _Inference:
    def __init__(self, workflow: Workflow, statuses: dict[str, str], run_status: str | None,
                 failed_state: str | None) -> None:
        self.workflow = workflow
        self.statuses = statuses
        self.run_status = run_status
        self.finished = run_status is not None and run_status != "running"
        self.succeeded = run_status == "succeeded"
        self.failed_state = failed_state
        self.decided: dict[str, int] = {}  # If / Try name -> branch / handler, where deduced
        self._evidence: dict[str, bool] = {}
        self.result = Progress()

    # --- what ran for certain ------------------------------------------------------------------

    def evidence(self, node: Node) -> bool:
        """Whether a record shows that the node (or something inside it) ran."""
        key = node.name
        if key not in self._evidence:
            if isinstance(node, StepCall | Approve | CallWorkflow):
                found = key in self.statuses or key == self.failed_state
            elif isinstance(node, Raise):
                found = key == self.failed_state
            elif isinstance(node, If):
                found = any(self.block_evidence(b) for b in _bodies(node))
            elif isinstance(node, FanOut):
                found = self.block_evidence(node.body)
            elif isinstance(node, Try):
                found = self.block_evidence(node.body) or any(self.block_evidence(h.body) for h in node.handlers)
            else:
                found = False
            self._evidence[key] = found
        return self._evidence[key]

    def block_evidence(self, block: Block | None) -> bool:
        return block is not None and any(self.evidence(u.node) for u in block.units)

    # --- one pass over the workflow ----------------------------------------------------------------

    def run(self) -> Progress:
        started = bool(self.statuses) or self.run_status is not None or self.failed_state is not None
        for _ in range(64):  # each pass can only decide more branches; a few passes settle
            before = dict(self.decided)
            self.result = Progress(started=started)
            self.result.completed = self.block(self.workflow.body, entered=started, forced=False, in_try=False)
            if self.decided == before:
                break
        return self.result

    def block(self, block: Block | None, *, entered: bool, forced: bool, in_try: bool) -> bool:
        """Walk a block; whether it ran to its end (every unit done, none ended the path).

        ``entered``: the path reached the block; ``forced``: something after the block ran, so
        it finished."""
        if block is None or not block.units:
            return entered
        closure = _closure(block)
        needed: set[int] = set(range(len(block.units))) if forced else set()
        for j, unit in enumerate(block.units):
            if self.evidence(unit.node):
                needed |= closure[j]
        done = [False] * len(block.units)
        reached = [False] * len(block.units)
        for i, unit in enumerate(block.units):
            ready = entered and all(done[d] for d in block.deps[i])
            done[i], reached[i] = self.unit(unit.node, ready=ready, needed=i in needed, in_try=in_try)
        for i, unit in enumerate(block.units):
            node = unit.node
            if isinstance(node, If) and reached[i] and node.name not in self.result.taken:
                self.eliminate(node, block, i, done, needed=i in needed, in_try=in_try)
        return entered and all(done)

    def unit(self, node: Node, *, ready: bool, needed: bool, in_try: bool) -> tuple[bool, bool]:
        """Set the node's status; (it finished and the path went on past it, it was reached)."""
        states = self.result.states
        name = node.name
        if isinstance(node, StepCall | Approve | CallWorkflow):
            status = self.statuses.get(name)
            if status is None:
                if self.finished and name == self.failed_state:
                    status = "failed"
                elif needed:
                    status = "succeeded"
                elif isinstance(node, CallWorkflow) and ready and self.finished and self.succeeded:
                    status = "succeeded"  # a nested run's record is its own
                else:
                    status = NOT_RUN
            states[name] = status
            return status in OK or needed, status != NOT_RUN
        if isinstance(node, Copy):
            reached = ready or needed
            states[name] = "succeeded" if reached else NOT_RUN
            return reached, reached
        if isinstance(node, Return):
            states[name] = "succeeded" if ready else NOT_RUN
            return False, ready
        if isinstance(node, Raise):
            reached = ready or name == self.failed_state
            states[name] = "failed" if reached else NOT_RUN
            return False, reached
        if isinstance(node, If):
            return self.choice(node, ready=ready, needed=needed, in_try=in_try)
        if isinstance(node, FanOut):
            return self.fan_out(node, ready=ready, needed=needed, in_try=in_try)
        assert isinstance(node, Try)
        return self.try_(node, ready=ready, needed=needed, in_try=in_try)

    def choice(self, node: If, *, ready: bool, needed: bool, in_try: bool) -> tuple[bool, bool]:
        reached = ready or needed or self.evidence(node)
        bodies = _bodies(node)
        taken: int | None = None
        if reached:
            taken = next((k for k, body in enumerate(bodies) if self.block_evidence(body)),
                         self.decided.get(node.name))
        self.result.states[node.name] = "succeeded" if reached else NOT_RUN
        if taken is not None:
            self.result.taken[node.name] = taken
        went_on = needed
        for k, body in enumerate(bodies):
            completed = self.block(body, entered=taken == k, forced=taken == k and needed, in_try=in_try)
            if taken == k:
                went_on = went_on or completed
        return went_on, reached

    def eliminate(self, node: If, block: Block, index: int, done: list[bool], *, needed: bool, in_try: bool) -> None:
        """Decide the branch of a condition that ran when all branches but one cannot have been taken."""
        possible = []
        for k, body in enumerate(_bodies(node)):
            if body is None or not body.units:
                if needed:
                    possible.append(k)
                    continue
                # the path went straight on: what waits only for this condition would have started
                would_start = [j for j, deps in enumerate(block.deps) if index in deps
                               and all(done[d] for d in deps if d != index)]
                if self.finished and any(isinstance(block.units[j].node, _RECORDED)
                                         and block.units[j].node.name not in self.statuses for j in would_start):
                    continue
                possible.append(k)
                continue
            if needed and body.returns:
                continue  # the path went on after the condition; this branch would have ended it
            first = [body.units[j].node for j, deps in enumerate(body.deps) if not deps]
            if any(isinstance(n, _RECORDED) and n.name not in self.statuses for n in first):
                continue  # its first step would have a record
            if self.finished and not in_try and any(isinstance(n, Raise) and n.name != self.failed_state
                                                    for n in first):
                continue  # it raises at once, and the run did not fail there
            possible.append(k)
        if len(possible) == 1:
            self.decided[node.name] = possible[0]

    def fan_out(self, node: FanOut, *, ready: bool, needed: bool, in_try: bool) -> tuple[bool, bool]:
        reached = ready or needed or self.evidence(node)
        self.block(node.body, entered=reached and self.block_evidence(node.body), forced=needed, in_try=in_try)
        inside = aggregate(self.result.states.get(u.node.name, NOT_RUN) for u in node.body.units)
        if not reached:
            status = NOT_RUN
        elif needed:
            status = "succeeded" if inside in (NOT_RUN, "running", "retrying", "failed") else inside
        elif inside == NOT_RUN:  # no item started: none to run, or not yet
            status = "succeeded" if self.finished and self.succeeded else "running" if ready and not \
                self.finished else NOT_RUN
        elif inside in OK and not self.finished:
            status = "running"  # more items may be to come
        else:
            status = inside
        self.result.states[node.name] = status
        return status in OK or needed, reached

    def try_(self, node: Try, *, ready: bool, needed: bool, in_try: bool) -> tuple[bool, bool]:
        reached = ready or needed or self.evidence(node)
        names = _names(node.body)
        handler = next((k for k, h in enumerate(node.handlers) if self.block_evidence(h.body)),
                       self.decided.get(node.name))
        failed = any(self.statuses.get(n) == "failed" for n in names)
        body_done = self.block(node.body, entered=reached, forced=needed and handler is None and not failed,
                               in_try=True)
        inside = aggregate(self.result.states.get(n, NOT_RUN) for n in names)
        if handler is None and inside == "failed" and len(node.handlers) == 1 and (
                needed or (self.finished and self.failed_state not in names)):
            handler = 0  # the failure was caught, by the one handler there is
            self.decided[node.name] = 0
        if handler is not None:
            self.result.taken[node.name] = handler
        went_on = body_done or needed
        for k, h in enumerate(node.handlers):
            completed = self.block(h.body, entered=handler == k, forced=handler == k and needed, in_try=in_try)
            if handler == k:
                went_on = went_on or completed
        if not reached:
            status = NOT_RUN
        elif handler is not None:  # caught: the handler's outcome is the try's
            status = aggregate(self.result.states.get(n, NOT_RUN) for n in _names(node.handlers[handler].body))
            status = "succeeded" if status == NOT_RUN else status
        else:
            status = inside
        self.result.states[node.name] = status
        return went_on, reached


def _names(block: Block) -> list[str]:
    """The names of every state in a block, nested ones included."""
    names: list[str] = []
    for unit in block.units:
        node = unit.node
        names.append(node.name)
        if isinstance(node, If):
            for body in _bodies(node):
                if body is not None:
                    names.extend(_names(body))
        elif isinstance(node, FanOut):
            names.extend(_names(node.body))
        elif isinstance(node, Try):
            names.extend(_names(node.body))
            for handler in node.handlers:
                names.extend(_names(handler.body))
    return names


def progress(workflow: Workflow, statuses: Mapping[str, str] | Iterable[tuple[str, str]] | None, *,
             run_status: str | None = None, failed_state: str | None = None) -> Progress:
    """Every state of ``workflow`` with its status in a run.

    ``statuses``: state name -> step status, or (state, status) pairs (one per step record:
    a fan-out's items are aggregated); ``run_status`` and ``failed_state``: the run's own."""
    return _Inference(workflow, _as_statuses(statuses), run_status, failed_state).run()


def status_classes(graph: Graph, statuses: Mapping[str, str] | Iterable[tuple[str, str]] | None, *,
                   run_status: str | None = None, failed_state: str | None = None) -> dict[str, str]:
    """Node id -> the Mermaid class of its status in a run, for ``to_mermaid(graph, classes=...)``.

    Every node gets one: succeeded, cached (and reused), running (and retrying), failed, or
    notrun. Without the graph's workflow (a graph not made by ``build_graph``) only the
    nodes of steps with a record are known."""
    given = _as_statuses(statuses)
    if graph.workflow is not None:
        found = progress(graph.workflow, given, run_status=run_status, failed_state=failed_state)
    else:
        found = Progress(states=dict(given), started=bool(given))
    classes: dict[str, str] = {}
    for node in graph.nodes.values():
        if node.shape == "start":
            status = "succeeded" if found.started else NOT_RUN
        elif node.shape == "end":
            status = "succeeded" if found.completed else NOT_RUN
        else:
            status = found.status(node.state)
        classes[node.id] = STATUS_CLASSES.get(status, "notrun")
    return classes
