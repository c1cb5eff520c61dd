"""Batch that fits the job, in the templates: CPU jobs on CPU instances (never a GPU one),
GPU jobs on GPU instances, a step's instance families, Spot first with on-demand behind it
and a retry when EC2 reclaims the instance, a default timeout for a job that names none,
and an existing VPC given by context."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cdk.app import _quiet_node_warning

_quiet_node_warning()

from aws_cdk import App  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402

from cdk.app import build  # noqa: E402
from cdk.nag import check  # noqa: E402
from compiler.asl.walk import state_definitions  # noqa: E402
from compiler.cost import PRICES  # noqa: E402
from compiler.dsl.options import BATCH_DEFAULT_TIMEOUT  # noqa: E402
from tests.cdk.test_templates import ROOT  # noqa: E402

STACK = "stepstone-tests-cdk-batch-flows"


def synth(**context: Any) -> dict[str, Template]:
    app = App(context={"stepstone:workflows": ["tests/cdk/batch_flows.py"], **context})
    stacks = build(app, ROOT)
    check(app)
    app.synth()
    return {stack.stack_name: Template.from_stack(stack) for stack in stacks}


@pytest.fixture(scope="module")
def aws() -> dict[str, Template]:
    return synth()


def of(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {name: r["Properties"] for name, r in template.find_resources(kind).items()}


def queues(template: Template) -> dict[str, list[dict[str, Any]]]:
    """Each queue's name -> its compute environments' properties, in order."""
    environments = of(template, "AWS::Batch::ComputeEnvironment")
    found = {}
    for queue in of(template, "AWS::Batch::JobQueue").values():
        order = sorted(queue["ComputeEnvironmentOrder"], key=lambda o: o["Order"])
        found[queue["JobQueueName"]] = [environments[o["ComputeEnvironment"]["Fn::GetAtt"][0]] for o in order]
    return found


def test_cpu_jobs_run_on_cpu_instances_and_gpu_jobs_on_gpu_ones(aws: dict[str, Template]) -> None:
    found = queues(aws["stepstone-shared"])
    assert sorted(found) == ["stepstone-cpu", "stepstone-gpu-p4d", "stepstone-gpu-spot"]
    (cpu,) = found["stepstone-cpu"]
    assert all(not t.startswith(("g", "p")) for t in cpu["ComputeResources"]["InstanceTypes"])
    assert cpu["ComputeResources"]["Ec2Configuration"] == [{"ImageType": "ECS_AL2"}]
    (p4d,) = found["stepstone-gpu-p4d"]
    assert p4d["ComputeResources"]["InstanceTypes"] == ["p4d.24xlarge"] and p4d["ComputeResources"]["MaxvCpus"] >= 96
    priced = {i.name for i in PRICES.instances}
    for environments in found.values():
        for environment in environments:
            assert set(environment["ComputeResources"]["InstanceTypes"]) <= priced, "the cost model prices them"


def test_a_spot_job_tries_spot_first_then_on_demand_and_is_retried_when_reclaimed(aws: dict[str, Template]) -> None:
    spot, on_demand = queues(aws["stepstone-shared"])["stepstone-gpu-spot"]
    assert spot["ComputeResources"]["Type"] == "SPOT"
    assert spot["ComputeResources"]["AllocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert on_demand["ComputeResources"]["Type"] == "EC2"
    assert spot["ComputeResources"]["InstanceTypes"] == on_demand["ComputeResources"]["InstanceTypes"]
    jobs = of(aws[STACK], "AWS::Batch::JobDefinition")
    (trial,) = [p for name, p in jobs.items() if "trial" in name]
    assert trial["RetryStrategy"]["Attempts"] == 3
    assert trial["RetryStrategy"]["EvaluateOnExit"][0] == {"Action": "RETRY", "OnStatusReason": "Host EC2*"}
    assert trial["RetryStrategy"]["EvaluateOnExit"][-1]["Action"] == "EXIT", "any other failure is not retried"
    (featurize,) = [p for name, p in jobs.items() if "featurize" in name]
    assert not featurize.get("RetryStrategy"), "an on-demand job is not retried by Batch (Step Functions retries)"


def test_each_job_goes_to_its_queue_and_one_without_a_timeout_gets_a_day(aws: dict[str, Template]) -> None:
    (machine,) = of(aws[STACK], "AWS::StepFunctions::StateMachine").values()
    substitutions = json.dumps(machine["DefinitionSubstitutions"])
    for step, queue in (("featurize", "stepstone-cpu"), ("trial", "stepstone-gpu-spot"),
                        ("pretrain", "stepstone-gpu-p4d")):
        value = json.dumps(machine["DefinitionSubstitutions"][f"JobQueue_{step}"])
        assert f"job-queue/{queue}" in value, (step, value)
    assert "JobQueue_" in substitutions
    states = state_definitions(json.loads(machine["DefinitionString"]))
    assert states["pretrain"]["TimeoutSeconds"] == BATCH_DEFAULT_TIMEOUT, "Step Functions gives the job up then"
    assert states["featurize"]["TimeoutSeconds"] == 1800
    jobs = of(aws[STACK], "AWS::Batch::JobDefinition")
    (pretrain,) = [p for name, p in jobs.items() if "pretrain" in name]
    assert pretrain["Timeout"] == {"AttemptDurationSeconds": BATCH_DEFAULT_TIMEOUT}


def test_an_existing_vpc_and_subnets_by_context() -> None:
    shared = synth(**{"stepstone:vpc": "vpc-0abc", "stepstone:subnets": "subnet-01,subnet-02"})["stepstone-shared"]
    assert not of(shared, "AWS::EC2::VPC"), "no VPC of the app's own"
    for environment in of(shared, "AWS::Batch::ComputeEnvironment").values():
        assert environment["ComputeResources"]["Subnets"] == ["subnet-01", "subnet-02"]
    (group,) = of(shared, "AWS::EC2::SecurityGroup").values()
    assert group["VpcId"] == "vpc-0abc"
