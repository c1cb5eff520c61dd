"""AWS Batch for GPU steps: a managed EC2 compute environment of GPU instances on the ECS
GPU AMI (the types of ``compiler/deployment/instances.py``, which the cost model prices) and
a job queue (shared), and per workflow file the runner image and one job
definition per Batch step with its GPUs, vCPUs and memory.

The image is built from ``cdk.bundle.image_context`` by ``cdk deploy`` (Docker needed there,
not for ``cdk synth``). A step with ``Batch(image=...)`` runs that image instead; it must
contain stepstone and the step's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from compiler.deployment.instances import GPU_INSTANCES
from compiler.deployment.plan import BatchJobSpec, secrets_id

from .artifacts import Artifacts
from .nag import accept, accept_wildcard
from .runners import grant_secrets

__all__ = ["GpuJobs", "GpuQueue", "gpu_queue_arn"]

QUEUE = "stepstone-gpu"


def gpu_queue_arn(scope: Construct) -> str:
    return Stack.of(scope).format_arn(service="batch", resource="job-queue", resource_name=QUEUE)


class GpuQueue(Construct):
    """The compute environment and queue every GPU job of the app goes to."""

    def __init__(self, scope: Construct, id: str, *, max_vcpus: int = 64) -> None:
        super().__init__(scope, id)
        self.vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
            ec2.SubnetConfiguration(name="batch", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)])
        self.vpc.add_flow_log("FlowLogs", destination=ec2.FlowLogDestination.to_cloud_watch_logs(
            logs.LogGroup(self, "FlowLogGroup", retention=logs.RetentionDays.THREE_MONTHS)))
        security_group = ec2.SecurityGroup(self, "Instances", vpc=self.vpc, allow_all_outbound=True,
                                           description="stepstone GPU jobs: no inbound traffic")
        self.environment = batch.ManagedEc2EcsComputeEnvironment(
            self, "Gpu", vpc=self.vpc, vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[security_group], instance_types=[ec2.InstanceType(i.name) for i in GPU_INSTANCES],
            use_optimal_instance_classes=False, minv_cpus=0, maxv_cpus=max_vcpus,
            images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2_NVIDIA)],
            allocation_strategy=batch.AllocationStrategy.BEST_FIT_PROGRESSIVE)
        accept(self.environment, "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                                 "AmazonEC2ContainerServiceforEC2Role]",
               "the ECS agent on Batch's instances needs this AWS-maintained policy, as AWS Batch documents: "
               "https://docs.aws.amazon.com/batch/latest/userguide/instance_IAM_role.html")
        self.queue = batch.JobQueue(self, "Queue", job_queue_name=QUEUE, compute_environments=[
            batch.OrderedComputeEnvironment(compute_environment=self.environment, order=1)])


class GpuJobs(Construct):
    """The runner image of one workflow file and a job definition per Batch step. A job role
    per workflow and set of declared secrets: a job reads only the secrets its step declares."""

    def __init__(self, scope: Construct, id: str, *, context: Path, store: Artifacts,
                 jobs: Sequence[BatchJobSpec]) -> None:
        super().__init__(scope, id)
        self.image = ecr_assets.DockerImageAsset(self, "RunnerImage", directory=str(context),
                                                 platform=ecr_assets.Platform.LINUX_AMD64)
        self.definitions: dict[tuple[str, str], batch.EcsJobDefinition] = {}
        roles: dict[tuple[str, str], iam.Role] = {}
        for job in jobs:
            kind = secrets_id(job.secrets)
            role = roles.get((job.workflow, kind))
            if role is None:
                reads = f", and reads {', '.join(s.name for s in job.secrets)}" if job.secrets else ""
                role = roles[(job.workflow, kind)] = iam.Role(
                    self, f"{job.workflow}JobRole{kind}", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                    description=f"{job.workflow}'s GPU jobs: its artifact prefixes only{reads}")
                store.grant(role, store.prefixes(job.workflow))
                grant_secrets(self, role, job.secrets)
            image = (ecs.ContainerImage.from_registry(job.image) if job.image
                     else ecs.ContainerImage.from_docker_image_asset(self.image))
            log_group = logs.LogGroup(self, f"{job.workflow}-{job.step}-logs",
                                      retention=logs.RetentionDays.THREE_MONTHS)
            container = batch.EcsEc2ContainerDefinition(
                self, f"{job.workflow}-{job.step}-container", image=image, cpu=max(job.vcpus, 1),
                memory=Size.mebibytes(job.memory), gpu=job.gpus or None, job_role=role,
                environment={"STEPSTONE_ARTIFACT_BUCKET": store.bucket.bucket_name,
                             "POWERTOOLS_SERVICE_NAME": "stepstone", "STEPSTONE_SECRETS": "aws"},
                logging=ecs.LogDriver.aws_logs(stream_prefix=f"{job.workflow}/{job.step}", log_group=log_group))
            accept_wildcard(container, "*", "pulling the runner image needs ecr:GetAuthorizationToken, which "
                                            "takes no resource")
            self.definitions[(job.workflow, job.step)] = batch.EcsJobDefinition(
                self, f"{job.workflow}-{job.step}", container=container,
                timeout=Duration.seconds(job.timeout) if job.timeout else None)
