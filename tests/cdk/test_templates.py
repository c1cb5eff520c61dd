"""The CDK app's templates, asserted with aws_cdk.assertions: what each construct must
deploy, that every IAM grant names only the workflow's own resources, and that cdk-nag's
AwsSolutions checks pass (and do fail a bad stack, so they are really on)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdk.app import _quiet_node_warning

_quiet_node_warning()

from aws_cdk import App, Stack  # noqa: E402
from aws_cdk import aws_s3 as s3  # noqa: E402
from aws_cdk.assertions import Match, Template  # noqa: E402

from cdk.app import build  # noqa: E402
from cdk.nag import check  # noqa: E402
from compiler import compile_workflow  # noqa: E402
from compiler.asl.walk import state_definitions  # noqa: E402
from compiler.cost import PRICES  # noqa: E402
from compiler.deployment.profile import LOCALSTACK_MAP_CONCURRENCY, LOCALSTACK_PROFILE  # noqa: E402
from examples.approval_release import approval_release  # noqa: E402
from examples.etl_s3 import etl_s3  # noqa: E402
from examples.ml_training import ml_training  # noqa: E402
from examples.model_family import churn_with_hpo  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
# AWS accepts only "*" for these; each is listed in cdk/ with the reason (cdk/nag.py accept_wildcard)
STAR_ACTIONS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                "xray:GetSamplingTargets", "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery",
                "logs:DeleteLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy",
                "logs:DescribeResourcePolicies", "logs:DescribeLogGroups", "batch:DescribeJobs", "batch:TerminateJob",
                "ecr:GetAuthorizationToken"}


def templates(context: dict[str, Any]) -> dict[str, Template]:
    app = App(context={"stepstone:workflows": ["examples/*.py"], **context})
    stacks = build(app, ROOT)
    check(app)
    app.synth()  # cdk-nag runs here: an unacknowledged finding fails it
    return {stack.stack_name: Template.from_stack(stack) for stack in stacks}


@pytest.fixture(scope="module")
def aws() -> dict[str, Template]:
    return templates({})


@pytest.fixture(scope="module")
def localstack() -> dict[str, Template]:
    return templates({"stepstone:localstack": "true", "stepstone:create-trigger-buckets": "true"})


def resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.find_resources(kind)
    return found


def state_machine(template: Template, name: str) -> dict[str, Any]:
    machines = [r for r in resources(template, "AWS::StepFunctions::StateMachine").values()
                if r["Properties"]["StateMachineName"] == name]
    assert len(machines) == 1
    return machines[0]


def state_machine_id(template: Template, name: str) -> str:
    return next(k for k, r in resources(template, "AWS::StepFunctions::StateMachine").items()
                if r["Properties"]["StateMachineName"] == name)


def statements(template: Template, role_id: str) -> Iterator[dict[str, Any]]:
    for policy in resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role_id} in policy["Properties"]["Roles"]:
            yield from policy["Properties"]["PolicyDocument"]["Statement"]


def test_every_state_machine_is_the_compiled_asl_with_its_placeholders_substituted(aws: dict[str, Template]) -> None:
    for definition, stack in ((ml_training, "stepstone-examples-ml-training"),
                              (etl_s3, "stepstone-examples-etl-s3"),
                              (approval_release, "stepstone-examples-approval-release"),
                              (churn_with_hpo, "stepstone-examples-model-family")):
        compiled = compile_workflow(definition)
        machine = state_machine(aws[stack], definition.name)["Properties"]
        assert json.loads(machine["DefinitionString"]) == compiled.definition
        assert set(machine["DefinitionSubstitutions"]) == {r.placeholder for r in compiled.resources}
        assert machine["StateMachineType"] == compiled.workflow.type.upper()
        assert machine["TracingConfiguration"] == {"Enabled": True}
        assert machine["LoggingConfiguration"]["Level"] == "ALL"


def test_a_state_machine_role_names_only_its_own_resources(aws: dict[str, Template]) -> None:
    template = aws["stepstone-examples-ml-training"]
    role = state_machine(template, "ml_training")["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    machine = state_machine(template, "ml_training")["Properties"]
    own = {json.dumps(v, sort_keys=True) for v in machine["DefinitionSubstitutions"].values()}
    for statement in statements(template, role):
        targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        for target in targets:
            if target == "*":
                assert set(actions) <= STAR_ACTIONS, f"{actions} on *"
            elif any(a.startswith(("lambda:", "batch:SubmitJob")) for a in actions):
                assert json.dumps(target, sort_keys=True) in own, f"{actions} on {target}: not this workflow's"
            else:
                assert "StepFunctionsGetEventsFor" in json.dumps(target), f"{actions} on {target}"


def test_step_functions_write_only_the_prefixes_of_the_workflows_they_serve(aws: dict[str, Template]) -> None:
    template = aws["stepstone-examples-etl-s3"]
    for function in resources(template, "AWS::Lambda::Function").values():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        for statement in statements(template, role):
            text = json.dumps(statement)
            if "s3:" in text:
                assert "/runs/etl_s3/" in text or "/cache/etl_s3/" in text or "s3:prefix" in text, text
                assert "ml_training" not in text


def test_the_approval_function_may_only_write_approval_requests(aws: dict[str, Template]) -> None:
    template = aws["stepstone-examples-approval-release"]
    (approval,) = [f for f in resources(template, "AWS::Lambda::Function").values()
                   if f["Properties"]["Handler"] == "lambdas.approval.handler"]
    s3_statements = [s for s in statements(template, approval["Properties"]["Role"]["Fn::GetAtt"][0])
                     if "s3:" in json.dumps(s["Action"])]
    assert [s["Action"] for s in s3_statements] == ["s3:PutObject"]
    assert "/runs/approval_release/*/approvals/*" in json.dumps(s3_statements[0]["Resource"])


def test_schedules_carry_their_time_zone_and_every_parameter(aws: dict[str, Template]) -> None:
    schedules = resources(aws["stepstone-examples-ml-training"], "AWS::Scheduler::Schedule")
    (schedule,) = schedules.values()
    properties = schedule["Properties"]
    assert properties["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert properties["ScheduleExpressionTimezone"] == "Europe/Berlin"
    run_input = json.loads(properties["Target"]["Input"])
    assert run_input.pop("stepstone_trigger") == {"kind": "schedule", "expression": "cron(0 3 * * ? *)"}
    assert ml_training.validate_params(run_input) == run_input, "every parameter, defaults filled in"
    family = resources(aws["stepstone-examples-model-family"], "AWS::Scheduler::Schedule")
    assert {s["Properties"]["ScheduleExpressionTimezone"] for s in family.values()} == {
        "Europe/London", "UTC", "America/New_York"}


def test_the_s3_rule_matches_the_prefix_and_suffix_and_passes_bucket_and_key(aws: dict[str, Template]) -> None:
    Template.has_resource_properties(aws["stepstone-examples-etl-s3"], "AWS::Events::Rule", {
        "EventPattern": {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": {
            "bucket": {"name": ["raw-data"]}, "object": {"key": [{"wildcard": "sales/*.csv"}]}}},
        "Targets": [Match.object_like({"InputTransformer": {
            "InputPathsMap": {"bucket": "$.detail.bucket.name", "key": "$.detail.object.key"},
            "InputTemplate": '{"bucket": <bucket>, "key": <key>, "stepstone_trigger": '
                             '{"bucket": <bucket>, "key": <key>, "kind": "s3"}}'}})]})


def test_another_workflow_succeeding_starts_a_run(aws: dict[str, Template]) -> None:
    rules = resources(aws["stepstone-examples-approval-release"], "AWS::Events::Rule")
    patterns = [r["Properties"]["EventPattern"] for r in rules.values()]
    assert any(p["source"] == ["aws.states"] and p["detail"]["status"] == ["SUCCEEDED"]
               and "stateMachine:ml_training" in json.dumps(p["detail"]["stateMachineArn"]) for p in patterns)


def test_gpu_steps_get_a_job_definition_with_their_gpus_and_the_queue_is_gpu(aws: dict[str, Template]) -> None:
    (job,) = resources(aws["stepstone-examples-ml-training"], "AWS::Batch::JobDefinition").values()
    requirements = {r["Type"]: r["Value"] for r in job["Properties"]["ContainerProperties"]["ResourceRequirements"]}
    assert requirements == {"GPU": "1", "VCPU": "8", "MEMORY": "32768"}
    environments = resources(aws["stepstone-shared"], "AWS::Batch::ComputeEnvironment").values()
    assert {e["Properties"]["ComputeResources"]["Type"] for e in environments} == {"EC2", "SPOT"}, \
        "hpo_fanout's trials ask for Spot"
    for environment in environments:
        compute = environment["Properties"]["ComputeResources"]
        assert all(t.startswith(("g5.", "g6.")) for t in compute["InstanceTypes"])
        assert set(compute["InstanceTypes"]) <= {i.name for i in PRICES.instances}, \
            "the cost model prices the instances the compute environment starts"
        assert compute["Ec2Configuration"] == [{"ImageType": "ECS_AL2_NVIDIA"}]


def test_the_artifact_bucket_is_encrypted_versioned_and_expires_old_runs(aws: dict[str, Template]) -> None:
    """TLS only and no public access: tests/cdk/test_security.py."""
    buckets = resources(aws["stepstone-shared"], "AWS::S3::Bucket")
    artifacts = next(b for b in buckets.values() if "LoggingConfiguration" in b["Properties"])["Properties"]
    assert artifacts["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert artifacts["VersioningConfiguration"] == {"Status": "Enabled"}
    assert artifacts["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert any(r.get("Prefix") == "runs/" and r.get("ExpirationInDays") for r in
               artifacts["LifecycleConfiguration"]["Rules"])


def test_failed_and_timed_out_runs_raise_alarms_to_an_encrypted_topic(aws: dict[str, Template]) -> None:
    alarms = resources(aws["stepstone-examples-ml-training"], "AWS::CloudWatch::Alarm")
    metrics = sorted(a["Properties"]["MetricName"] for a in alarms.values())
    assert metrics == ["ExecutionsFailed", "ExecutionsTimedOut"]
    assert all("stepstone-run-alarms" in json.dumps(a["Properties"]["AlarmActions"]) for a in alarms.values())
    (topic,) = resources(aws["stepstone-shared"], "AWS::SNS::Topic").values()
    assert "KmsMasterKeyId" in topic["Properties"]


def test_outputs_give_each_state_machine_and_its_console_link(aws: dict[str, Template]) -> None:
    outputs = aws["stepstone-examples-ml-training"].find_outputs("*")
    assert "mltrainingStateMachine" in outputs
    assert "states/home" in json.dumps(outputs["mltrainingConsole"]["Value"])


def test_on_localstack_batch_steps_are_lambda_functions_and_rate_schedules_are_rules(
        localstack: dict[str, Template], aws: dict[str, Template]) -> None:
    assert "stepstone-shared" in localstack
    for template in localstack.values():
        assert not resources(template, "AWS::Batch::JobDefinition")
        assert not resources(template, "AWS::Batch::ComputeEnvironment")
    machine = state_machine(localstack["stepstone-examples-ml-training"], "ml_training")["Properties"]
    compiled = compile_workflow(ml_training, profile=LOCALSTACK_PROFILE)
    assert json.loads(machine["DefinitionString"]) == compiled.definition
    # every fan-out is capped there, as the quick deployer caps it (both render one plan)
    maps = [state for template in localstack.values() for m in resources(template, "AWS::StepFunctions::StateMachine"
                                                                        ).values()
            for state in state_definitions(json.loads(m["Properties"]["DefinitionString"])).values()
            if state["Type"] == "Map"]
    assert maps and all(0 < m.get("MaxConcurrency", 0) <= LOCALSTACK_MAP_CONCURRENCY for m in maps)
    family = localstack["stepstone-examples-model-family"]
    assert [r["Properties"]["ScheduleExpression"] for r in resources(family, "AWS::Events::Rule").values()
            if "ScheduleExpression" in r["Properties"]] == ["rate(1 day)"]
    assert len(resources(family, "AWS::Scheduler::Schedule")) == 2, "the cron schedules in other time zones"
    # LocalStack's S3 events percent-encode the key: the upload rule starts runs through the relay
    etl = localstack["stepstone-examples-etl-s3"]
    upload = next(r for r in resources(etl, "AWS::Events::Rule").values() if "EventPattern" in r["Properties"])
    target = upload["Properties"]["Targets"][0]
    relay_id = target["Arn"]["Fn::GetAtt"][0]
    relay = resources(etl, "AWS::Lambda::Function")[relay_id]["Properties"]
    assert relay["Handler"] == "lambdas.s3_trigger.handler"
    assert target["InputTransformer"]["InputPathsMap"]["id"] == "$.id" and "RoleArn" not in target
    assert '"key_param": "key"' in json.dumps(target["InputTransformer"]["InputTemplate"]).replace('\\"', '"')
    starts = [st for st in statements(etl, relay["Role"]["Fn::GetAtt"][0]) if "states:" in json.dumps(st["Action"])]
    assert [st["Action"] for st in starts] == ["states:StartExecution"]
    assert starts[0]["Resource"] == {"Ref": state_machine_id(etl, "etl_s3")}, "its own state machine only"
    (permission,) = resources(etl, "AWS::Lambda::Permission").values()
    assert permission["Properties"]["Principal"] == "events.amazonaws.com"
    assert not any(f["Properties"]["Handler"] == "lambdas.s3_trigger.handler"
                   for f in resources(aws["stepstone-examples-etl-s3"], "AWS::Lambda::Function").values()), \
        "AWS's events carry the key as is: no relay there"


def test_trigger_buckets_the_app_makes_send_their_events_to_eventbridge(localstack: dict[str, Template],
                                                                        aws: dict[str, Template]) -> None:
    made = {json.dumps(b["Properties"].get("BucketName")).strip('"'): b["Properties"] for b in
            resources(localstack["stepstone-shared"], "AWS::S3::Bucket").values()}
    assert made["raw-data"]["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert "BucketEncryption" in made["raw-data"] and "PublicAccessBlockConfiguration" in made["raw-data"]
    assert "raw-data" not in {json.dumps(b["Properties"].get("BucketName")).strip('"') for b in
                              resources(aws["stepstone-shared"], "AWS::S3::Bucket").values()}, "yours by default"


def test_cdk_nag_is_really_on() -> None:
    app = App()
    stack = Stack(app, "careless")
    s3.Bucket(stack, "Open", enforce_ssl=False)
    check(app)
    with pytest.raises(Exception, match=r"AwsSolutions-S10|AwsSolutions-S1"):
        app.synth()
