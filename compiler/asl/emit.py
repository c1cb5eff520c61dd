"""IR -> Amazon States Language (JSONPath query language).

Each block is laid out as nested sequences and Parallel states (``compiler.plan``); each
unit becomes its states. The emitter tracks, at every point, which values the state
holds (``present``) and which the rest of the run still needs (``live``): a step's result
is stored only when something reads it, and a Parallel state keeps only what is needed
after it, so the state stays small.

Fragments are wired by their *exits*: the transitions still open after a fragment (a
Task's ``Next``, a Choice's ``Default``...). Chaining two fragments points the first one's
exits at the second one's entry; at the end of a machine the exits become ``End`` (or a
final Pass when the state there cannot end, such as a Choice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..deployment.names import COMMENT_PREFIX
from ..inputs import input_rules
from ..ir import (
    Approve,
    BindingKind,
    BindingRef,
    Block,
    CallWorkflow,
    Copy,
    FanOut,
    If,
    Node,
    Raise,
    Return,
    StepCall,
    Try,
    Unit,
    Workflow,
)
from ..limits import SizeTracker
from ..plan import Planner
from ..protocol import MAP_PATH_KEY, RUN_KEY, VARS_KEY, envelope
from ..seriesparallel import Leaf, Parallel, Series, SPNode
from .comments import SourceComments
from .fragments import CatchContext, Exit, Fragment, Scope, fill_pass, leaves, wire
from .inputs import input_states
from .maps import distribute, item_selector
from .resources import ResourceRef, ResourceUse
from .states import (
    Catcher,
    ChoiceState,
    FailState,
    MapState,
    NameRegistry,
    ParallelState,
    PassState,
    StateMachine,
    TaskState,
)
from .tasks import TaskBuilder
from .values import ValuePaths

__all__ = ["EmitOptions", "emit_asl"]

@dataclass(frozen=True)
class EmitOptions:
    inline_limit: int
    batch_as_lambda: bool = False  # where there is no AWS Batch (LocalStack): Batch steps invoke the runner
    map_concurrency: int | None = None  # the most items any fan-out may run at once (LocalStack's cap)


class Emitter:
    def __init__(self, workflow: Workflow, planner: Planner, options: EmitOptions, tracker: SizeTracker) -> None:
        self.wf = workflow
        self.planner = planner
        self.options = options
        self.tracker = tracker
        self.registry = NameRegistry()
        self._claim_names(workflow.body)
        self.inputs = input_rules(workflow)  # the first states: defaults and input checks
        for name in self.inputs.state_names:
            self.registry.claim(name)
        self.comments = SourceComments(workflow)
        self.paths = ValuePaths(workflow.name, workflow.bindings, workflow.params.names)
        self.resources = ResourceUse()
        self.tasks = TaskBuilder(workflow, self.paths, options.inline_limit, self.resources)

    def _claim_names(self, block: Block) -> None:
        from ..plan import blocks_of

        for unit in block.units:
            self.registry.claim(unit.node.name)
            for inner in blocks_of(unit.node):
                self._claim_names(inner)

    # --- machines --------------------------------------------------------------------------

    def emit(self) -> dict[str, Any]:
        machine = StateMachine(self.registry)
        scope = Scope(machine, "top", in_map=False, base=self.tracker.sizes.params)
        fragment, _ = self.block(scope, self.wf.body, frozenset(), frozenset())
        self.finish(scope, fragment)
        assert machine.start_at is not None
        machine.start_at = input_states(self.inputs, machine, machine.start_at, self.comments.parameter)
        self.comments.annotate(machine)
        out: dict[str, Any] = {}
        # the prefix says whose state machine this is (stepstone's commands find theirs by it)
        comment = f"{COMMENT_PREFIX}{self.wf.name}"
        if self.wf.doc.strip():
            comment += ": " + self.wf.doc.strip().splitlines()[0]
        out["Comment"] = comment
        out.update(machine.render())
        if self.wf.timeout is not None:
            out["TimeoutSeconds"] = self.wf.timeout
        return out

    def finish(self, scope: Scope, fragment: Fragment | None) -> None:
        """Close the machine: its open exits end it (with its output, for a fan-out item)."""
        if fragment is None:
            raise AssertionError("a state machine without states")
        scope.machine.start_at = fragment.entry
        exits = fragment.exits
        if not exits:
            return
        if scope.kind == "top":
            done = PassState(self.registry.fresh("done"), result=envelope(None), end=True)
            scope.machine.add(done)
            wire(exits, done.name)
            return
        output_path = self._output_path(scope)
        closable = [e for e in exits if e.slot == "next" and isinstance(e.state, (TaskState, PassState,
                                                                                  ParallelState, MapState))]
        if scope.kind == "branch" or output_path is not None:
            for ex in closable:
                ex.state.end = True
                if scope.kind == "iteration":
                    ex.state.output_path = output_path
            rest = [e for e in exits if e not in closable]
        else:
            rest = exits
        if rest:
            final = self._output_state(scope, "item done" if scope.kind == "iteration" else "branch done")
            scope.machine.add(final)
            wire(rest, final.name)

    def _output_path(self, scope: Scope) -> str | None:
        if scope.kind != "iteration":
            return None
        if scope.result is None:
            # Nothing collects this item's result: output only its small map_path, so the
            # Map's (discarded) list of outputs stays small however large the items' states.
            return f"$.{MAP_PATH_KEY}"
        return self.paths.state_path(scope.result) if isinstance(scope.result, BindingRef) and \
            self.wf.bindings[scope.result.key].kind is not BindingKind.DEFERRED else None

    def _output_state(self, scope: Scope, base: str) -> PassState:
        name = self.registry.fresh(base)
        if scope.kind != "iteration":
            return PassState(name, end=True)
        if scope.result is None:
            return PassState(name, input_path=f"$.{MAP_PATH_KEY}", end=True)
        value = scope.result
        assert isinstance(value, BindingRef)
        binding = self.wf.bindings[value.key]
        if binding.kind is BindingKind.DEFERRED:
            return PassState(name, parameters=self.paths.deferred_envelope(binding, scope.in_map), end=True)
        return PassState(name, input_path=self.paths.state_path(value), end=True)

    # --- blocks and layouts ------------------------------------------------------------------

    def block(self, scope: Scope, block: Block, live: frozenset[str],
              present: frozenset[str]) -> tuple[Fragment | None, frozenset[str]]:
        if not block.units:
            return None, present
        self.tracker.state(scope.base, present)
        tree = self.planner.layout(block).tree
        return self.tree(scope, block, tree, live, present)

    def _reads(self, block: Block, tree: SPNode) -> frozenset[str]:
        if isinstance(tree, Leaf):
            return block.units[tree.index].reads
        out: set[str] = set()
        for part in tree.parts:
            out |= self._reads(block, part)
        return frozenset(out)

    def tree(self, scope: Scope, block: Block, tree: SPNode, live: frozenset[str],
             present: frozenset[str]) -> tuple[Fragment | None, frozenset[str]]:
        if isinstance(tree, Leaf):
            return self.unit(scope, block.units[tree.index], live, present)
        if isinstance(tree, Series):
            return self.series(scope, block, tree, live, present)
        return self.parallel(scope, block, tree, live, present)

    def series(self, scope: Scope, block: Block, tree: Series, live: frozenset[str],
               present: frozenset[str]) -> tuple[Fragment | None, frozenset[str]]:
        later: list[frozenset[str]] = []
        needed = live
        for part in reversed(tree.parts):
            later.append(needed)
            needed = needed | self._reads(block, part)
        later.reverse()
        first: Fragment | None = None
        exits: list[Exit] = []
        for part, live_after in zip(tree.parts, later, strict=True):
            if first is not None and isinstance(part, Leaf) and self._fold_return(block.units[part.index], exits):
                exits = []
                continue
            fragment, present = self.tree(scope, block, part, live_after, present)
            if fragment is None:
                continue
            if first is None:
                first = fragment
            else:
                wire(exits, fragment.entry)
            exits = fragment.exits
        if first is None:
            return None, present
        return Fragment(first.entry, exits), present

    def _fold_return(self, unit: Unit, exits: list[Exit]) -> bool:
        """``return x`` right after the state that made ``x``: end that state instead of adding one."""
        node = unit.node
        if not isinstance(node, Return) or len(exits) != 1 or exits[0].slot != "next":
            return False
        state = exits[0].state
        value = node.value
        if not isinstance(state, TaskState) or not isinstance(value, BindingRef) or value.path:
            return False
        if self.wf.bindings[value.key].kind is not BindingKind.RESULT or state.result_path != \
                self.paths.var_path(value.key):
            return False
        state.end = True
        state.output_path = self.paths.var_path(value.key)
        return True

    def parallel(self, scope: Scope, block: Block, tree: Parallel, live: frozenset[str],
                 present: frozenset[str]) -> tuple[Fragment | None, frozenset[str]]:
        first_names = [self._first_name(block, part) for part in tree.parts]
        name = self.registry.fresh(" + ".join(first_names)[:76] if len(" + ".join(first_names)) <= 76
                                   else f"{first_names[0]} + {len(first_names) - 1} more")
        # Each branch gets only what the branches read and what must outlive the Parallel,
        # so the branches' combined result (every branch's final state) stays small.
        units = [block.units[i] for i in leaves(tree)]
        fields: set[str] = set()
        reads: set[str] = set()
        for unit in units:
            fields |= self.planner.unit_params(unit)
            reads |= unit.reads
        passed = frozenset((reads | live) & present)
        parameters: dict[str, Any] = {f"{name}.$": f"$.{name}" for name in sorted(fields)}
        parameters[VARS_KEY] = {f"{key}.$": self.paths.var_path(key) for key in sorted(passed)}
        if scope.in_map:
            parameters[f"{MAP_PATH_KEY}.$"] = f"$.{MAP_PATH_KEY}"
        if self.paths.run_forwarded:
            parameters[f"{RUN_KEY}.$"] = f"$.{RUN_KEY}"
        base = self.tracker.sizes.param_fields(fields)
        branches: list[StateMachine] = []
        ends: list[frozenset[str]] = []
        for part in tree.parts:
            machine = StateMachine(self.registry)
            branch_scope = Scope(machine, "branch", in_map=scope.in_map, base=base, outer_names=scope.caught_names())
            fragment, after = self.tree(branch_scope, block, part, live, passed)
            if fragment is None:
                continue  # nothing of this branch needs a state
            self.finish(branch_scope, fragment)
            branches.append(machine)
            ends.append(after)
        if not branches:
            return None, present
        self.tracker.combined(base, ends)
        keep: dict[str, str] = {}
        for key in sorted(live):
            if key in passed:
                keep[f"{key}.$"] = f"$[0].{VARS_KEY}.{key}"
                continue
            for index, after in enumerate(ends):
                if key in after:
                    keep[f"{key}.$"] = f"$[{index}].{VARS_KEY}.{key}"
                    break
        starts = (self._first_unit(block, part).location for part in tree.parts)
        state = ParallelState(name, branches=branches, parameters=parameters, catch=scope.catchers(),
                              comment=self.comments.side_by_side(starts))
        if keep:
            state.result_selector = keep
            state.result_path = f"$.{VARS_KEY}"
        scope.machine.add(state)
        kept = frozenset(k[:-2] for k in keep)
        return Fragment(name, [Exit(state, "next")]), kept if keep else present

    def _first_name(self, block: Block, tree: SPNode) -> str:
        return self._first_unit(block, tree).name

    def _first_unit(self, block: Block, tree: SPNode) -> Node:
        while not isinstance(tree, Leaf):
            tree = tree.parts[0]
        return block.units[tree.index].node

    # --- units ---------------------------------------------------------------------------------

    def unit(self, scope: Scope, unit: Unit, live: frozenset[str],
             present: frozenset[str]) -> tuple[Fragment | None, frozenset[str]]:
        fragment, after = self._unit(scope, unit, live, present)
        self.tracker.state(scope.base, after)
        return fragment, after

    def _unit(self, scope: Scope, unit: Unit, live: frozenset[str],
              present: frozenset[str]) -> tuple[Fragment | None, frozenset[str]]:
        node = unit.node
        if isinstance(node, StepCall):
            return self.step(scope, node, live, present)
        if isinstance(node, CallWorkflow):
            return self.call_workflow(scope, node, live, present)
        if isinstance(node, Approve):
            return self.approve(scope, node, live, present)
        if isinstance(node, Copy):
            return self.copy(scope, node, live, present)
        if isinstance(node, If):
            return self.choice(scope, node, live, present)
        if isinstance(node, FanOut):
            return self.fan_out(scope, node, live, present)
        if isinstance(node, Try):
            return self.try_(scope, node, live, present)
        if isinstance(node, Return):
            return self.return_(scope, node), present
        assert isinstance(node, Raise)
        return self.raise_(scope, node), present

    def _stored(self, key: str | None, live: frozenset[str], present: frozenset[str]) -> tuple[str | None,
                                                                                            frozenset[str]]:
        if key is not None and key in live:
            return self.paths.var_path(key), present | {key}
        return None, present

    def _task(self, scope: Scope, state: TaskState, after: frozenset[str]) -> tuple[Fragment, frozenset[str]]:
        scope.machine.add(state)
        return Fragment(state.name, [Exit(state, "next")]), after

    def step(self, scope: Scope, node: StepCall, live: frozenset[str],
             present: frozenset[str]) -> tuple[Fragment, frozenset[str]]:
        if node.step.is_batch and self.options.batch_as_lambda:
            state = self.tasks.lambda_step(node, scope.in_map, scope.catchers(), None, batch=True)
            return self._task(scope, state, present)
        if node.step.is_batch:  # a Batch job's output goes to S3, never into the state
            return self._task(scope, self.tasks.batch_step(node, scope.in_map, scope.catchers()), present)
        result_path, after = self._stored(node.binding, live, present)
        state = self.tasks.lambda_step(node, scope.in_map, scope.catchers(), result_path, scope.outer_names)
        return self._task(scope, state, after)

    def call_workflow(self, scope: Scope, node: CallWorkflow, live: frozenset[str],
                      present: frozenset[str]) -> tuple[Fragment, frozenset[str]]:
        result_path, after = self._stored(node.binding, live, present)
        return self._task(scope, self.tasks.nested_run(node, scope.in_map, scope.catchers(), result_path), after)

    def approve(self, scope: Scope, node: Approve, live: frozenset[str],
                present: frozenset[str]) -> tuple[Fragment, frozenset[str]]:
        result_path, after = self._stored(node.binding, live, present)
        return self._task(scope, self.tasks.approval(node, scope.catchers(), result_path), after)

    def copy(self, scope: Scope, node: Copy, live: frozenset[str],
             present: frozenset[str]) -> tuple[Fragment | None, frozenset[str]]:
        if node.binding not in live:
            return None, present
        state = PassState(node.name, result_path=self.paths.var_path(node.binding))
        fill_pass(state, self.paths.copied(node.value, self.wf.bindings[node.binding], scope.in_map))
        scope.machine.add(state)
        return Fragment(state.name, [Exit(state, "next")]), present | {node.binding}

    def choice(self, scope: Scope, node: If, live: frozenset[str],
               present: frozenset[str]) -> tuple[Fragment, frozenset[str]]:
        state = ChoiceState(node.name)
        scope.machine.add(state)
        exits: list[Exit] = []
        afters: list[frozenset[str]] = []
        for index, branch in enumerate(node.branches):
            state.choices.append((self.paths.rule(branch.condition), None))
            fragment, after = self.block(scope, branch.body, live, present)
            if fragment is None:
                exits.append(Exit(state, index))
            else:
                wire([Exit(state, index)], fragment.entry)
                exits.extend(fragment.exits)
            if not branch.body.returns:
                afters.append(after)
        if node.orelse is not None:
            fragment, after = self.block(scope, node.orelse, live, present)
        else:
            fragment, after = None, present
        if fragment is None:
            exits.append(Exit(state, "default"))
        else:
            state.default = fragment.entry
            exits.extend(fragment.exits)
        if node.orelse is None or not node.orelse.returns:
            afters.append(after)
        common = frozenset.intersection(*afters) if afters else present
        return Fragment(state.name, exits), common

    def fan_out(self, scope: Scope, node: FanOut, live: frozenset[str],
                present: frozenset[str]) -> tuple[Fragment, frozenset[str]]:
        machine = StateMachine(self.registry)
        params_used = self.planner.params_used(node.body)
        inner = Scope(machine, "iteration", in_map=True, result=node.result, outer_names=scope.caught_names(),
                      base=self.tracker.sizes.param_fields(params_used))
        result_keys = frozenset({node.result.key}) if isinstance(node.result, BindingRef) else frozenset()
        outer = sorted(self.planner.free_reads(node.body) - {node.item})
        run_name, run_id = self.paths.run_name, self.paths.run_id  # as this Map's own state reads them
        distributed = node.mode != "inline"
        if distributed:  # each item a child execution: its states read the run from their input
            self.paths.run_name, self.paths.run_id = f"$.{RUN_KEY}.name", f"$.{RUN_KEY}.id"
        try:
            fragment, _ = self.block(inner, node.body, result_keys, frozenset(outer) | {node.item})
            if fragment is None:
                raise AssertionError("a fan-out body without states")
            self.finish(inner, fragment)
        finally:
            self.paths.run_name, self.paths.run_id = run_name, run_id
        selector = item_selector(self.paths, node, sorted(params_used), outer, in_map=scope.in_map,
                                 distributed=distributed, run=(run_name, run_id))
        state = MapState(node.name, processor=machine, item_selector=selector, catch=scope.catchers(),
                         max_concurrency=self._concurrency(node.max_concurrency))
        result_path, after = self._stored(node.binding, live, present)
        state.result_path = result_path
        items = node.items
        if node.mode == "inline":
            state.items_path = self.paths.items_path(items)
        else:
            distribute(state, self.paths, self.resources, self.wf, node, in_map=scope.in_map, run_name=run_name,
                       keeps_result=result_path is not None)
        scope.machine.add(state)
        return Fragment(state.name, [Exit(state, "next")]), after

    def _concurrency(self, asked: int) -> int | None:
        cap = self.options.map_concurrency
        if cap is None:
            return asked or None
        return asked if 0 < asked <= cap else cap

    def try_(self, scope: Scope, node: Try, live: frozenset[str],
             present: frozenset[str]) -> tuple[Fragment | None, frozenset[str]]:
        handler_reads: set[str] = set()
        for handler in node.handlers:
            handler_reads |= self.planner.free_reads(handler.body)
        exits: list[Exit] = []
        afters: list[frozenset[str]] = []
        context = CatchContext(catchers=[], handlers=[])
        for handler in node.handlers:
            handler_present = present | ({handler.binding} if handler.binding else frozenset())
            fragment, after = self.block(scope, handler.body, live, handler_present)
            assert fragment is not None, "an except block without states"
            result_path = self.paths.var_path(handler.binding) if handler.binding else None
            context.catchers.append(Catcher(handler.errors, fragment.entry, result_path))
            context.handlers.append((handler.errors, handler.binding, fragment.entry))
            exits.extend(fragment.exits)
            if not handler.body.returns:
                afters.append(after)
        scope.catches.append(context)
        try:
            fragment, after = self.block(scope, node.body, live | handler_reads, present)
        finally:
            scope.catches.pop()
        if fragment is None:
            return None, present
        exits = fragment.exits + exits
        if not node.body.returns:
            afters.append(after)
        common = frozenset.intersection(*afters) if afters else present
        return Fragment(fragment.entry, exits), common

    def return_(self, scope: Scope, node: Return) -> Fragment:
        state = PassState(node.name, end=True)
        fill_pass(state, self.paths.returned(node.value, scope.in_map))
        scope.machine.add(state)
        return Fragment(state.name, [])

    def raise_(self, scope: Scope, node: Raise) -> Fragment:
        for context in reversed(scope.catches):
            for errors, error_key, entry in context.handlers:
                if node.rethrow is None and (errors == ("States.ALL",) or node.error in errors):
                    jump = PassState(node.name, next=entry)
                    if error_key:
                        jump.result = {"Cause": node.cause, "Error": node.error}
                        jump.result_path = self.paths.var_path(error_key)
                    scope.machine.add(jump)
                    return Fragment(jump.name, [])
        if node.rethrow is not None:
            state = FailState(node.name, error_path=f"{self.paths.var_path(node.rethrow)}.Error",
                              cause_path=f"{self.paths.var_path(node.rethrow)}.Cause")
        else:
            state = FailState(node.name, error=node.error, cause=node.cause or None)
        scope.machine.add(state)
        return Fragment(state.name, [])


def emit_asl(workflow: Workflow, planner: Planner, options: EmitOptions,
             tracker: SizeTracker) -> tuple[dict[str, Any], tuple[ResourceRef, ...]]:
    """The ASL of ``workflow`` and the resources it names; ``tracker`` is told the size of every state made."""
    emitter = Emitter(workflow, planner, options, tracker)
    return emitter.emit(), emitter.resources.sorted()
