"""cdk-nag's AwsSolutions checks on every stack, and the findings accepted, each with its reason.

cdk-nag 3 runs as a CDK policy-validation plugin: a finding that is not acknowledged fails
``cdk synth``. An acknowledgement names the rule and, for IAM findings, the exact action
or resource (``AwsSolutions-IAM5[Resource::*]``), on the construct that has it, with why
it is right there; nothing is acknowledged for a whole stack. ``accept`` is called where
the accepted thing is made, so the reason sits next to it.

A ``*`` as an IAM resource is allowed only for the actions in :data:`RESOURCELESS_ACTIONS`,
each with AWS's word that it takes no narrower resource; any other wildcard is the tail of
an ARN (a workflow's own artifact prefix, its children's executions) acknowledged with
``accept_wildcard`` where it is granted. ``tests/cdk/test_security.py`` holds every
statement of the app to that.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

__all__ = ["RESOURCELESS_ACTIONS", "accept", "accept_wildcard", "check"]

PACK = "AwsSolutions"
MIN_REASON_WORDS = 6

_XRAY = ("X-Ray's actions take no resource (tracing is on for every function and state machine): "
         "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html")
_LOG_DELIVERY = ("a state machine's log delivery to CloudWatch Logs is set up with these, which take no resource; "
                 "AWS documents this policy on *: https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html")
_BATCH_SYNC = ("Step Functions polls and stops the Batch jobs it submits (.sync), whose ids are made at run time; "
               "AWS documents this policy on *: https://docs.aws.amazon.com/step-functions/latest/dg/batch-iam.html")
RESOURCELESS_ACTIONS: dict[str, str] = {
    "xray:PutTraceSegments": _XRAY,
    "xray:PutTelemetryRecords": _XRAY,
    "xray:GetSamplingRules": _XRAY,
    "xray:GetSamplingTargets": _XRAY,
    **{f"logs:{action}": _LOG_DELIVERY for action in (
        "CreateLogDelivery", "GetLogDelivery", "UpdateLogDelivery", "DeleteLogDelivery", "ListLogDeliveries",
        "PutResourcePolicy", "DescribeResourcePolicies", "DescribeLogGroups")},
    "batch:DescribeJobs": _BATCH_SYNC,
    "batch:TerminateJob": _BATCH_SYNC,
    "ecr:GetAuthorizationToken": "pulling the Batch runner image needs an ECR login token, which is not tied to a "
                                 "repository: https://docs.aws.amazon.com/AmazonECR/latest/userguide/"
                                 "security_iam_id-based-policy-examples.html",
}
"""The actions granted on ``Resource: "*"`` anywhere in the app, each with why no narrower
resource exists. Nothing else may be granted on ``*``."""


def check(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def accept(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (``L1``, ``IAM4[Policy::...]``, ...) on ``construct`` and what it contains."""
    if len(reason.split()) < MIN_REASON_WORDS:
        raise ValueError(f"accepting {rule}: {reason!r} does not say why it is right here")
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))


def accept_wildcard(construct: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge one wildcard resource of an IAM policy, in cdk-nag's rendering
    (``arn:<AWS::Partition>:s3:::bucket/prefix/*``)."""
    accept(construct, f"IAM5[Resource::{resource}]", reason)
