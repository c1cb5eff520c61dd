"""The pipeline: ``@workflow`` -> IR -> checks -> ASL (+ what cdk/ needs to deploy it)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .asl.emit import EmitOptions, emit_asl
from .asl.resources import ResourceRef
from .checks import CheckContext, run_checks
from .deployment.profile import AWS_PROFILE, TargetProfile
from .dsl.errors import CompileError
from .dsl.quotas import DEFINITION_LIMIT
from .dsl.workflows import WorkflowDef
from .ir import Workflow
from .limits import MAX_INLINE, KeySizes, SizePlan, SizeTracker, history_events
from .parse import parse_workflow
from .plan import Planner

__all__ = ["CompiledWorkflow", "check", "compile_workflow", "nested_workflows", "to_json"]



def to_json(definition: Any) -> str:
    """Deterministic JSON: sorted keys, two-space indent, a final newline."""
    return json.dumps(definition, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class CompiledWorkflow:
    workflow: Workflow
    definition: dict[str, Any]
    sizes: SizePlan
    planner: Planner = field(repr=False, compare=False)
    resources: tuple[ResourceRef, ...] = ()  # what its ${...} placeholders stand for, as the emitter named them
    profile: TargetProfile = AWS_PROFILE  # where it was compiled for
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
    def approval(self) -> bool:
        """Whether it has an approval gate (it names the approval function)."""
        return any(r.kind == "approval_function" for r in self.resources)

    @property
    def batch(self) -> bool:
        """Whether it submits AWS Batch jobs (it names the job queue)."""
        return any(r.kind == "job_queue" for r in self.resources)

    @property
    def distributed(self) -> bool:
        """Whether it has a distributed fan-out (its items and results in the artifact bucket)."""
        return any(r.kind == "artifact_bucket" for r in self.resources)


def check(definition: WorkflowDef[..., Any]) -> tuple[Workflow, Planner, list[CompileError]]:
    """Parse and run every check; the errors found (empty when the workflow is valid)."""
    workflow = parse_workflow(definition)
    planner = Planner(param_names=workflow.params.names)
    errors = run_checks(CheckContext(workflow=workflow, planner=planner, definition=definition))
    return workflow, planner, errors


def _emit(workflow: Workflow, planner: Planner,
          profile: TargetProfile) -> tuple[dict[str, Any], SizePlan, tuple[ResourceRef, ...]]:
    """Emit once to measure every state, then again with the inline limit that fits them all."""
    sizes = KeySizes(workflow, planner)
    tracker = SizeTracker(sizes)

    def options(inline_limit: int) -> EmitOptions:
        return EmitOptions(inline_limit, batch_as_lambda=profile.batch_as_lambda,
                           map_concurrency=profile.map_concurrency)

    asl, resources = emit_asl(workflow, planner, options(MAX_INLINE), tracker)
    plan = tracker.plan(workflow)
    if plan.inline_limit != MAX_INLINE:
        asl, resources = emit_asl(workflow, planner, options(plan.inline_limit), SizeTracker(sizes))
    return asl, plan, resources


def compile_workflow(definition: WorkflowDef[..., Any], *, profile: TargetProfile = AWS_PROFILE) -> CompiledWorkflow:
    """Compile a ``@workflow`` to ASL for ``profile``'s place (AWS by default; see
    ``compiler/deployment/profile.py`` for what LocalStack needs instead); raises the first
    :class:`CompileError` found."""
    if not isinstance(definition, WorkflowDef):
        raise TypeError(f"compile() takes a @workflow function, got {definition!r}")
    workflow, planner, errors = check(definition)
    if errors:
        raise errors[0]
    asl, sizes, resources = _emit(workflow, planner, profile)
    size = len(to_json(asl).encode())
    if size > DEFINITION_LIMIT:
        raise CompileError(
            f"the compiled definition of {workflow.name!r} is {size:,} bytes; Step Functions takes at most "
            f"{DEFINITION_LIMIT:,}", rule="definition-size", location=workflow.location,
            hint="split the workflow into nested workflows (call one @workflow from another)")
    return CompiledWorkflow(workflow=workflow, definition=asl, sizes=sizes, planner=planner, resources=resources,
                            profile=profile)


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
