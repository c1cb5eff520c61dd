"""The Lambda functions that run a stack's steps: the step runner with the workflows' code
and a layer with its dependencies, one function per distinct (memory, timeout), shared by
every step that asks for the same, so large workflows stay far below CloudFormation's
500 resources. Each function may read and write only the artifact prefixes of the
workflows it serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from compiler.pipeline import CompiledWorkflow

from .artifacts import Artifacts
from .nag import accept, accept_wildcard

__all__ = ["StepRunners", "python_runtime"]


def python_runtime(version: str) -> lambda_.Runtime:
    """Lambda's runtime for Python ``3.X`` (the functions run the Python the steps were tested with)."""
    return lambda_.Runtime(f"python{version}", lambda_.RuntimeFamily.PYTHON)


class StepRunners(Construct):
    def __init__(self, scope: Construct, id: str, *, code: Path, dependencies: Path, runtime: lambda_.Runtime,
                 store: Artifacts, workflows: Sequence[CompiledWorkflow], batch_as_lambda: bool,
                 environment: dict[str, str] | None = None) -> None:
        super().__init__(scope, id)
        self.runtime = runtime
        self.store = store
        self.layer = lambda_.LayerVersion(self, "Dependencies", code=lambda_.Code.from_asset(str(dependencies)),
                                          compatible_runtimes=[runtime],
                                          description="the step runner's dependencies (pydantic, Powertools, boto3)")
        self.code = lambda_.Code.from_asset(str(code))
        self.environment = {"STEPSTONE_ARTIFACT_BUCKET": store.bucket.bucket_name,
                            "POWERTOOLS_SERVICE_NAME": "stepstone", **(environment or {})}
        self.by_step: dict[tuple[str, str], lambda_.Function] = {}  # (workflow, step) -> its function
        groups: dict[tuple[int, int], list[tuple[str, str]]] = {}
        for compiled in workflows:
            for step in compiled.resources.functions:
                if step.compute == "batch" and not batch_as_lambda:
                    continue
                groups.setdefault(step.as_lambda, []).append((compiled.name, step.name))
        for (memory, timeout), steps in sorted(groups.items()):
            served = sorted({workflow for workflow, _ in steps})
            function = self._function(f"Runner{memory}mb{timeout}s", "lambdas.step_runner.handler", memory, timeout,
                                      f"stepstone step runner ({memory} MB, {timeout} s) for {', '.join(served)}")
            for workflow in served:
                store.grant(function, store.prefixes(workflow))
            for key in steps:
                self.by_step[key] = function
        approvals = [c.name for c in workflows if c.resources.approval]
        self.approval: lambda_.Function | None = None
        if approvals:
            self.approval = self._function("Approval", "lambdas.approval.handler", 256, 30,
                                           "stepstone approval gate: stores the request and its task token")
            assert self.approval.role is not None
            store.grant(self.approval, [f"runs/{w}/*/approvals/" for w in approvals], read=False,
                        reason="an approval request is written under its run (named at run time) in the "
                               "workflow's own prefix")

    def _function(self, id: str, handler: str, memory: int, timeout: int, description: str) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{id}Logs", retention=logs.RetentionDays.THREE_MONTHS,
                                  removal_policy=RemovalPolicy.DESTROY)
        role = iam.Role(self, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"{description}: its logs, its artifact prefixes, X-Ray")
        role.add_to_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                               resources=[log_group.log_group_arn]))
        function = lambda_.Function(
            self, id, runtime=self.runtime, handler=handler, code=self.code, layers=[self.layer], role=role,
            memory_size=memory, timeout=Duration.seconds(timeout), log_group=log_group,
            tracing=lambda_.Tracing.ACTIVE, environment=self.environment, description=description[:256])
        accept(function, "L1", f"the functions run {self.runtime.name}, the Python the steps were developed and "
                               "tested with (the one running `cdk synth`); deploy from the newest Python for the "
                               "newest runtime")
        accept_wildcard(role, "*", "X-Ray (tracing is on) accepts no resource in PutTraceSegments and "
                                   "PutTelemetryRecords: https://docs.aws.amazon.com/xray/latest/devguide/"
                                   "security_iam_id-based-policy-examples.html")
        return function
