"""The app's stacks: one shared stack (artifact bucket, alarm topic, Batch queues) and one stack
per workflow file (its deployment plan: step functions, state machines, triggers, alarms, GPU jobs)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from compiler.deployment.plan import BatchQueueSpec, DeploymentPlan
from compiler.deployment.runtimes import function_python, runtime_for

from . import bundle
from .artifacts import Artifacts, ArtifactStore, enable_eventbridge, private_bucket
from .gpu import BatchQueues, GpuJobs, queue_arn
from .monitoring import AlarmTopic, WorkflowAlarms, alarm_topic_arn
from .packaging import FunctionBundles
from .runners import StepRunners, python_runtime
from .settings import Settings
from .triggers import Triggers
from .workflow import Workflow, console_link

__all__ = ["SharedStack", "WorkflowStack", "stack_name"]


def stack_name(file: Path, root: Path) -> str:
    """``stepstone-examples-ml-training`` for ``examples/ml_training.py``."""
    try:
        relative = file.resolve().relative_to(root.resolve()).with_suffix("")
    except ValueError:
        relative = Path(file.stem)
    return "stepstone-" + re.sub(r"[^A-Za-z0-9-]+", "-", relative.as_posix()).strip("-")[:100]


class SharedStack(Stack):
    def __init__(self, scope: Construct, id: str, *, settings: Settings, queues: Sequence[BatchQueueSpec] = (),
                 trigger_buckets: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(scope, id, description="stepstone: artifact bucket, run alarms topic, Batch job queues",
                         **kwargs)
        self.store = ArtifactStore(self, "Artifacts")
        for name in sorted(set(trigger_buckets)):  # with stepstone:create-trigger-buckets
            bucket = private_bucket(self, f"Trigger-{name}", name=name, access_logs=self.store.access_logs,
                                    logs_prefix=f"{name}/")
            enable_eventbridge(bucket)
        self.alarms = AlarmTopic(self, "Alarms", email=settings.alarm_email)
        self.batch = BatchQueues(self, "Batch", queues=queues, vpc_id=settings.vpc_id,
                                 subnet_ids=settings.subnet_ids) if queues else None
        CfnOutput(self, "ArtifactBucket", value=self.store.bucket.bucket_name,
                  description="where runs keep their step outputs and lineage")
        CfnOutput(self, "AlarmTopic", value=self.alarms.topic.topic_arn,
                  description="subscribe here to hear of failed runs")


class WorkflowStack(Stack):
    """One workflow file's deployment plan, rendered: its step functions, state machines,
    triggers, alarms and GPU jobs."""

    def __init__(self, scope: Construct, id: str, *, file: Path, plan: DeploymentPlan, shared: SharedStack,
                 settings: Settings, **kwargs: Any) -> None:
        super().__init__(scope, id, description=f"stepstone workflows of {file.name}: "
                                                + ", ".join(m.name for m in plan.state_machines), **kwargs)
        self.plan = plan
        self.add_stack_dependency(shared)  # its bucket, topic and queue, which this stack names (no exports)
        store = Artifacts(self, "Artifacts")
        topic = sns.Topic.from_topic_arn(self, "AlarmTopic", alarm_topic_arn(self))
        runtime = runtime_for(function_python(settings.python))
        code = bundle.code_folder(file, runtime.python)
        self.bundles = FunctionBundles(file, plan, runtime, code=code, extra=settings.requirements)
        # on LocalStack the plugin runs each function with its runtime's Python, its code and
        # layers only (never this machine's packages), as Lambda would
        environment = {"POWERTOOLS_TRACE_DISABLED": "true", "STEPSTONE_LAMBDA_ISOLATED": "1"} \
            if settings.localstack else {}
        self.runners = StepRunners(self, "StepFunctions", code=code, bundles=self.bundles,
                                   runtime=python_runtime(runtime.python), store=store, plan=plan,
                                   environment=environment, localstack=settings.localstack)
        jobs: GpuJobs | None = None
        if plan.jobs:
            assert shared.batch is not None, "the shared stack has the job queues when a workflow has Batch steps"
            batch_packages = tuple(sorted({r for job in plan.jobs for r in job.packages}))
            packaged = self.bundles.packaged((*self.bundles.requirements(), *batch_packages))
            jobs = GpuJobs(self, "GpuJobs", context=bundle.image_context(file, packaged, runtime), store=store,
                           jobs=plan.jobs)
        self.workflows: dict[str, Workflow] = {}
        for spec in plan.state_machines:
            name = spec.name
            workflow = Workflow(
                self, name, spec=spec, runners=self.runners, store=store, log_level=settings.log_level,
                job_queues={job.step: queue_arn(self, job.queue) for job in plan.jobs if job.workflow == name}
                if jobs else None,
                job_definitions={step: d.job_definition_arn for (wf, step), d in jobs.definitions.items()
                                 if wf == name} if jobs else None)
            self.workflows[name] = workflow
            Triggers(self, f"{name}Triggers", spec=spec, target_arn=workflow.state_machine.state_machine_arn,
                     relay=self.runners.relay() if any(rule.via_relay for rule in spec.rules) else None)
            functions = sorted({f.node.path: f for (wf, _), f in self.runners.by_step.items() if wf == name}.items())
            WorkflowAlarms(self, f"{name}Alarms", workflow=name, state_machine=workflow.state_machine,
                           topic=topic, functions=[f for _, f in functions])
            arn = workflow.state_machine.state_machine_arn
            CfnOutput(self, f"{name}StateMachine", value=arn, description=f"the {name} state machine")
            CfnOutput(self, f"{name}Console", value=console_link(self, arn),
                      description=f"{name}'s runs in the Step Functions console")
