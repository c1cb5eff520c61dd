"""Put a workflow on LocalStack quickly, with API calls: its deployment plan (for LocalStack,
``compiler/deployment/plan.py``) rendered. Idempotent: what is already there and unchanged is
left alone. ``stepstone deploy --localstack`` renders the same plan with the CDK instead.

What goes where (names are stable, so a re-deploy updates in place):

- bucket ``stepstone-artifacts``: step outputs, lineage and approval requests (encrypted,
  public access blocked, EventBridge notifications on);
- Lambda functions ``stepstone-<workflow>-<memory>mb-<timeout>s[-<secrets>]``: the plan's
  step-runner functions (``lambdas.step_runner.handler``) with the workflow's code (a Batch
  step runs as Lambda here, since LocalStack has no Batch); ``stepstone-approval`` records
  approval requests and ``stepstone-s3-trigger`` is the S3 relay;
- state machine ``<workflow>`` (the plan's definition, compiled for LocalStack: Batch steps
  as Lambda invocations, every fan-out capped; its placeholders replaced by these ARNs),
  after the workflows it calls; an Express workflow logs its execution events to
  ``/aws/vendedlogs/states/<workflow>`` (it has no history);
- the plan's rules, ``stepstone-<workflow>-<rule>``: an ``s3_upload``'s (its bucket made,
  EventBridge on; LocalStack's S3 events percent-encode the key, so the rule matches the
  encoded key and starts the run through the S3 relay, which decodes it), another
  workflow's success, and the schedules LocalStack can fire as rules (rates, crons in
  UTC). Scheduler schedules are not put here: LocalStack accepts them and never fires them.

IAM is not enforced by LocalStack's community edition: the role here only satisfies the
APIs. The least-privilege roles are the CDK app's, from the same plan.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from compiler.deployment.names import BUCKET_TAG, LOCAL_ARTIFACT_BUCKET, WORKFLOW_TAG, log_group
from compiler.deployment.plan import STATE_MACHINE, FunctionSpec, StateMachineSpec, plan_deployment, secrets_id
from compiler.deployment.profile import LOCALSTACK_PROFILE
from compiler.dsl.triggers import S3Upload
from compiler.dsl.workflows import WorkflowDef
from compiler.pipeline import CompiledWorkflow, nested_workflows

from ..errors import DeployError
from .clients import ACCOUNT, REGION, Clients
from .harness import this_python
from .package import code_zip, sha256_b64

__all__ = ["ARTIFACT_BUCKET", "Deployed", "Deployer", "state_machine_arn"]

ARTIFACT_BUCKET = LOCAL_ARTIFACT_BUCKET
ROLE = "stepstone-localstack"
APPROVAL_FUNCTION = "stepstone-approval"
S3_TRIGGER_FUNCTION = "stepstone-s3-trigger"
RUNTIME = "python3.12"
Progress = Callable[[str], None]
_OUR_RULE = re.compile(r"^(upload|schedule|after)\d+$|^s3-\d+$")  # the ids the plan gives rules (s3-N: before it)


def state_machine_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


@dataclass
class Deployed:
    """What a deploy made or found, for the run and for the person watching."""

    workflow: str
    state_machine: str
    compiled: CompiledWorkflow
    functions: dict[str, str] = field(default_factory=dict)  # step name -> function name
    batch_as_lambda: tuple[str, ...] = ()  # Batch steps that run as Lambda functions here
    rules: tuple[str, ...] = ()
    changed: list[str] = field(default_factory=list)  # what was created or updated
    children: list[Deployed] = field(default_factory=list)
    seconds: float = 0.0


def _function_name(workflow: str, function: FunctionSpec) -> str:
    secrets = secrets_id(function.secrets)
    suffix = f"-{function.memory}mb-{function.timeout}s" + (f"-{secrets.removeprefix('Secrets')}" if secrets else "")
    base = re.sub(r"[^A-Za-z0-9_-]", "-", f"stepstone-{workflow}")
    return base[: 64 - len(suffix)] + suffix


class Deployer:
    """Deploys workflows to the LocalStack behind ``clients``."""

    def __init__(self, clients: Clients, *, progress: Progress = lambda _: None,
                 lambda_python: str | None = None, faults: str | None = None) -> None:
        self.aws = clients
        self.faults = faults  # STEPSTONE_FAULTS for the step functions (lambdas/faults.py); None: no faults
        self.progress = progress
        self.lambda_python = lambda_python or this_python()
        self._role: str | None = None
        self._buckets: set[str] = set()
        self._zips: dict[Path | None, bytes] = {}
        self._owners: dict[str, str] | None = None  # state machine ARN -> the CloudFormation stack that made it

    # --- shared resources ---------------------------------------------------------------

    def bucket(self, name: str = ARTIFACT_BUCKET) -> str:
        """An encrypted, private bucket that sends its events to EventBridge."""
        if name in self._buckets:
            return name
        s3 = self.aws.s3
        try:
            s3.head_bucket(Bucket=name)
        except s3.exceptions.ClientError:
            s3.create_bucket(Bucket=name)
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
            s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
            "EventBridgeConfiguration": {}})
        self._buckets.add(name)
        return name

    def role(self) -> str:
        if self._role is None:
            iam = self.aws.iam
            trust = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": "sts:AssumeRole",
                "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com", "events.amazonaws.com"]},
            }]}
            try:
                self._role = iam.get_role(RoleName=ROLE)["Role"]["Arn"]
            except iam.exceptions.NoSuchEntityException:
                self._role = iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(trust),
                                             Description="stepstone on LocalStack (IAM is not enforced there)"
                                             )["Role"]["Arn"]
        return self._role

    def _function(self, name: str, code: bytes, handler: str, memory: int, timeout: int,
                  changed: list[str]) -> str:
        """Create or update one function; returns its ARN."""
        client = self.aws.lambda_
        environment = {"Variables": {
            "STEPSTONE_ARTIFACT_BUCKET": ARTIFACT_BUCKET,
            "STEPSTONE_LAMBDA_PYTHON": self.lambda_python,  # the plugin runs the function with this Python
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
            "STEPSTONE_SECRETS": "aws",  # Secret.value() reads LocalStack's Secrets Manager and Parameter Store
        }}
        if self.faults and handler == "lambdas.step_runner.handler":
            environment["Variables"]["STEPSTONE_FAULTS"] = self.faults  # a later deploy without them removes them
        settings = {"Runtime": RUNTIME, "Role": self.role(), "Handler": handler, "MemorySize": memory,
                    "Timeout": timeout, "Environment": environment}
        try:
            current = client.get_function(FunctionName=name)["Configuration"]
        except client.exceptions.ResourceNotFoundException:
            arn: str = client.create_function(FunctionName=name, Code={"ZipFile": code}, Publish=False,
                                              Tags={WORKFLOW_TAG: name}, **settings)["FunctionArn"]
            changed.append(f"function {name}")
            client.get_waiter("function_active_v2").wait(FunctionName=name)
            return arn
        if current.get("CodeSha256") != sha256_b64(code):
            client.update_function_code(FunctionName=name, ZipFile=code)
            client.get_waiter("function_updated_v2").wait(FunctionName=name)
            changed.append(f"code of {name}")
        same = (current.get("Handler") == handler and current.get("MemorySize") == memory
                and current.get("Timeout") == timeout
                and current.get("Environment", {}).get("Variables") == environment["Variables"])
        if not same:
            client.update_function_configuration(FunctionName=name, **settings)
            client.get_waiter("function_updated_v2").wait(FunctionName=name)
            changed.append(f"settings of {name}")
        return str(current["FunctionArn"])

    def _code(self, file: Path | None) -> bytes:
        if file not in self._zips:
            self._zips[file] = code_zip(file)
        return self._zips[file]

    # --- one workflow -------------------------------------------------------------------

    def deploy(self, definition: WorkflowDef[..., Any], *, with_children: bool = True) -> Deployed:
        """Deploy ``definition`` (and the workflows it calls, first: each with its own file's code)."""
        started = time.perf_counter()
        children: list[Deployed] = []
        if with_children:
            for callee in nested_workflows(definition):
                children.append(self.deploy(callee, with_children=False))
        (spec,) = plan_deployment([definition], LOCALSTACK_PROFILE).state_machines
        workflow = spec.compiled.workflow
        self.progress(f"deploying {workflow.name} to LocalStack")
        self.bucket()
        changed: list[str] = []
        code = self._code(Path(definition.location.file))
        arns: dict[str, str] = {}
        functions: dict[str, str] = {}
        for step, function in sorted(spec.functions.items()):
            name = _function_name(workflow.name, function)
            if name not in arns:
                arns[name] = self._function(name, code, "lambdas.step_runner.handler", function.memory,
                                            function.timeout, changed)
            functions[step] = name
        values: dict[str, str] = {}
        for resource in spec.resources:
            if resource.kind == "function":
                values[resource.template] = arns[functions[resource.name]]
            elif resource.kind == "approval_function":
                values[resource.template] = self._function(APPROVAL_FUNCTION, self._code(None),
                                                           "lambdas.approval.handler", 256, 30, changed)
            elif resource.kind == "workflow":
                values[resource.template] = state_machine_arn(resource.name)
            elif resource.kind == "artifact_bucket":  # a distributed Map's item reader and result writer
                values[resource.template] = ARTIFACT_BUCKET
            else:
                raise DeployError(f"{workflow.name}: nothing on LocalStack stands for {resource.template}")
        text = spec.definition_json
        for template, value in values.items():
            text = text.replace(template, value)
        arn = self._state_machine(workflow.name, text, workflow.type, workflow.ref, changed)
        rules = self._rules(spec, arn, changed)
        batch = tuple(sorted(s.name for s in workflow.steps.values() if s.is_batch))
        return Deployed(workflow=workflow.name, state_machine=arn, compiled=spec.compiled, functions=functions,
                        batch_as_lambda=batch, rules=rules, changed=changed, children=children,
                        seconds=time.perf_counter() - started)

    def _log_group(self, name: str) -> str:
        """The log group an Express workflow writes its execution events to (its only history)."""
        logs = self.aws.logs
        group = log_group(name)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        arn: str = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["arn"]
        return arn

    @staticmethod
    def _tags(ref: str) -> list[dict[str, str]]:
        """What ``stepstone runs``/``show`` read: whose workflow it is, and where its runs keep their artifacts."""
        return [{"key": WORKFLOW_TAG, "value": ref}, {"key": BUCKET_TAG, "value": ARTIFACT_BUCKET}]

    def _stack_owning(self, arn: str) -> str | None:
        """The CloudFormation stack (of `stepstone deploy`) that made this state machine, if any."""
        if self._owners is None:
            self._owners = {}
            cloudformation = self.aws.client("cloudformation")
            for page in cloudformation.get_paginator("list_stacks").paginate():
                for summary in page.get("StackSummaries", []):
                    if summary["StackStatus"] == "DELETE_COMPLETE" or not summary["StackName"].startswith("stepstone-"):
                        continue
                    for resource in cloudformation.list_stack_resources(StackName=summary["StackName"]).get(
                            "StackResourceSummaries", []):
                        if resource["ResourceType"] == "AWS::StepFunctions::StateMachine":
                            self._owners[resource.get("PhysicalResourceId", "")] = summary["StackName"]
        return self._owners.get(arn)

    def _state_machine(self, name: str, definition: str, kind: str, ref: str, changed: list[str]) -> str:
        sfn = self.aws.sfn
        arn = state_machine_arn(name)
        settings: dict[str, Any] = {"definition": definition, "roleArn": self.role()}
        if kind == "express":  # Express runs have no execution history: their events go to CloudWatch Logs
            settings["loggingConfiguration"] = {
                "level": "ALL", "includeExecutionData": True,
                "destinations": [{"cloudWatchLogsLogGroup": {"logGroupArn": self._log_group(name)}}]}
        try:
            current = sfn.describe_state_machine(stateMachineArn=arn)
        except sfn.exceptions.StateMachineDoesNotExist:
            sfn.create_state_machine(name=name, type=kind.upper(), tags=self._tags(ref), **settings)
            changed.append(f"state machine {name}")
            return arn
        stack = self._stack_owning(arn)
        if stack is not None:
            raise DeployError(f"{name} is deployed here by `stepstone deploy --localstack` (CloudFormation stack "
                              f"{stack}); changing it from `stepstone run` would go behind CloudFormation's back. "
                              f"Remove that stack first (npx cdklocal destroy {stack}), or start the deployed "
                              "workflow the way it is deployed to start (its S3 upload, its schedule)")
        if current.get("type", "STANDARD") != kind.upper():
            sfn.delete_state_machine(stateMachineArn=arn)
            sfn.create_state_machine(name=name, type=kind.upper(), tags=self._tags(ref), **settings)
            changed.append(f"state machine {name} (now {kind})")
        elif json.loads(current["definition"]) != json.loads(definition) or (
                kind == "express" and current.get("loggingConfiguration", {}).get("level") != "ALL"):
            sfn.update_state_machine(stateMachineArn=arn, **settings)
            changed.append(f"state machine {name}")
        return arn

    def _check_pattern(self, workflow: str, trigger: S3Upload, pattern: str) -> None:
        """EventBridge's own matcher must take the pattern, match a key the trigger names and
        miss one it does not (a rule with a bad pattern is accepted, and then never fires)."""
        events = self.aws.events
        inside = quote(f"{trigger.prefix}file{trigger.suffix}")  # as LocalStack's S3 events carry it
        try:
            hit = events.test_event_pattern(EventPattern=pattern, Event=json.dumps(_sample_event(trigger, inside)))
            miss = events.test_event_pattern(EventPattern=pattern,
                                             Event=json.dumps(_sample_event(trigger, f"~{inside}~")))
        except events.exceptions.InvalidEventPatternException as exc:
            raise DeployError(f"{workflow}: EventBridge rejects the s3_upload pattern {pattern}: {exc}") from None
        if not hit["Result"] or (miss["Result"] and (trigger.prefix or trigger.suffix)):
            raise DeployError(f"{workflow}: the s3_upload pattern {pattern} does not match as it should "
                              f"({inside!r} matched: {hit['Result']})")

    def _rules(self, spec: StateMachineSpec, arn: str, changed: list[str]) -> tuple[str, ...]:
        """The plan's rules for this state machine: upload rules through the S3 relay, the rest
        starting the state machine itself (with the role that may)."""
        events = self.aws.events
        names: list[str] = []
        relay = self._function(S3_TRIGGER_FUNCTION, self._code(None), "lambdas.s3_trigger.handler", 256, 30,
                               changed) if any(rule.via_relay for rule in spec.rules) else ""
        for rule in spec.rules:
            name = f"stepstone-{spec.name}-{rule.id.lower()}"[:64]
            names.append(name)
            pattern = dict(rule.event_pattern or {})
            if rule.upstream is not None:
                upstream = [state_machine_arn(rule.upstream)]
                pattern = {**pattern, "detail": {**pattern["detail"], "stateMachineArn": upstream}}
            target: dict[str, Any] = {"Id": "start-run", "Arn": relay if rule.via_relay else arn}
            if not rule.via_relay:
                target["RoleArn"] = self.role()
            if rule.input is not None:
                target["Input"] = rule.input
            if rule.input_transformer is not None:
                target["InputTransformer"] = {
                    "InputPathsMap": dict(rule.input_transformer["InputPathsMap"]),
                    "InputTemplate": str(rule.input_transformer["InputTemplate"]).replace(STATE_MACHINE, arn)}
            if rule.trigger is not None:
                self.bucket(rule.trigger.bucket)
                self._check_pattern(spec.name, rule.trigger, json.dumps(pattern))
            how: dict[str, Any] = {"ScheduleExpression": rule.schedule_expression} if rule.schedule_expression \
                else {"EventPattern": json.dumps(pattern)}
            try:
                current = events.describe_rule(Name=name)
                same = (current.get("ScheduleExpression") == rule.schedule_expression
                        and json.loads(current.get("EventPattern") or "{}") == pattern
                        and events.list_targets_by_rule(Rule=name).get("Targets") == [target])
            except events.exceptions.ResourceNotFoundException:
                same = False
            if same:
                continue
            events.put_rule(Name=name, State="ENABLED", Description=rule.description[:512], **how)
            events.put_targets(Rule=name, Targets=[target])
            changed.append(f"rule {name}")
        self._remove_stale_rules(spec.name, set(names), changed)
        return tuple(names)

    def _remove_stale_rules(self, workflow: str, keep: set[str], changed: list[str]) -> None:
        """Rules this deployer made for the workflow that its plan no longer has (a trigger
        removed, or named otherwise by an earlier stepstone): they would start runs nobody asked for."""
        events = self.aws.events
        prefix = f"stepstone-{workflow}-"
        for page in events.get_paginator("list_rules").paginate(NamePrefix=prefix):
            for found in page.get("Rules", []):
                name = found["Name"]
                if name in keep or not _OUR_RULE.match(name[len(prefix):]):
                    continue
                targets = [t["Id"] for t in events.list_targets_by_rule(Rule=name).get("Targets", [])]
                if targets:
                    events.remove_targets(Rule=name, Ids=targets)
                events.delete_rule(Name=name)
                changed.append(f"removed rule {name}")


def _sample_event(trigger: S3Upload, key: str) -> dict[str, Any]:
    return {"id": "sample", "version": "0", "account": ACCOUNT, "region": REGION, "time": "2026-01-01T00:00:00Z",
            "source": "aws.s3", "detail-type": "Object Created", "resources": [f"arn:aws:s3:::{trigger.bucket}"],
            "detail": {"bucket": {"name": trigger.bucket}, "object": {"key": key}}}
