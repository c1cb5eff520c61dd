"""The deployment plan: everything a deployer creates for a set of workflows, decided once.

The compiler makes a :class:`DeploymentPlan` from the workflows (compiled for a
:class:`~compiler.deployment.profile.TargetProfile`); ``cdk/`` renders it as CloudFormation
resources and the quick LocalStack deployer (``stepstone/localstack/deploy.py``) renders it
with API calls. Neither derives anything from the workflows or the ASL again, so the two
deploy the same functions (grouped the same way), the same state machines, the same rules
and schedules, with the same grants.

- **Functions**: one step-runner Lambda function per distinct (memory, timeout, declared
  secrets, a step's own packages), shared by every step that asks for the same, so large workflows stay far below
  CloudFormation's 500 resources and a step's secrets are readable by its own function and
  no other. A Batch step compiled as Lambda (no Batch there) gets Lambda's largest memory
  it asked for and its longest timeout.
- **Jobs**: a Batch job definition per Batch step (where Batch steps run on Batch), and the
  queue it goes to: GPU or CPU instances, of the families it names, Spot or on-demand.
- **State machines**: each workflow's definition with the resources its ``${...}``
  placeholders stand for (as the emitter named them), callees before callers.
- **Rules and schedules**: each trigger as an EventBridge rule (through the S3 relay where
  S3 events percent-encode keys), each schedule as a Scheduler schedule (or a rule where the
  profile says so); every run input holds every parameter (a state machine has no defaults).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..asl.resources import ResourceRef
from ..dsl.options import Batch
from ..dsl.quotas import LAMBDA_MAX_TIMEOUT, LAMBDA_MEMORY_RANGE
from ..dsl.secrets import SecretRef
from ..dsl.triggers import S3Upload, WorkflowSucceeded
from ..dsl.workflows import WorkflowDef
from ..ir import StepInfo
from ..pipeline import CompiledWorkflow, compile_workflow, nested_workflows
from ..protocol import run_input
from .instances import Instance, environment_types
from .profile import AWS_PROFILE, TargetProfile
from .rules import s3_event_pattern, s3_input_transformer, s3_relay_transformer

__all__ = ["STATE_MACHINE", "BatchJobSpec", "BatchQueueSpec", "DeploymentPlan", "EventRule", "FunctionSpec",
           "ScheduleSpec", "StateMachineSpec", "packages_id", "plan_deployment", "secrets_id"]

STATE_MACHINE = "${StateMachine}"  # in a rule's input: the ARN of the state machine it starts


def secrets_id(secrets: Sequence[SecretRef]) -> str:
    """A short, stable name part for a set of secrets ("" for none)."""
    if not secrets:
        return ""
    names = "\n".join(f"{s.store}:{s.name}" for s in sorted(secrets, key=lambda s: s.key))
    return "Secrets" + hashlib.sha256(names.encode()).hexdigest()[:8]


def packages_id(packages: Sequence[str]) -> str:
    """A short, stable name part for a step's own packages ("" for none)."""
    if not packages:
        return ""
    return "Pkgs" + hashlib.sha256("\n".join(sorted(packages)).encode()).hexdigest()[:8]


@dataclass(frozen=True)
class FunctionSpec:
    """One step-runner Lambda function and the steps it runs."""

    memory: int  # MB
    timeout: int  # seconds
    secrets: tuple[SecretRef, ...]  # what its role may read: these and nothing else
    steps: tuple[tuple[str, str], ...]  # (workflow, step), sorted
    packages: tuple[str, ...] = ()  # its steps' own @step(packages=[...]), installed beyond the file's

    @property
    def key(self) -> str:
        """A stable name part: ``1024mb300s`` (and the secrets' and the packages' ids)."""
        return f"{self.memory}mb{self.timeout}s{secrets_id(self.secrets)}{packages_id(self.packages)}"

    @property
    def workflows(self) -> tuple[str, ...]:
        """The workflows it serves (its artifact prefixes)."""
        return tuple(sorted({workflow for workflow, _ in self.steps}))


@dataclass(frozen=True)
class BatchJobSpec:
    """One AWS Batch job definition: a Batch step where Batch steps run on Batch."""

    workflow: str
    step: str
    gpus: int
    vcpus: int
    memory: int  # MiB
    timeout: int | None
    image: str | None  # None: the project's runner image
    secrets: tuple[SecretRef, ...]
    packages: tuple[str, ...] = ()  # its step's own @step(packages=[...]): the runner image installs them
    spot: bool = False
    instances: tuple[str, ...] = ()  # the families or types it may run on (empty: the kind's default)

    @property
    def queue(self) -> BatchQueueSpec:
        return BatchQueueSpec(self.gpus > 0, self.instances, self.spot)


@dataclass(frozen=True, order=True)
class BatchQueueSpec:
    """A job queue of the app: GPU or CPU instances (of ``instances``, else the kind's
    default types), Spot first with on-demand behind it, or on-demand alone."""

    gpu: bool
    instances: tuple[str, ...] = ()
    spot: bool = False

    @property
    def name(self) -> str:
        """``stepstone-gpu``, ``stepstone-cpu-spot``, ``stepstone-gpu-p4d-spot``."""
        parts = ["stepstone", "gpu" if self.gpu else "cpu", *(i.replace(".", "_") for i in self.instances)]
        return "-".join(parts + (["spot"] if self.spot else []))[:128]

    def types(self) -> tuple[Instance, ...]:
        return environment_types(1 if self.gpu else 0, self.instances or None)


@dataclass(frozen=True)
class EventRule:
    """An EventBridge rule that starts a run: on an event (``event_pattern``) or on a
    schedule (``schedule_expression``), with a fixed ``input`` or an ``input_transformer``
    (``{"InputPathsMap", "InputTemplate"}``); ``via_relay`` rules invoke the S3 relay function
    instead (whose input names the state machine as :data:`STATE_MACHINE`)."""

    id: str  # stable within its workflow: Upload1, Schedule1, After1
    description: str
    event_pattern: Mapping[str, Any] | None = None
    schedule_expression: str | None = None
    input: str | None = None
    input_transformer: Mapping[str, Any] | None = None
    via_relay: bool = False
    upstream: str | None = None  # the workflow whose success it waits for (its state machine's ARN goes in the pattern)
    trigger: S3Upload | None = None  # the upload it is for


@dataclass(frozen=True)
class ScheduleSpec:
    """An EventBridge Scheduler schedule that starts a run."""

    id: str
    expression: str
    timezone: str
    input: str
    description: str


@dataclass(frozen=True)
class StateMachineSpec:
    compiled: CompiledWorkflow
    functions: Mapping[str, FunctionSpec]  # step -> the function that runs it (Lambda steps, Batch as Lambda)
    jobs: Mapping[str, BatchJobSpec]  # step -> its job definition
    rules: tuple[EventRule, ...]
    schedules: tuple[ScheduleSpec, ...]

    @property
    def name(self) -> str:
        return self.compiled.name

    @property
    def resources(self) -> tuple[ResourceRef, ...]:
        return self.compiled.resources

    @property
    def calls(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.compiled.workflow.calls)))

    @property
    def definition_json(self) -> str:
        return self.compiled.asl_json


@dataclass(frozen=True)
class DeploymentPlan:
    profile: TargetProfile
    state_machines: tuple[StateMachineSpec, ...]  # callees before callers
    functions: tuple[FunctionSpec, ...]
    jobs: tuple[BatchJobSpec, ...]

    @property
    def step_packages(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """(step, its own ``@step(packages=[...])``) for every step that declares some, run by a
        function or a job: what a workflow file's lock covers beside the file's own packages."""
        found = {(step, f.packages) for f in self.functions for _, step in f.steps if f.packages}
        found |= {(job.step, job.packages) for job in self.jobs if job.packages}
        return tuple(sorted(found))

    @property
    def approvals(self) -> tuple[str, ...]:
        """The workflows with approval gates (the approval function writes only their requests)."""
        return tuple(m.name for m in self.state_machines if m.compiled.approval)

    @property
    def relay(self) -> bool:
        """Whether the S3 relay function is needed."""
        return any(rule.via_relay for m in self.state_machines for rule in m.rules)

    @property
    def trigger_buckets(self) -> tuple[str, ...]:
        """The buckets the workflows' ``s3_upload`` triggers watch."""
        return tuple(sorted({t.bucket for m in self.state_machines for t in m.compiled.workflow.triggers
                             if isinstance(t, S3Upload)}))

    def state_machine(self, workflow: str) -> StateMachineSpec:
        return next(m for m in self.state_machines if m.name == workflow)


def _as_lambda(step: StepInfo) -> tuple[int, int]:
    """(memory MB, timeout s) of the Lambda function that runs a step; for a Batch step run as
    Lambda (where there is no Batch), as large and as long as Lambda allows."""
    compute = step.compute
    if isinstance(compute, Batch):
        return (min(max(compute.memory, LAMBDA_MEMORY_RANGE[0]), LAMBDA_MEMORY_RANGE[1]),
                min(step.timeout or LAMBDA_MAX_TIMEOUT, LAMBDA_MAX_TIMEOUT))
    return compute.memory, compute.timeout_seconds


def _rule_expression(expression: str, timezone: str) -> str | None:
    """A schedule as an EventBridge rule expression, when a rule means the same (rules run in UTC)."""
    if expression.startswith("rate("):
        return expression
    return expression if timezone in ("UTC", "Etc/UTC") else None


def _triggers(definition: WorkflowDef[..., Any],
              profile: TargetProfile) -> tuple[tuple[EventRule, ...], tuple[ScheduleSpec, ...]]:
    rules: list[EventRule] = []
    schedules: list[ScheduleSpec] = []
    options = definition.options
    for index, schedule in enumerate(options.schedules, start=1):
        document = json.dumps(run_input(definition.validate_params(schedule.params), {
            "kind": "schedule", "expression": schedule.expression}), sort_keys=True)
        expression = _rule_expression(schedule.expression, schedule.timezone)
        if profile.schedules_as_rules and expression is not None:
            rules.append(EventRule(f"Schedule{index}", f"{definition.name} on {schedule.expression} (an EventBridge "
                                   "rule: Scheduler schedules do not fire there)",
                                   schedule_expression=expression, input=document))
            continue
        schedules.append(ScheduleSpec(f"Schedule{index}", schedule.expression, schedule.timezone, document,
                                      f"start {definition.name}: {schedule.expression} ({schedule.timezone})"))
    for index, trigger in enumerate(options.triggers, start=1):
        if isinstance(trigger, S3Upload):
            description = f"start {definition.name} for each new s3://{trigger.bucket}/{trigger.prefix}*{trigger.suffix}"
            if profile.s3_keys_encoded:
                rules.append(EventRule(f"Upload{index}", description,
                                       event_pattern=s3_event_pattern(trigger, url_encoded_keys=True),
                                       input_transformer=s3_relay_transformer(trigger, definition, STATE_MACHINE),
                                       via_relay=True, trigger=trigger))
            else:
                rules.append(EventRule(f"Upload{index}", description, event_pattern=s3_event_pattern(trigger),
                                       input_transformer=s3_input_transformer(trigger, definition), trigger=trigger))
        elif isinstance(trigger, WorkflowSucceeded):
            rules.append(EventRule(
                f"After{index}", f"start {definition.name} each time {trigger.workflow} succeeds",
                event_pattern={"source": ["aws.states"], "detail-type": ["Step Functions Execution Status Change"],
                               "detail": {"status": ["SUCCEEDED"]}},
                input=json.dumps(run_input(definition.validate_params(trigger.params), {
                    "kind": "workflow", "workflow": trigger.workflow}), sort_keys=True),
                upstream=trigger.workflow))
    return tuple(rules), tuple(schedules)


def plan_deployment(definitions: Sequence[WorkflowDef[..., Any]], profile: TargetProfile = AWS_PROFILE, *,
                    compiled: Mapping[str, CompiledWorkflow] | None = None) -> DeploymentPlan:
    """The plan for ``definitions``, compiled for ``profile`` (``compiled`` holds those
    compiled already, for that profile); a workflow comes after the ones of them it calls
    (a state machine names its children's ARNs)."""
    local = {d.name for d in definitions}
    ordered: list[WorkflowDef[..., Any]] = []
    for definition in definitions:
        for callee in [*nested_workflows(definition), definition]:
            if callee.name in local and callee not in ordered:
                ordered.append(callee)
    definitions = ordered
    known = dict(compiled or {})
    machines = [known.get(d.name) or compile_workflow(d, profile=profile) for d in definitions]
    groups: dict[tuple[int, int, tuple[SecretRef, ...], tuple[str, ...]], list[tuple[str, str]]] = {}
    jobs: list[BatchJobSpec] = []
    for machine in machines:
        for info in sorted(machine.workflow.steps.values(), key=lambda s: s.name):
            compute = info.compute
            if isinstance(compute, Batch) and not profile.batch_as_lambda:
                jobs.append(BatchJobSpec(machine.name, info.name, compute.gpus, compute.vcpus, compute.memory,
                                         info.timeout, compute.image, info.secrets, info.packages, compute.spot,
                                         tuple(compute.instances or ())))
                continue
            groups.setdefault((*_as_lambda(info), info.secrets, tuple(sorted(info.packages))), []).append(
                (machine.name, info.name))
    functions = [FunctionSpec(memory, timeout, secrets, tuple(sorted(steps)), packages)
                 for (memory, timeout, secrets, packages), steps in groups.items()]
    functions.sort(key=lambda f: (f.memory, f.timeout, secrets_id(f.secrets), packages_id(f.packages)))
    by_step = {key: function for function in functions for key in function.steps}
    specs = []
    for definition, machine in zip(definitions, machines, strict=True):
        rules, schedules = _triggers(definition, profile)
        specs.append(StateMachineSpec(
            compiled=machine,
            functions={step: f for (wf, step), f in by_step.items() if wf == machine.name},
            jobs={job.step: job for job in jobs if job.workflow == machine.name},
            rules=rules, schedules=schedules))
    return DeploymentPlan(profile=profile, state_machines=tuple(specs), functions=tuple(functions), jobs=tuple(jobs))
