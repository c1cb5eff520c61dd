"""The pipeline: ``@workflow`` -> IR -> checks -> ASL (+ what cdk/ needs to deploy it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .asl.emit import EmitOptions, emit_asl
from .checks import CheckContext, run_checks
from .dsl.errors import CompileError
from .dsl.options import Batch
from .dsl.quotas import DEFINITION_LIMIT, LAMBDA_MAX_TIMEOUT, LAMBDA_MEMORY_RANGE
from .dsl.secrets import SecretRef
from .dsl.workflows import WorkflowDef
from .ir import Workflow
from .limits import MAX_INLINE, KeySizes, SizePlan, SizeTracker, history_events
from .parse import parse_workflow
from .plan import Planner

__all__ = ["DEFINITION_LIMIT", "CompiledWorkflow", "Resources", "check", "compile_workflow", "nested_workflows",
           "to_json"]



def to_json(definition: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, a final newline."""
    return json.dumps(definition, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class StepFunction:
    """One Lambda function or Batch job definition that cdk/ deploys for a step."""

    name: str
    ref: str
    compute: str  # "lambda" | "batch"
    memory: int
    timeout: int | None
    gpus: int = 0
    vcpus: int = 0
    image: str | None = None
    secrets: tuple[SecretRef, ...] = ()  # what its role may read: these and nothing else

    @property
    def as_lambda(self) -> tuple[int, int]:
        """(memory MB, timeout s) of the Lambda function that runs this step; for a Batch step
        run as Lambda (where there is no Batch), as large and as long as Lambda allows."""
        if self.compute == "batch":
            return min(max(self.memory, 128), LAMBDA_MEMORY_RANGE[1]), min(self.timeout or LAMBDA_MAX_TIMEOUT,
                                                                      LAMBDA_MAX_TIMEOUT)
        return self.memory, self.timeout or LAMBDA_MAX_TIMEOUT


@dataclass(frozen=True)
class Resources:
    """What the state machine refers to through ``${...}`` placeholders."""

    functions: tuple[StepFunction, ...]
    workflows: tuple[str, ...]  # ${Workflow_<name>}
    approval: bool  # ${ApprovalFunction}
    batch: bool  # ${JobQueue}
    placeholders: tuple[str, ...]


@dataclass(frozen=True)
class CompiledWorkflow:
    workflow: Workflow
    definition: dict[str, Any]
    sizes: SizePlan
    planner: Planner = field(repr=False, compare=False)
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.workflow.name

    @property
    def asl_json(self) -> str:
        return to_json(self.definition)

    @property
    def history_events(self) -> int:
        return history_events(self.workflow, self.planner)

    @property
    def resources(self) -> Resources:
        functions = []
        for info in sorted(self.workflow.steps.values(), key=lambda s: s.name):
            compute = info.compute
            if isinstance(compute, Batch):
                functions.append(StepFunction(info.name, info.ref, "batch", compute.memory, info.timeout,
                                              gpus=compute.gpus, vcpus=compute.vcpus, image=compute.image,
                                              secrets=info.secrets))
            else:
                functions.append(StepFunction(info.name, info.ref, "lambda", compute.memory, compute.timeout_seconds,
                                              secrets=info.secrets))
        text = self.asl_json
        import re

        placeholders = tuple(sorted(set(re.findall(r"\$\{([A-Za-z0-9_-]+)\}", text))))
        return Resources(
            functions=tuple(functions),
            workflows=tuple(sorted(set(self.workflow.calls))),
            approval="ApprovalFunction" in placeholders,
            batch="JobQueue" in placeholders,
            placeholders=placeholders,
        )


def check(definition: WorkflowDef[..., Any]) -> tuple[Workflow, Planner, list[CompileError]]:
    """Parse and run every check; the errors found (empty when the workflow is valid)."""
    workflow = parse_workflow(definition)
    planner = Planner(param_names=workflow.params.names)
    errors = run_checks(CheckContext(workflow=workflow, planner=planner, definition=definition))
    return workflow, planner, errors


def _emit(workflow: Workflow, planner: Planner, batch_as_lambda: bool) -> tuple[dict[str, Any], SizePlan]:
    """Emit once to measure every state, then again with the inline limit that fits them all."""
    sizes = KeySizes(workflow, planner)
    tracker = SizeTracker(sizes)
    asl = emit_asl(workflow, planner, EmitOptions(MAX_INLINE, batch_as_lambda), tracker)
    plan = tracker.plan(workflow)
    if plan.inline_limit != MAX_INLINE:
        asl = emit_asl(workflow, planner, EmitOptions(plan.inline_limit, batch_as_lambda), SizeTracker(sizes))
    return asl, plan


def compile_workflow(definition: WorkflowDef[..., Any], *, batch_as_lambda: bool = False) -> CompiledWorkflow:
    """Compile a ``@workflow`` to ASL; raises the first :class:`CompileError` found.

    ``batch_as_lambda`` compiles each AWS Batch step as an invocation of the step runner's
    Lambda function instead, for places without Batch (LocalStack): the runner writes the
    output where the job would, so every other state is the same.
    """
    if not isinstance(definition, WorkflowDef):
        raise TypeError(f"compile() takes a @workflow function, got {definition!r}")
    workflow, planner, errors = check(definition)
    if errors:
        raise errors[0]
    asl, sizes = _emit(workflow, planner, batch_as_lambda)
    size = len(to_json(asl).encode())
    if size > DEFINITION_LIMIT:
        raise CompileError(
            f"the compiled definition of {workflow.name!r} is {size:,} bytes; Step Functions takes at most "
            f"{DEFINITION_LIMIT:,}", rule="definition-size", location=workflow.location,
            hint="split the workflow into nested workflows (call one @workflow from another)")
    return CompiledWorkflow(workflow=workflow, definition=asl, sizes=sizes, planner=planner)


def nested_workflows(definition: WorkflowDef[..., Any]) -> list[WorkflowDef[..., Any]]:
    """The workflows ``definition`` calls, transitively, each once, callees before callers:
    the order in which to deploy them (a state machine names its children's ARNs)."""
    from .dsl.decorated import import_ref
    from .ir import CallWorkflow
    from .parse import parse_workflow
    from .plan import blocks_of

    ordered: list[WorkflowDef[..., Any]] = []
    seen: set[str] = {definition.name}

    def visit(current: WorkflowDef[..., Any]) -> None:
        stack = [parse_workflow(current).body]
        while stack:
            block = stack.pop()
            for unit in block.units:
                node = unit.node
                if isinstance(node, CallWorkflow) and node.workflow not in seen:
                    seen.add(node.workflow)
                    callee = import_ref(node.ref)
                    visit(callee)
                    ordered.append(callee)
                stack.extend(blocks_of(node))

    visit(definition)
    return ordered
