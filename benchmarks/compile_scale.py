"""Compile scale: how long compiling a workflow of 100, 1,000 and 5,000 steps takes.

The workflows are random (:func:`benchmarks.dags.mixed_workflow`, one seed: each size is
the start of the next): step calls wired by random data flow (1 to 3 earlier results each),
``if`` branches and fan-outs over a list parameter. Each is written as a module under
``ctx.work`` and imported first (the import is timed on its own and not counted); what is
timed is ``compiler.compile_workflow``: parsing the body's syntax tree, every check, the
layout, emitting the ASL twice (once to measure the states, once with the inline limit that
fits) and serializing it for the size check.

Two baselines, each given the same ASL:

- the floor: ``json.dumps`` of the compiled definition, as the compiler writes it (two-space
  indent, sorted keys). Compiling can never cost less than writing its output once.
- the peer: the same state graph built with the AWS CDK's ``aws_cdk.aws_stepfunctions``
  constructs (``CustomState`` for each Task and Pass, ``Parallel`` with its branches,
  ``Choice`` with ``Condition`` rules, ``Map`` with its item processor), chained with
  ``.next()`` in a fresh ``Stack`` and rendered with ``StateGraph(...).to_graph_json()``
  (its tokens resolved by the stack).
  Turning our ASL into a list of construct calls happens before and is not timed; no
  CloudFormation template is synthesized. This is what it costs to write the same state
  machine with the CDK at the least; it is handed the layout ready-made (none of the
  parsing, checks and layout the compiler does), so the comparison favours the peer. The
  rendered graph is checked to be our ASL.

Step Functions takes a definition of at most 1 MB, runs of at most 25,000 history events,
and states of at most 256 KiB. The compiler proves these and rejects a workflow that could
break them. Random workflows of 1,000 steps and more break them, so the compile time at every
size is measured with those three quotas lifted (the same work, minus the rejection), the
figures say which quotas each size breaks, and one figure gives the largest size of the
same workflow that compiles as is.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from compiler import CompileError, compile_workflow, limits, pipeline
from compiler.checks import limits as limit_checks
from compiler.dsl import quotas

from .core import Context, Figure, best_of, timed
from .dags import load, mixed_workflow, module_token, unload

__all__ = ["cdk_plan", "quotas_lifted", "run"]

BENCHMARK = "compile"
SIZES = (100, 1_000, 5_000)
SMOKE_SIZES = (10, 20, 40)
PEER_BUDGET = 60.0  # seconds: the CDK peer is not run at a size it would take longer at
DEFINITION_LIMIT = quotas.DEFINITION_LIMIT
HISTORY_LIMIT = quotas.HISTORY_LIMIT
MIN_INLINE = limits.MIN_INLINE
FLOOR = "json.dumps of the same ASL (indent=2, sort_keys)"
PEER = "AWS CDK aws_stepfunctions constructs, built and rendered"


@contextmanager
def quotas_lifted() -> Iterator[None]:
    """Compile as if Step Functions had no definition, history or payload quota: every check
    still runs and the same ASL is emitted; only the final verdicts never reject."""
    with mock.patch.object(pipeline, "DEFINITION_LIMIT", math.inf), \
            mock.patch.object(limit_checks, "HISTORY_LIMIT", math.inf), \
            mock.patch.object(limits, "MIN_INLINE", 0):
        yield


def floor(definition: Mapping[str, Any]) -> str:
    return json.dumps(definition, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def repeats(steps: int) -> int:
    return 5 if steps <= 200 else 3 if steps <= 1_000 else 1


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


# --- the CDK peer --------------------------------------------------------------------------

# A plan: the construct calls that build a state graph, worked out from the ASL beforehand.
#   states: (kind, name, props) to create;  links: ("next", a, b) | ("branch", a, Plan) |
#   ("processor", a, Plan) | ("when", a, condition, b) | ("otherwise", a, b)
# A condition is ("rule", method of sfn.Condition, args) or (combinator, [conditions]).


@dataclass
class Plan:
    start: str
    states: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[Any, ...]] = field(default_factory=list)


_KINDS = {"Numeric": "number", "String": "string", "Boolean": "boolean", "Timestamp": "timestamp"}
_OPS = {"Equals": "equals", "LessThan": "less_than", "LessThanEquals": "less_than_equals",
        "GreaterThan": "greater_than", "GreaterThanEquals": "greater_than_equals"}
_TESTS = {"IsNull": "null", "IsPresent": "present", "IsBoolean": "boolean", "IsNumeric": "numeric",
          "IsString": "string", "IsTimestamp": "timestamp"}


def _condition(rule: Mapping[str, Any]) -> tuple[Any, ...]:
    for combinator in ("And", "Or"):
        if combinator in rule:
            return (combinator.lower() + "_", [_condition(r) for r in rule[combinator]])
    if "Not" in rule:
        return ("not_", [_condition(rule["Not"])])
    variable = rule["Variable"]
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key in _TESTS:
            return ("rule", f"is_{'' if value else 'not_'}{_TESTS[key]}", (variable,))
        path = key.endswith("Path")
        base = key[: -len("Path")] if path else key
        for prefix, kind in _KINDS.items():
            if base.startswith(prefix) and base[len(prefix):] in _OPS:
                method = f"{kind}_{_OPS[base[len(prefix):]]}{'_json_path' if path else ''}"
                return ("rule", method, (variable, value))
    raise ValueError(f"no CDK condition for the Choice rule {rule}")


_PARALLEL_KEYS = {"Type", "Comment", "Branches", "Next", "End", "Parameters", "ResultPath", "ResultSelector",
                  "InputPath", "OutputPath"}
_MAP_KEYS = {"Type", "Comment", "ItemProcessor", "Next", "End", "ItemsPath", "ItemSelector", "ResultPath",
             "ResultSelector", "MaxConcurrency", "InputPath", "OutputPath"}


def cdk_plan(states: Mapping[str, Any], start: str) -> Plan:
    """The construct calls that build ``states`` (one level of an ASL definition, and those inside)."""
    plan = Plan(start)
    for name, state in states.items():
        kind = state["Type"]
        if kind == "Parallel":
            unknown = set(state) - _PARALLEL_KEYS
            props = {"parameters": state.get("Parameters"), "result_selector": state.get("ResultSelector"),
                     "input_path": state.get("InputPath"), "output_path": state.get("OutputPath"),
                     "comment": state.get("Comment")}
            plan.states.append(("Parallel", name, {**props, "result_path": state.get("ResultPath", "")}))
            for branch in state["Branches"]:
                plan.links.append(("branch", name, cdk_plan(branch["States"], branch["StartAt"])))
        elif kind == "Map":
            unknown = set(state) - _MAP_KEYS
            processor = state["ItemProcessor"]
            if processor.get("ProcessorConfig", {}).get("Mode", "INLINE") != "INLINE":
                unknown.add("ProcessorConfig")
            props = {"items_path": state.get("ItemsPath"), "item_selector": state.get("ItemSelector"),
                     "result_selector": state.get("ResultSelector"), "max_concurrency": state.get("MaxConcurrency"),
                     "input_path": state.get("InputPath"), "output_path": state.get("OutputPath"),
                     "comment": state.get("Comment")}
            plan.states.append(("Map", name, {**props, "result_path": state.get("ResultPath", "")}))
            plan.links.append(("processor", name, cdk_plan(processor["States"], processor["StartAt"])))
        elif kind == "Choice":
            unknown = set(state) - {"Type", "Comment", "Choices", "Default"}
            plan.states.append(("Choice", name, {"comment": state.get("Comment")}))
            for rule in state["Choices"]:
                plan.links.append(("when", name, _condition(rule), rule["Next"]))
            if "Default" in state:
                plan.links.append(("otherwise", name, state["Default"]))
        elif kind == "Fail":  # a CustomState would gain "End": true
            unknown = set(state) - {"Type", "Comment", "Error", "Cause"}
            plan.states.append(("Fail", name, {"comment": state.get("Comment"), "error": state.get("Error"),
                                               "cause": state.get("Cause")}))
        else:  # Task, Pass, Succeed: rendered as written
            unknown = set()
            body = {k: v for k, v in state.items() if k not in ("Next", "End")}
            plan.states.append(("Custom", name, {"state_json": body}))
        if unknown:
            raise ValueError(f"state {name!r}: no CDK property for {sorted(unknown)}")
        if "Next" in state:
            plan.links.append(("next", name, state["Next"]))
    return plan


def _quiet_node_warning() -> None:
    """jsii warns on every start on a Node version it no longer supports (as cdk/app.py does)."""
    node = shutil.which("node")
    if node and "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in os.environ:
        version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
        os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = version.lstrip("v").split(".")[0]


class CdkPeer:
    """Builds and renders plans with the CDK (one jsii process for the whole run)."""

    def __init__(self) -> None:
        _quiet_node_warning()
        import aws_cdk
        from aws_cdk import aws_stepfunctions as sfn

        self.cdk = aws_cdk
        self.sfn = sfn
        self.app = aws_cdk.App()
        self.stacks = 0

    def _condition(self, spec: tuple[Any, ...]) -> Any:
        if spec[0] == "rule":
            return getattr(self.sfn.Condition, spec[1])(*spec[2])
        inner = [self._condition(c) for c in spec[1]]
        return getattr(self.sfn.Condition, spec[0])(*inner)

    def _build(self, plan: Plan, scope: Any, made: dict[str, Any]) -> Any:
        sfn = self.sfn
        for kind, name, props in plan.states:
            given = {k: v for k, v in props.items() if v is not None and k != "result_path"}
            if "result_path" in props:  # "": none written; None: null (discard the result)
                path = props["result_path"]
                if path != "":
                    given["result_path"] = sfn.JsonPath.DISCARD if path is None else path
            if kind == "Custom":
                made[name] = sfn.CustomState(scope, name, **given)
            elif kind == "Parallel":
                made[name] = sfn.Parallel(scope, name, **given)
            elif kind == "Map":
                made[name] = sfn.Map(scope, name, **given)
            elif kind == "Fail":
                made[name] = sfn.Fail(scope, name, **given)
            else:
                made[name] = sfn.Choice(scope, name, **given)
        for link in plan.links:
            state = made[link[1]]
            if link[0] == "next":
                state.next(made[link[2]])
            elif link[0] == "branch":
                state.branch(self._build(link[2], scope, made))
            elif link[0] == "processor":
                state.item_processor(self._build(link[2], scope, made))
            elif link[0] == "when":
                state.when(self._condition(link[2]), made[link[3]])
            else:
                state.otherwise(made[link[2]])
        return made[plan.start]

    def build_and_render(self, plan: Plan) -> Any:
        """The timed work: the constructs in a fresh Stack, chained, rendered to ASL with its
        tokens resolved (as the definition of a state machine is)."""
        self.stacks += 1
        stack = self.cdk.Stack(self.app, f"Bench{self.stacks}")
        start = self._build(plan, stack, {})
        return stack.resolve(self.sfn.StateGraph(start, "bench").to_graph_json())


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _same_asl(rendered: Any, definition: Mapping[str, Any]) -> bool:
    """The CDK's rendering equals ours (jsii drops ``"ResultPath": null`` from a CustomState's JSON)."""
    ours = {k: v for k, v in definition.items() if k != "Comment"}
    return bool(_without_nulls(rendered) == _without_nulls(ours))


# --- the benchmark -------------------------------------------------------------------------


@dataclass
class Scale:
    steps: int
    import_s: float = 0.0
    compile_s: float = 0.0
    floor_s: float = 0.0
    asl_bytes: int = 0
    states: int = 0
    verdict: str = ""  # the compiler's error when the real compile rejects it ("" when it compiles)
    over: list[str] = field(default_factory=list)  # Step Functions quotas it breaks
    definition: dict[str, Any] = field(default_factory=dict, repr=False)
    peer_s: float | None = None
    peer_note: str = ""

    @property
    def accepted(self) -> bool:
        return not self.verdict

    def describe(self) -> str:
        shape = f"{self.states:,} states, {self.asl_bytes / 1e6:.2f} MB of ASL"
        if self.accepted:
            return f"{shape}; within Step Functions' quotas"
        return (f"{shape}; breaks {', '.join(self.over)}: the compiler rejects it ({self.verdict}), "
                "timed here with the quotas lifted")


def _count_states(states: Mapping[str, Any]) -> int:
    total = 0
    for state in states.values():
        total += 1
        for branch in state.get("Branches", ()):
            total += _count_states(branch["States"])
        if "ItemProcessor" in state:
            total += _count_states(state["ItemProcessor"]["States"])
    return total


def _verdict(workflow: Any) -> str:
    try:
        compile_workflow(workflow)
    except CompileError as error:
        message = error.message.splitlines()[0]
        if len(message) > 120:
            message = message[:120].rsplit(" ", 1)[0] + " ..."
        return f"error[{error.rule}]: {message}"
    return ""


def measure(steps: int, workflow: Any, import_s: float) -> Scale:
    scale = Scale(steps, import_s=import_s, verdict=_verdict(workflow))
    with quotas_lifted():
        first, compiled = timed(lambda: compile_workflow(workflow))
        again = best_of(lambda: compile_workflow(workflow), repeats(steps) - 1) if repeats(steps) > 1 else first
    scale.compile_s = min(first, again)
    scale.definition = compiled.definition
    text = floor(compiled.definition)
    scale.floor_s = best_of(lambda: floor(compiled.definition), repeats(steps))
    scale.asl_bytes = len(text.encode())
    scale.states = _count_states(compiled.definition["States"])
    if scale.asl_bytes > DEFINITION_LIMIT:
        scale.over.append(f"the 1 MB definition quota ({scale.asl_bytes / 1e6:.1f} MB)")
    if compiled.workflow.type == "standard" and compiled.history_events > HISTORY_LIMIT:
        scale.over.append(f"the {HISTORY_LIMIT:,} history events of a run (up to {compiled.history_events:,})")
    if compiled.sizes.inline_limit < MIN_INLINE:
        scale.over.append("the 256 KiB state (no inline limit of 1 KiB or more keeps every state under it)")
    return scale


def measure_peer(scales: list[Scale], say: Callable[[str], None]) -> None:
    try:
        peer = CdkPeer()
    except ImportError as error:
        for scale in scales:
            scale.peer_note = f"aws-cdk-lib is not installed ({error})"
        return
    previous: Scale | None = None
    for scale in scales:
        if previous is not None and previous.peer_s is not None:
            projected = previous.peer_s * scale.asl_bytes / max(previous.asl_bytes, 1)
            if projected > PEER_BUDGET:
                scale.peer_note = (f"not run: it would take about {projected:.0f} s (the {previous.steps:,}-step "
                                   f"workflow took {previous.peer_s:.1f} s)")
                continue
        plan = cdk_plan(scale.definition["States"], scale.definition["StartAt"])
        first, rendered = timed(lambda: peer.build_and_render(plan))  # noqa: B023 - called right here
        more = repeats(scale.steps) - 1
        again = best_of(lambda: peer.build_and_render(plan), more) if more > 0 else first  # noqa: B023
        scale.peer_s = min(first, again)
        scale.peer_note = "renders our ASL exactly" if _same_asl(rendered, scale.definition) else \
            "WARNING: its rendering differs from our ASL"
        say(f"compile: the CDK peer built and rendered {scale.steps:,} steps in {_seconds(scale.peer_s)}")
        previous = scale


def largest_accepted(ctx: Context, folder: Path, token: str, scales: list[Scale]) -> tuple[int, str]:
    """The most steps of the same generated workflow that compile as is (bisection over sizes)."""
    rejected = [s for s in scales if not s.accepted]
    if not rejected:
        return scales[-1].steps, f"every size measured compiles (up to {scales[-1].steps:,} steps)"
    high = min(s.steps for s in rejected)
    low = max((s.steps for s in scales if s.accepted and s.steps < high), default=0)
    verdict = next(s.verdict for s in rejected if s.steps == high)
    while high - low > 1:
        middle = (low + high) // 2
        dag = mixed_workflow(ctx.seed, middle, name=f"scale_{middle}_{token}")
        try:
            found = _verdict(load(dag, folder))
        finally:
            unload(dag)
        if found:
            high, verdict = middle, found
        else:
            low = middle
    return low, f"{high:,} steps do not: {verdict}"


def run(ctx: Context) -> list[Figure]:
    sizes = [ctx.size(full, smoke) for full, smoke in zip(SIZES, SMOKE_SIZES, strict=True)]
    folder = ctx.work / "compile_scale"
    token = module_token(folder)
    scales: list[Scale] = []
    for steps in sizes:
        dag = mixed_workflow(ctx.seed, steps, name=f"scale_{steps}_{token}")
        try:
            import_s, workflow = timed(lambda: load(dag, folder))  # noqa: B023 - called right here
            scale = measure(steps, workflow, import_s)
        finally:
            unload(dag)
        scales.append(scale)
        ctx.say(f"compile: {steps:,} steps in {_seconds(scale.compile_s)} (json.dumps {_seconds(scale.floor_s)}); "
                f"{scale.describe()}")
    measure_peer(scales, ctx.say)
    largest, why = largest_accepted(ctx, folder, token, scales)
    ctx.say(f"compile: the largest that compiles as is: {largest:,} steps")

    timed_what = "compile_workflow (parse, checks, layout, emit, serialize), best of several; the import is not counted"
    figures: list[Figure] = []
    for i, scale in enumerate(scales):
        goal, met = ("< 1 s", scale.compile_s < 1.0) if i == 1 else ("", None)
        figures.append(Figure(
            BENCHMARK, f"compile {scale.steps:,} steps", scale.compile_s, "s", baseline_name=FLOOR,
            baseline=scale.floor_s, goal=goal, met=met,
            note=f"{timed_what} (import {_seconds(scale.import_s)}); {scale.describe()}"))
    for scale in scales:
        figures.append(Figure(
            BENCHMARK, f"compile vs the CDK, {scale.steps:,} steps", scale.compile_s, "s", baseline_name=PEER,
            baseline=scale.peer_s, goal="<= 0.05 (>= 20x faster than the CDK)",
            met=None if scale.peer_s is None else scale.compile_s / scale.peer_s <= 0.05,
            note=f"the CDK: {scale.peer_note}; timed: creating the constructs in a fresh Stack, chaining them and "
                 "StateGraph.to_graph_json() resolved by the stack (no template synthesis; the walk of our ASL is "
                 "done before)"))
    middle, last = scales[1], scales[2]
    figures.append(Figure(
        BENCHMARK, f"compile time growth {middle.steps:,} -> {last.steps:,} steps", last.compile_s / middle.compile_s,
        "ratio", baseline_name=f"growth of {FLOOR}", baseline=last.floor_s / middle.floor_s, goal="<= 6",
        met=last.compile_s / middle.compile_s <= 6,
        note=f"{last.steps / middle.steps:.0f}x the steps; the ASL grows {last.asl_bytes / middle.asl_bytes:.1f}x "
             f"({middle.asl_bytes / 1e6:.2f} -> {last.asl_bytes / 1e6:.2f} MB), "
             f"{last.states / middle.states:.1f}x the states"))
    figures.append(Figure(
        BENCHMARK, "largest generated workflow that compiles within Step Functions' quotas", float(largest), "steps",
        goal=f">= {sizes[-1]:,} (the largest size measured)", met=largest >= sizes[-1],
        note=f"the same seeded workflow cut at every size (bisection); {why}"))
    return figures
