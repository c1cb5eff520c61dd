"""The artifact bucket: step outputs, lineage, cache and approval records of every run.

Encrypted, versioned, public access blocked, TLS only, its access logged to a second
bucket, old runs expired. EventBridge notifications are switched on through the L1
property (the L2 option uses a custom resource, which LocalStack skips without a word).

It is named ``stepstone-artifacts-<account>-<region>``, so the workflow stacks refer to it
by name (:class:`Artifacts`) instead of by cross-stack exports, and each grant names the
exact prefix it allows.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .nag import accept_wildcard

__all__ = ["ArtifactStore", "Artifacts", "artifact_bucket_name", "enable_eventbridge"]


def artifact_bucket_name() -> str:
    return f"stepstone-artifacts-{Aws.ACCOUNT_ID}-{Aws.REGION}"


# the bucket's ARN as cdk-nag renders it in a finding
NAG_BUCKET_ARN = "arn:<AWS::Partition>:s3:::stepstone-artifacts-<AWS::AccountId>-<AWS::Region>"


def enable_eventbridge(bucket: s3.Bucket) -> None:
    cfn = bucket.node.default_child
    assert isinstance(cfn, s3.CfnBucket)
    cfn.add_property_override("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True)


def private_bucket(scope: Construct, id: str, *, access_logs: s3.IBucket | None, logs_prefix: str = "",
                   lifecycle_rules: Sequence[s3.LifecycleRule] = (), removal: RemovalPolicy = RemovalPolicy.RETAIN,
                   object_ownership: s3.ObjectOwnership | None = None, name: str | None = None) -> s3.Bucket:
    return s3.Bucket(scope, id, bucket_name=name, encryption=s3.BucketEncryption.S3_MANAGED, versioned=True,
                     block_public_access=s3.BlockPublicAccess.BLOCK_ALL, enforce_ssl=True,
                     server_access_logs_bucket=access_logs, server_access_logs_prefix=logs_prefix or None,
                     lifecycle_rules=list(lifecycle_rules), removal_policy=removal,
                     object_ownership=object_ownership)


class ArtifactStore(Construct):
    """The bucket itself (in the shared stack)."""

    def __init__(self, scope: Construct, id: str, *, keep_runs_days: int = 90) -> None:
        super().__init__(scope, id)
        self.access_logs = private_bucket(
            self, "AccessLogs", access_logs=None,  # S3 writes here by bucket policy (cdk.json feature flag), no ACL
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(365),
                                              noncurrent_version_expiration=Duration.days(30))])
        self.bucket = private_bucket(
            self, "Bucket", name=artifact_bucket_name(), access_logs=self.access_logs, logs_prefix="artifacts/",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-old-runs", prefix="runs/", expiration=Duration.days(keep_runs_days),
                                 noncurrent_version_expiration=Duration.days(7)),
                s3.LifecycleRule(id="expire-old-versions", noncurrent_version_expiration=Duration.days(30),
                                 abort_incomplete_multipart_upload_after=Duration.days(1)),
            ])
        enable_eventbridge(self.bucket)


class Artifacts(Construct):
    """The artifact bucket as a workflow stack sees it: by name, with grants on prefixes."""

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket.from_bucket_name(self, "Bucket", artifact_bucket_name())

    def prefixes(self, workflow: str) -> list[str]:
        """What a workflow's steps and state machine write: its runs and its cache."""
        return [f"runs/{workflow}/", f"cache/{workflow}/"]

    def grant(self, grantee: iam.IGrantable, prefixes: Sequence[str], *, read: bool = True, write: bool = True,
              reason: str = "a run's keys are made at run time (run id, step, attempt) under this workflow's own "
                            "prefix; the grant is that prefix and nothing else") -> None:
        """Read (list) and write only under ``prefixes``."""
        actions = (["s3:GetObject"] if read else []) + (["s3:PutObject"] if write else [])
        principal = grantee.grant_principal
        principal.add_to_principal_policy(iam.PolicyStatement(
            actions=actions, resources=[self.bucket.arn_for_objects(f"{p}*") for p in prefixes]))
        if isinstance(principal, Construct):
            for prefix in prefixes:
                accept_wildcard(principal, f"{NAG_BUCKET_ARN}/{prefix}*", reason)
        if read:
            principal.add_to_principal_policy(iam.PolicyStatement(
                actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{p}*" for p in prefixes]}}))
