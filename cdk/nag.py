"""cdk-nag's AwsSolutions checks on every stack, and the findings accepted, each with its reason.

cdk-nag 3 runs as a CDK policy-validation plugin: a finding that is not acknowledged fails
``cdk synth``. An acknowledgement names the rule and, for IAM findings, the exact action
or resource (``AwsSolutions-IAM5[Resource::*]``), on the construct that has it, with why
it is right there; nothing is acknowledged for a whole stack. ``accept`` is called where
the accepted thing is made, so the reason sits next to it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct

__all__ = ["accept", "accept_wildcard", "check"]

PACK = "AwsSolutions"


def check(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, verbose=True))


def accept(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (``L1``, ``IAM4[Policy::...]``, ...) on ``construct`` and what it contains."""
    Validations.of(construct).acknowledge(Acknowledgment(id=f"{PACK}::{PACK}-{rule}", reason=reason))


def accept_wildcard(construct: IConstruct, resource: str, reason: str) -> None:
    """Acknowledge one wildcard resource of an IAM policy, in cdk-nag's rendering
    (``arn:<AWS::Partition>:s3:::bucket/prefix/*``)."""
    accept(construct, f"IAM5[Resource::{resource}]", reason)
