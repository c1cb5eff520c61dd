"""Put a workflow on LocalStack: the artifact bucket, the step functions, the state machine,
the trigger rules. Idempotent: what is already there and unchanged is left alone.

What goes where (names are stable, so a re-deploy updates in place):

- bucket ``stepstone-artifacts``: step outputs, lineage and approval requests (encrypted,
  public access blocked, EventBridge notifications on);
- Lambda functions ``stepstone-<workflow>-<memory>mb-<timeout>s``: the step runner
  (``lambdas.step_runner.handler``) with the workflow's code, one per distinct memory and
  timeout, shared by the steps that ask for the same (a Batch step runs here as Lambda,
  with Lambda's largest memory and 900-second limit, since LocalStack has no Batch);
  ``stepstone-approval`` records approval requests;
- state machine ``<workflow>`` (the compiled ASL with Batch steps as Lambda invocations,
  placeholders replaced by these ARNs), after the workflows it calls; an Express workflow
  logs its execution events to ``/aws/vendedlogs/states/<workflow>`` (it has no history);
- for each ``s3_upload`` trigger: its bucket (EventBridge on) and an EventBridge rule
  ``stepstone-<workflow>-s3-<n>`` whose target starts the state machine with the object's
  bucket and key and the other parameters' defaults. LocalStack's S3 events percent-encode
  the key (AWS's do not), so here the rule matches the encoded key and its target is
  ``stepstone-s3-trigger`` (``lambdas.s3_trigger``), which decodes the key and starts the run.

Each fan-out (Map state) runs at most ``MAX_CONCURRENCY`` items at once here: every
concurrent Lambda invocation on LocalStack is a process of this machine, and a fan-out with
no limit (a distributed Map's default) would start one per item.

Schedules are not deployed here: LocalStack's EventBridge Scheduler accepts schedules but
never fires them (see LOCAL_AWS.md); ``cdk deploy`` puts them on AWS.
IAM is not enforced by LocalStack's community edition: the role here only satisfies the
APIs. The least-privilege roles are the CDK app's.
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

from compiler import compile_workflow
from compiler.asl.walk import state_definitions
from compiler.deployment.names import BUCKET_TAG, LOCAL_ARTIFACT_BUCKET, WORKFLOW_TAG, log_group
from compiler.deployment.rules import s3_event_pattern, s3_relay_transformer
from compiler.dsl.triggers import S3Upload
from compiler.dsl.workflows import WorkflowDef
from compiler.pipeline import CompiledWorkflow, nested_workflows

from ..errors import DeployError
from .clients import ACCOUNT, REGION, Clients
from .harness import this_python
from .package import code_zip, sha256_b64

__all__ = ["ARTIFACT_BUCKET", "MAX_CONCURRENCY", "Deployed", "Deployer", "bound_concurrency", "state_machine_arn"]

ARTIFACT_BUCKET = LOCAL_ARTIFACT_BUCKET
ROLE = "stepstone-localstack"
APPROVAL_FUNCTION = "stepstone-approval"
S3_TRIGGER_FUNCTION = "stepstone-s3-trigger"
RUNTIME = "python3.12"
# Items a fan-out runs at once here. LocalStack runs a distributed Map with no MaxConcurrency
# one item per thread, and Lambda starts an execution environment (for stepstone's executor:
# a process of about 65 MB) per concurrent invocation, so 500 items were 500 processes. Its
# Step Functions interpreter runs under one GIL: on 2 cores a 100-item Map took 27, 30 and
# 33 s at 4, 8 and 16 at once; more only costs memory.
MAX_CONCURRENCY = 8
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_-]+)\}")
Progress = Callable[[str], None]


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
    capped: dict[str, int] = field(default_factory=dict)  # fan-outs bounded here: state -> items at once


def _function_name(workflow: str, memory: int, timeout: int) -> str:
    suffix = f"-{memory}mb-{timeout}s"
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
        """Deploy ``definition`` (and the workflows it calls, first)."""
        started = time.perf_counter()
        children: list[Deployed] = []
        if with_children:
            for callee in nested_workflows(definition):
                children.append(self.deploy(callee, with_children=False))
        compiled = compile_workflow(definition, batch_as_lambda=True)
        workflow = compiled.workflow
        self.progress(f"deploying {workflow.name} to LocalStack")
        self.bucket()
        changed: list[str] = []
        code = self._code(Path(definition.location.file))
        resources: dict[str, str] = {}
        functions: dict[str, str] = {}
        arns: dict[str, str] = {}
        for step in compiled.resources.functions:
            memory, timeout = step.as_lambda
            name = _function_name(workflow.name, memory, timeout)
            if name not in arns:
                arns[name] = self._function(name, code, "lambdas.step_runner.handler", memory, timeout, changed)
            functions[step.name] = name
            resources[f"Function_{step.name}"] = arns[name]
        text = compiled.asl_json
        placeholders = set(_PLACEHOLDER.findall(text))
        if "ApprovalFunction" in placeholders:
            resources["ApprovalFunction"] = self._function(APPROVAL_FUNCTION, self._code(None),
                                                           "lambdas.approval.handler", 256, 30, changed)
        for called in workflow.calls:
            resources[f"Workflow_{called}"] = state_machine_arn(called)
        resources["ArtifactBucket"] = ARTIFACT_BUCKET  # a distributed Map's item reader and result writer
        missing = sorted(placeholders - set(resources))
        if missing:
            raise DeployError(f"{workflow.name}: nothing on LocalStack stands for {', '.join(missing)}")
        definition_text, capped = bound_concurrency(_PLACEHOLDER.sub(lambda m: resources[m.group(1)], text))
        arn = self._state_machine(workflow.name, definition_text, workflow.type, workflow.ref, changed)
        rules = self._triggers(definition, compiled, arn, changed)
        batch = tuple(sorted(s.name for s in workflow.steps.values() if s.is_batch))
        return Deployed(workflow=workflow.name, state_machine=arn, compiled=compiled, functions=functions,
                        batch_as_lambda=batch, rules=rules, changed=changed, children=children,
                        seconds=time.perf_counter() - started, capped=capped)

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

    def _triggers(self, definition: WorkflowDef[..., Any], compiled: CompiledWorkflow, arn: str,
                  changed: list[str]) -> tuple[str, ...]:
        events = self.aws.events
        workflow = compiled.workflow
        names: list[str] = []
        uploads = [t for t in workflow.triggers if isinstance(t, S3Upload)]
        relay = self._function(S3_TRIGGER_FUNCTION, self._code(None), "lambdas.s3_trigger.handler", 256, 30,
                               changed) if uploads else ""
        for index, trigger in enumerate(uploads, start=1):
            self.bucket(trigger.bucket)
            name = f"stepstone-{workflow.name}-s3-{index}"[:64]
            pattern = json.dumps(s3_event_pattern(trigger, url_encoded_keys=True))
            self._check_pattern(workflow.name, trigger, pattern)
            target = {"Id": "start-run", "Arn": relay,
                      "InputTransformer": s3_relay_transformer(trigger, definition, arn)}
            names.append(name)
            try:
                same = (json.loads(events.describe_rule(Name=name).get("EventPattern", "{}")) == json.loads(pattern)
                        and events.list_targets_by_rule(Rule=name).get("Targets") == [target])
            except events.exceptions.ResourceNotFoundException:
                same = False
            if same:
                continue
            events.put_rule(Name=name, EventPattern=pattern, State="ENABLED",
                            Description=f"start {workflow.name} when a file lands in s3://{trigger.bucket}/"
                                        f"{trigger.prefix}*{trigger.suffix}")
            events.put_targets(Rule=name, Targets=[target])
            changed.append(f"rule {name}")
        return tuple(names)


def bound_concurrency(definition: str, limit: int = MAX_CONCURRENCY) -> tuple[str, dict[str, int]]:
    """The definition with every Map state running at most ``limit`` items at once (see
    ``MAX_CONCURRENCY``), and the states it bounded with their limit; unchanged if none."""
    machine = json.loads(definition)
    capped: dict[str, int] = {}
    for name, state in state_definitions(machine).items():  # the parsed states themselves: changed in place
        if state.get("Type") == "Map" and not 0 < int(state.get("MaxConcurrency") or 0) <= limit:
            assert isinstance(state, dict)
            state["MaxConcurrency"] = capped[name] = limit
    return (json.dumps(machine, indent=2, sort_keys=True) if capped else definition), capped


def _sample_event(trigger: S3Upload, key: str) -> dict[str, Any]:
    return {"id": "sample", "version": "0", "account": ACCOUNT, "region": REGION, "time": "2026-01-01T00:00:00Z",
            "source": "aws.s3", "detail-type": "Object Created", "resources": [f"arn:aws:s3:::{trigger.bucket}"],
            "detail": {"bucket": {"name": trigger.bucket}, "object": {"key": key}}}
