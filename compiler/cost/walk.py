"""The walk: the compiled definition followed from ``StartAt`` (every Choice rule, Catch,
Parallel branch and Map item processor), each state adding what it uses to every way
through it; then the estimate of a workflow and of the workflows it starts."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..dsl.options import Batch
from ..dsl.quotas import DISTRIBUTED_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY
from ..errors import CostError
from ..inputs import INVALID_PARAMETER
from ..ir import CallWorkflow, Copy, FanOut, LiteralValue, StepCall, Workflow
from ..plan import all_nodes
from .calendar import monthly_runs
from .prices import PRICES, Prices, cheapest_instance
from .report import Assumptions, Estimate, MapItems, StepCost, notes_of
from .ways import START, Way, prune

if TYPE_CHECKING:
    from ..pipeline import CompiledWorkflow

__all__ = ["compile_nested", "estimate", "express_blockers"]

APPROVAL_MEMORY_MB = 256  # the approval function both deployers make (compiler/deployment)


def express_blockers(compiled: CompiledWorkflow) -> list[str]:
    """Why this workflow could not be an Express workflow (empty when it could): the
    compiler's own Express rules, applied as if it were declared ``type="express"``."""
    from ..checks import CheckContext
    from ..checks.express import express_duration, express_integrations

    context = CheckContext(workflow=dataclasses.replace(compiled.workflow, type="express"),
                           planner=compiled.planner)
    return [error.message for error in (*express_integrations(context), *express_duration(context))]


def refuses_input(state: Mapping[str, Any]) -> bool:
    """A Fail state of the input checks (a missing parameter, one of the wrong type)."""
    return state.get("Type") == "Fail" and state.get("Error") == INVALID_PARAMETER


def describe_trigger(trigger: Any) -> str:
    kind = type(trigger).__name__
    if kind == "S3Upload":
        return f"s3_upload s3://{trigger.bucket}/{trigger.prefix}*{trigger.suffix}"
    if kind == "WorkflowSucceeded":
        return f"workflow_succeeded {trigger.workflow}"
    return kind


class Walker:
    def __init__(self, compiled: CompiledWorkflow, assumptions: Assumptions, prices: Prices,
                 nested: Mapping[str, Estimate]) -> None:
        self.compiled = compiled
        self.wf: Workflow = compiled.workflow
        self.assumptions = assumptions
        self.prices = prices
        self.nested = nested
        self.calls: dict[str, StepCall] = {}
        self.children: dict[str, CallWorkflow] = {}
        self.fanouts: dict[str, FanOut] = {}
        literals: dict[str, Any] = {}
        for node in all_nodes(self.wf.body):
            if isinstance(node, StepCall):
                self.calls[node.name] = node
            elif isinstance(node, CallWorkflow):
                self.children[node.name] = node
            elif isinstance(node, FanOut):
                self.fanouts[node.name] = node
            elif isinstance(node, Copy) and isinstance(node.value, LiteralValue):
                literals[node.binding] = node.value.value
        self.literals = literals
        self.recorded = assumptions.recorded.get(self.wf.name, {})
        self.steps: dict[str, StepCost] = {}
        self.maps: dict[str, MapItems] = {}

    # what each kind of state costs on its own --------------------------------------------

    def machine(self, machine: Mapping[str, Any]) -> list[Way]:
        states: Mapping[str, Any] = machine["States"]
        order: list[str] = []
        seen: set[str] = set()
        stack: list[tuple[str, bool]] = [(machine["StartAt"], False)]
        on_path: set[str] = set()
        while stack:  # post-order: a state after every state it can go to
            name, done = stack.pop()
            if done:
                on_path.discard(name)
                order.append(name)
                continue
            if name in seen:
                if name in on_path:
                    raise CostError(f"state {name!r} of {self.wf.name} is in a loop; the estimate needs a DAG")
                continue
            seen.add(name)
            on_path.add(name)
            stack.append((name, True))
            stack.extend((target, False) for target in self._targets(states[name]))
        ways: dict[str, list[Way]] = {}
        for name in order:
            state = states[name]
            own = self.state(name, state)
            kind = state["Type"]
            if kind == "Choice":  # a run refused at its first state is no run to estimate
                targets = [t for t in [c["Next"] for c in state.get("Choices", [])] if not refuses_input(states[t])]
                targets += [state["Default"]] if "Default" in state else []
                rest = [p for t in targets for p in ways[t]] + ([] if "Default" in state else [START])
            elif kind in ("Succeed", "Fail") or state.get("End"):
                rest = [START]
            else:
                rest = list(ways[state["Next"]])
            result = [o.then(r) for o in own for r in rest]
            for catcher in state.get("Catch", []):  # the state fails (after its work) and the handler runs
                result.extend(o.then(r) for o in own for r in ways[catcher["Next"]])
            ways[name] = prune(result, self.prices)
        return ways[machine["StartAt"]]

    @staticmethod
    def _targets(state: Mapping[str, Any]) -> list[str]:
        targets = [c["Next"] for c in state.get("Choices", [])] + [c["Next"] for c in state.get("Catch", [])]
        targets += [state[key] for key in ("Next", "Default") if key in state]
        return targets

    def state(self, name: str, state: Mapping[str, Any]) -> list[Way]:
        one = Way(transitions=1)
        kind = state["Type"]
        if kind == "Task":
            return [one.then(p) for p in self.task(name, state)]
        if kind == "Parallel":
            combined = [one]
            for branch in state["Branches"]:
                inner = self.machine(branch)
                combined = prune((c.beside(p) for c in combined for p in inner), self.prices)
            return combined
        if kind == "Map":
            processor = state.get("ItemProcessor") or state["Iterator"]
            distributed = processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
            items = self.items(name)
            limit = int(state.get("MaxConcurrency") or 0)
            if distributed:
                limit = limit or DISTRIBUTED_MAP_CONCURRENCY
            else:
                limit = min(limit or INLINE_MAP_CONCURRENCY, INLINE_MAP_CONCURRENCY)
            waves = math.ceil(items / limit)
            return [one.then(p.times(items, waves)) for p in self.machine(processor)]
        if kind == "Wait":
            return [dataclasses.replace(one, seconds=float(state.get("Seconds", 0)))]
        return [one]  # Pass, Choice, Succeed, Fail

    def task(self, name: str, state: Mapping[str, Any]) -> list[Way]:
        resource = str(state.get("Resource", ""))
        parameters = state.get("Parameters") or {}
        if resource.endswith(":lambda:invoke.waitForTaskToken"):
            seconds = self.assumptions.lambda_seconds
            self.steps[name] = StepCost(self.wf.name, name, "approval", "approval", APPROVAL_MEMORY_MB, seconds,
                                        "default")
            return [Way(lambda_requests=1, lambda_gb_seconds=APPROVAL_MEMORY_MB / 1024 * seconds)]
        if ":states:startExecution.sync" in resource:
            node = self.children.get(name)
            child = self.nested.get(node.workflow) if node else None
            if child is None:
                raise CostError(f"{self.wf.name}: no estimate of the workflow state {name!r} starts",
                                hint="pass the nested workflows' estimates (compile_nested) to estimate()")
            if child.type == "express":
                return [Way(lambda_requests=p.lambda_requests, lambda_gb_seconds=p.lambda_gb_seconds,
                              batch_hours=p.batch_hours, gpu_hours=p.gpu_hours, batch_usd=p.batch_usd,
                              other_usd=p.other_usd + self.prices.express_usd(p.seconds, child.express_memory_mb),
                              seconds=p.seconds) for p in child.paths]
            return list(child.paths)
        call = self.calls.get(name) or self.calls.get(str(parameters.get("Payload", {}).get("state", "")))
        if call is None:
            raise CostError(f"{self.wf.name}: Task state {name!r} ({resource}) is not a step this estimate knows")
        info = call.step.compute
        seconds, source, capped = self.duration(call)
        if isinstance(info, Batch):
            instance = cheapest_instance(info.gpus, info.vcpus, info.memory, self.prices, info.instances)
            self.steps[name] = StepCost(self.wf.name, name, call.step.name, "batch", info.memory, seconds, source,
                                        instance=instance.name, usd_per_hour=instance.usd_per_hour, gpus=info.gpus,
                                        vcpus=info.vcpus, capped=capped)
            billed = max(seconds, self.prices.batch_min_seconds) / 3600
            return [Way(batch_hours=billed, gpu_hours=info.gpus * seconds / 3600,
                          batch_usd=billed * instance.usd_per_hour, seconds=seconds)]
        self.steps[name] = StepCost(self.wf.name, name, call.step.name, "lambda", info.memory, seconds, source,
                                    capped=capped)
        return [Way(lambda_requests=1, lambda_gb_seconds=info.memory / 1024 * seconds, seconds=seconds)]

    def duration(self, call: StepCall) -> tuple[float, str, bool]:
        given = self.assumptions.durations
        if call.name in given or call.step.name in given:
            seconds, source = given.get(call.name, given.get(call.step.name, 0.0)), "--duration"
        elif call.name in self.recorded or call.step.name in self.recorded:
            seconds = self.recorded.get(call.name, self.recorded.get(call.step.name, 0.0))
            source = "recorded"
        else:
            batch = isinstance(call.step.compute, Batch)
            seconds = self.assumptions.batch_seconds if batch else self.assumptions.lambda_seconds
            source = "default"
        limits = [t for t in (call.step.timeout, getattr(call.step.compute, "timeout_seconds", None)) if t]
        if limits and seconds > min(limits):
            return float(min(limits)), source, True
        return float(seconds), source, False

    def items(self, name: str) -> int:
        fan = self.fanouts.get(name)
        by_map = self.assumptions.items_by_map
        inner: set[str] = set()
        literal: Any = None
        if fan is not None:
            inner = {n.step.name for n in all_nodes(fan.body) if isinstance(n, StepCall)}
            items = fan.items
            literal = items.value if isinstance(items, LiteralValue) else self.literals.get(getattr(items, "key", ""))
        chosen = next((k for k in [name, *sorted(inner)] if k in by_map), None)
        if chosen is not None:
            count, source = by_map[chosen], f"--items {chosen}="
        elif isinstance(literal, list):
            count, source = len(literal), "a literal list"
        elif self.assumptions.items is not None:
            count, source = self.assumptions.items, "--items"
        elif fan is not None and fan.max_items is not None:
            count, source = fan.max_items, "the declared most"
        else:
            count, source = self.assumptions.default_items, "default"
        if fan is not None and fan.max_items is not None and count > fan.max_items and source != "default":
            count, source = fan.max_items, f"{source}, capped at the declared most"
        self.maps[name] = MapItems(self.wf.name, name, count, source)
        return count


def compile_nested(compiled: CompiledWorkflow) -> dict[str, CompiledWorkflow]:
    """Every workflow ``compiled`` starts, transitively, compiled (raises CompileError)."""
    from ..dsl.decorated import import_ref
    from ..pipeline import compile_workflow

    found: dict[str, CompiledWorkflow] = {}
    pending = [compiled]
    while pending:
        current = pending.pop()
        for node in all_nodes(current.workflow.body):
            if isinstance(node, CallWorkflow) and node.workflow not in found and node.workflow != compiled.name:
                child = compile_workflow(import_ref(node.ref))
                found[node.workflow] = child
                pending.append(child)
    return found


def state_names(compiled: CompiledWorkflow) -> tuple[set[str], set[str]]:
    """(step and state names a duration can be given for, names a fan-out's items can be given for)."""
    steps: set[str] = set()
    maps: set[str] = set()
    for node in all_nodes(compiled.workflow.body):
        if isinstance(node, StepCall):
            steps.update((node.name, node.step.name))
        elif isinstance(node, FanOut):
            maps.add(node.name)
            maps.update(n.step.name for n in all_nodes(node.body) if isinstance(n, StepCall))
    return steps, maps


def check_names(compiled: CompiledWorkflow, nested: Mapping[str, CompiledWorkflow],
                 assumptions: Assumptions) -> None:
    steps: set[str] = set()
    maps: set[str] = set()
    for each in (compiled, *nested.values()):
        more_steps, more_maps = state_names(each)
        steps |= more_steps
        maps |= more_maps
    for name in assumptions.durations:
        if name not in steps:
            import difflib

            close = difflib.get_close_matches(name, sorted(steps), n=1)
            raise CostError(f"{compiled.name} has no step named {name!r}" + (f" (did you mean {close[0]!r}?)"
                                                                             if close else ""),
                            hint=f"its steps: {', '.join(sorted(steps))}")
    for name in assumptions.items_by_map:
        if name not in maps:
            raise CostError(f"{compiled.name} has no fan-out named {name!r}",
                            hint=f"name a fan-out by its state or a step it runs: {', '.join(sorted(maps))}"
                            if maps else f"{compiled.name} has no fan-out; drop --items")


def estimate(compiled: CompiledWorkflow, assumptions: Assumptions | None = None, *,
             nested: Mapping[str, CompiledWorkflow] | None = None, prices: Prices = PRICES) -> Estimate:
    """Estimate one run of ``compiled`` (and a month, a thousand runs) under ``assumptions``.

    ``nested``: the workflows it starts, compiled (default: :func:`compile_nested`, which
    imports them). Raises :class:`CostError` for an assumption naming an unknown step or
    fan-out, or a Batch job no instance fits.
    """
    assumptions = assumptions or Assumptions()
    if nested is None:
        nested = compile_nested(compiled)
    check_names(compiled, nested, assumptions)
    return estimate_with(compiled, assumptions, dict(nested), prices, {})


def estimate_with(compiled: CompiledWorkflow, assumptions: Assumptions, nested: Mapping[str, CompiledWorkflow],
              prices: Prices, done: dict[str, Estimate]) -> Estimate:
    wf = compiled.workflow
    children: dict[str, Estimate] = {}
    for node in all_nodes(wf.body):
        if isinstance(node, CallWorkflow) and node.workflow not in children:
            if node.workflow not in done:
                if node.workflow not in nested:
                    raise CostError(f"{wf.name} starts {node.workflow}, which was not compiled",
                                    hint="pass nested=compile_nested(compiled), or leave nested out")
                done[node.workflow] = estimate_with(nested[node.workflow], assumptions, nested, prices, done)
            children[node.workflow] = done[node.workflow]
    walker = Walker(compiled, assumptions, prices, children)
    paths = tuple(walker.machine(compiled.definition))
    schedules = tuple((s.expression, s.timezone, monthly_runs(s)) for s in wf.schedules)
    result = Estimate(
        workflow=wf.name, type=wf.type, prices=prices, paths=paths, express_blockers=tuple(express_blockers(compiled)),
        express_memory_mb=assumptions.express_memory_mb, schedules=schedules,
        triggers=tuple(describe_trigger(t) for t in wf.triggers), runs_per_month_option=assumptions.runs_per_month,
        steps=tuple(walker.steps[name] for name in sorted(walker.steps)),
        maps=tuple(walker.maps[name] for name in sorted(walker.maps)), nested=tuple(children.values()))
    return dataclasses.replace(result, notes=notes_of(result, assumptions, prices))
