"""AWS Batch for Batch steps: the job queues the app's jobs go to, each on compute
environments of its own kind (GPU instances on the ECS GPU AMI for jobs that ask for GPUs,
CPU instances for the others, so a CPU job is never placed or priced on a GPU instance),
narrowed to the instance families a step names, Spot first with on-demand behind it where a
step asks for Spot (shared, in a VPC of the app's or one given by context), and per workflow
file the runner image and one job definition per Batch step with its GPUs, vCPUs, memory,
timeout and, for Spot, a retry when EC2 reclaims the instance.

The image is built from ``cdk.bundle.image_context`` by ``cdk deploy`` (Docker needed there,
not for ``cdk synth``). A step with ``Batch(image=...)`` runs that image instead; it must
contain stepstone and the step's code.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from compiler.deployment.plan import BatchJobSpec, BatchQueueSpec, secrets_id

from .artifacts import Artifacts
from .nag import accept, accept_wildcard
from .runners import grant_secrets

__all__ = ["BatchQueues", "GpuJobs", "queue_arn"]

SPOT_RETRIES = 3  # attempts of a job whose Spot instance EC2 took back


def queue_arn(scope: Construct, queue: BatchQueueSpec) -> str:
    return Stack.of(scope).format_arn(service="batch", resource="job-queue", resource_name=queue.name)


class BatchQueues(Construct):
    """The compute environments and queues every Batch job of the app goes to."""

    def __init__(self, scope: Construct, id: str, *, queues: Sequence[BatchQueueSpec], max_vcpus: int = 256,
                 vpc_id: str | None = None, subnet_ids: Sequence[str] = ()) -> None:
        super().__init__(scope, id)
        if vpc_id:
            stack = Stack.of(self)
            self.vpc = ec2.Vpc.from_vpc_attributes(self, "Vpc", vpc_id=vpc_id,
                                                   availability_zones=stack.availability_zones)
            subnets = ec2.SubnetSelection(subnets=[ec2.Subnet.from_subnet_id(self, f"Subnet{i}", subnet)
                                                   for i, subnet in enumerate(subnet_ids)])
        else:
            self.vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=0, subnet_configuration=[
                ec2.SubnetConfiguration(name="batch", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24)])
            self.vpc.add_flow_log("FlowLogs", destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                logs.LogGroup(self, "FlowLogGroup", retention=logs.RetentionDays.THREE_MONTHS)))
            subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC)
        self.security_group = ec2.SecurityGroup(self, "Instances", vpc=self.vpc, allow_all_outbound=True,
                                                description="stepstone Batch jobs: no inbound traffic")
        environments: dict[tuple[bool, tuple[str, ...], bool], batch.ManagedEc2EcsComputeEnvironment] = {}

        def environment(queue: BatchQueueSpec, spot: bool) -> batch.ManagedEc2EcsComputeEnvironment:
            key = (queue.gpu, queue.instances, spot)
            if key not in environments:
                types = queue.types()
                name = "".join(p.capitalize() for p in BatchQueueSpec(*key).name.split("-")[1:]).replace("_", "")
                made = batch.ManagedEc2EcsComputeEnvironment(
                    self, name, vpc=self.vpc, vpc_subnets=subnets, security_groups=[self.security_group],
                    instance_types=[ec2.InstanceType(i.name) for i in types], use_optimal_instance_classes=False,
                    minv_cpus=0, maxv_cpus=max(max_vcpus, *(i.vcpus for i in types)), spot=spot or None,
                    images=[batch.EcsMachineImage(image_type=batch.EcsMachineImageType.ECS_AL2_NVIDIA
                                                  if queue.gpu else batch.EcsMachineImageType.ECS_AL2)],
                    allocation_strategy=batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED if spot
                    else batch.AllocationStrategy.BEST_FIT_PROGRESSIVE)
                accept(made, "IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                             "AmazonEC2ContainerServiceforEC2Role]",
                       "the ECS agent on Batch's instances needs this AWS-maintained policy, as AWS Batch documents: "
                       "https://docs.aws.amazon.com/batch/latest/userguide/instance_IAM_role.html")
                environments[key] = made
            return environments[key]

        self.queues: dict[BatchQueueSpec, batch.JobQueue] = {}
        for queue in sorted(set(queues)):
            order = [environment(queue, True), environment(queue, False)] if queue.spot \
                else [environment(queue, False)]
            self.queues[queue] = batch.JobQueue(
                self, "Queue" + "".join(p.capitalize() for p in queue.name.split("-")[1:]).replace("_", ""),
                job_queue_name=queue.name,
                compute_environments=[batch.OrderedComputeEnvironment(compute_environment=e, order=n + 1)
                                      for n, e in enumerate(order)])


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
            spot: dict[str, Any] = {"retry_attempts": SPOT_RETRIES, "retry_strategies": [
                batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.SPOT_INSTANCE_RECLAIMED),
                batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom(on_reason="*"))]} if job.spot else {}
            self.definitions[(job.workflow, job.step)] = batch.EcsJobDefinition(
                self, f"{job.workflow}-{job.step}", container=container,
                timeout=Duration.seconds(job.timeout) if job.timeout else None, **spot)
