"""One workflow's state machine: the compiled ASL, its ``${...}`` placeholders substituted,
with a role that may do only what this definition does.

The role may invoke only this workflow's functions, submit only to its own job queue and
job definitions, start only the workflows it calls, and (for a distributed Map) read and
write only its own artifact prefixes. The few statements AWS accepts only on ``*`` (X-Ray,
CloudWatch Logs delivery, Batch DescribeJobs) are listed in ``cdk.nag`` with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, RemovalPolicy, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from compiler.deployment.names import BUCKET_TAG, WORKFLOW_TAG, log_group
from compiler.deployment.plan import StateMachineSpec

from .artifacts import Artifacts
from .nag import accept_wildcard
from .runners import StepRunners

__all__ = ["Workflow", "console_link", "state_machine_arn"]

NAG_STATES = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>"  # as cdk-nag renders ARNs


def state_machine_arn(scope: Construct, name: str) -> str:
    """The ARN of the state machine of workflow ``name`` (state machines are named after their workflow)."""
    return Stack.of(scope).format_arn(service="states", resource="stateMachine", resource_name=name,
                                      arn_format=ArnFormat.COLON_RESOURCE_NAME)


def execution_arns(scope: Construct, name: str) -> str:
    return Stack.of(scope).format_arn(service="states", resource="execution", resource_name=f"{name}:*",
                                      arn_format=ArnFormat.COLON_RESOURCE_NAME)


def console_link(scope: Construct, arn: str) -> str:
    region = Stack.of(scope).region
    return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/statemachines/view/{arn}"


class Workflow(Construct):
    def __init__(self, scope: Construct, id: str, *, spec: StateMachineSpec, runners: StepRunners,
                 store: Artifacts, log_level: str, job_queues: Mapping[str, str] | None = None,
                 job_definitions: Mapping[str, str] | None = None) -> None:
        super().__init__(scope, id)
        self.spec = spec
        compiled = spec.compiled
        name = spec.name
        self.role = iam.Role(self, "Role", assumed_by=iam.ServicePrincipal("states.amazonaws.com"),
                             description=f"the {name} state machine: only its own functions, jobs, children and "
                                         "artifacts")
        substitutions: dict[str, str] = {}
        invoke: list[str] = []
        for resource in spec.resources:
            placeholder = resource.placeholder
            if resource.kind == "function":
                arn = runners.by_step[(name, resource.name)].function_arn
                substitutions[placeholder] = arn
                invoke.append(arn)  # the definition names the unqualified function: no versions, no aliases
            elif resource.kind == "approval_function":
                assert runners.approval is not None
                arn = runners.approval.function_arn
                substitutions[placeholder] = arn
                invoke.append(arn)
            elif resource.kind == "workflow":
                substitutions[placeholder] = state_machine_arn(self, resource.name)
            elif resource.kind == "job_queue":
                assert job_queues is not None, f"{name} has Batch steps but the stack has no job queue"
                substitutions[placeholder] = job_queues[resource.name]
            elif resource.kind == "job_definition":
                assert job_definitions is not None
                substitutions[placeholder] = job_definitions[resource.name]
            else:
                assert resource.kind == "artifact_bucket"
                substitutions[placeholder] = store.bucket.bucket_name
        if invoke:
            self.role.add_to_policy(iam.PolicyStatement(actions=["lambda:InvokeFunction"],
                                                        resources=sorted(set(invoke), key=str)))
        self._grant_jobs(job_queues or {}, job_definitions or {})
        self._grant_children(spec.calls)
        if compiled.distributed:  # child executions of itself, items and results in S3
            self._grant_children((name,))
            store.grant(self.role, store.prefixes(name))
        # the name AWS uses for state machine logs; an Express workflow's runs are read back from here
        self.log_group = logs.LogGroup(self, "Logs", log_group_name=log_group(name),
                                       retention=logs.RetentionDays.THREE_MONTHS, removal_policy=RemovalPolicy.DESTROY)
        self.state_machine = sfn.StateMachine(
            self, "StateMachine", state_machine_name=name,
            definition_body=sfn.DefinitionBody.from_string(compiled.asl_json),
            definition_substitutions=substitutions,
            state_machine_type=sfn.StateMachineType.EXPRESS if compiled.workflow.type == "express"
            else sfn.StateMachineType.STANDARD,
            role=self.role, tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel(log_level),
                                include_execution_data=True))
        self.substitutions = substitutions
        accept_wildcard(self.role, "*", "AWS accepts only * for X-Ray (PutTraceSegments), for CloudWatch Logs "
                                        "delivery (CreateLogDelivery and the other *LogDelivery actions) and for "
                                        "Batch DescribeJobs/TerminateJob: https://docs.aws.amazon.com/step-functions/"
                                        "latest/dg/cw-logs.html")
        Tags.of(self.state_machine).add(WORKFLOW_TAG, compiled.workflow.ref)
        Tags.of(self.state_machine).add(BUCKET_TAG, store.bucket.bucket_name)

    def _grant_jobs(self, queues: Mapping[str, str], definitions: Mapping[str, str]) -> None:
        if not queues or not definitions:
            return
        stack = Stack.of(self)
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["batch:SubmitJob"], resources=[*sorted(set(queues.values()), key=str),
                                                    *sorted(definitions.values(), key=str)]))
        self.role.add_to_policy(iam.PolicyStatement(actions=["batch:DescribeJobs", "batch:TerminateJob"],
                                                    resources=["*"]))  # Batch takes no resource here
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[stack.format_arn(service="events", resource="rule",
                                        resource_name="StepFunctionsGetEventsForBatchJobsRule")]))

    def _grant_children(self, names: tuple[str, ...]) -> None:
        if not names:
            return
        stack = Stack.of(self)
        self.role.add_to_policy(iam.PolicyStatement(actions=["states:StartExecution"],
                                                    resources=[state_machine_arn(self, n) for n in names]))
        self.role.add_to_policy(iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"],
                                                    resources=[execution_arns(self, n) for n in names]))
        for child in names:
            accept_wildcard(self.role, f"{NAG_STATES}:execution:{child}:*",
                            f"the executions of {child} this workflow starts; their names are made at run time")
        self.role.add_to_policy(iam.PolicyStatement(
            actions=["events:PutTargets", "events:PutRule", "events:DescribeRule"],
            resources=[stack.format_arn(service="events", resource="rule",
                                        resource_name="StepFunctionsGetEventsForStepFunctionsExecutionRule")]))
