"""Security of the CDK app with every example: least privilege, explained exceptions, private storage.

- Every IAM statement whose resource is or contains ``*`` is justified where it is made:
  ``Resource: "*"`` only for actions in ``cdk.nag.RESOURCELESS_ACTIONS`` (each with AWS's
  reason), any other wildcard by an ``accept_wildcard`` acknowledgement on its role. The
  test names each one that is not and prints the count.
- Every cdk-nag acknowledgement in the app has a reason that says something, and sits on a
  construct, never on a whole stack.
- A declared secret is readable by the role of the step that declares it and by no other.
- The artifact bucket (and its access-log bucket) refuses plain HTTP and public access.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cdk.app import _quiet_node_warning

_quiet_node_warning()

from aws_cdk import App, Stack  # noqa: E402
from aws_cdk import aws_iam as iam  # noqa: E402
from aws_cdk.assertions import Template  # noqa: E402
from constructs import IConstruct  # noqa: E402

from cdk.app import build  # noqa: E402
from cdk.nag import PACK, RESOURCELESS_ACTIONS, check  # noqa: E402
from examples.publish_metrics import METRICS_TOKEN, SIGNING_KEY  # noqa: E402
from tests.support.reliability import count  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"
SECRET_ACTIONS = ("secretsmanager:", "ssm:Get", "kms:Decrypt")


@dataclass(frozen=True)
class Statement:
    stack: str
    path: str  # the policy's construct path
    owner: IConstruct  # the CfnPolicy / CfnRole that holds it
    actions: tuple[str, ...]
    resources: tuple[str, ...]  # flattened as cdk-nag renders them
    effect: str

    def __str__(self) -> str:
        return f"{self.path}: {', '.join(self.actions)} on {', '.join(self.resources)}"


@pytest.fixture(scope="module")
def app_stacks() -> list[Stack]:
    """The app as `cdk synth` makes it from cdk.json (every example), cdk-nag on: an
    unacknowledged finding fails the synth."""
    app = App(context={"stepstone:workflows": ["examples/*.py"]})
    stacks: list[Stack] = build(app, ROOT)
    check(app)
    app.synth()
    count("security: stacks checked by cdk-nag AwsSolutions, no unexplained suppression", len(stacks))
    return stacks


def flatten(node: Any) -> str:
    """A resource as cdk-nag renders it in a finding (its flattenCfnReference)."""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return str(delimiter).join(flatten(item) for item in items)
        if "Fn::Sub" in node:
            return flatten(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten(resource)}.{flatten(attribute)}>"
        if "Ref" in node:
            return f"<{flatten(node['Ref'])}>"
    return json.dumps(node)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(stacks: list[Stack]) -> Iterator[Statement]:
    """Every statement of every identity policy: AWS::IAM::Policy, AWS::IAM::ManagedPolicy and
    the inline policies of roles."""
    for stack in stacks:
        for node in stack.node.find_all():
            documents: list[Any] = []
            if isinstance(node, (iam.CfnPolicy, iam.CfnManagedPolicy)):
                documents.append(stack.resolve(node.policy_document))
            elif isinstance(node, iam.CfnRole):
                documents.extend(p["PolicyDocument"] for p in stack.resolve(node.policies) or [])
            for document in documents:
                for raw in document.get("Statement", []):
                    yield Statement(stack.stack_name, node.node.path, node, tuple(_listed(raw["Action"])),
                                    tuple(flatten(r) for r in _listed(raw.get("Resource", []))), raw["Effect"])


def acknowledgements(construct: IConstruct) -> dict[str, str]:
    """The cdk-nag acknowledgements that cover ``construct``: its own and its scopes'."""
    found: dict[str, str] = {}
    for scope in construct.node.scopes:
        for entry in scope.node.metadata:
            if entry.type == ACKNOWLEDGED:
                found.update(entry.data)
    return found


def why_wildcard(statement: Statement, resource: str) -> str | None:
    """The reason a wildcard resource of ``statement`` is there, or None when nothing says."""
    accepted = acknowledgements(statement.owner)
    nag_reason = accepted.get(f"{PACK}::{PACK}-IAM5[Resource::{resource}]")
    if resource != "*":
        return nag_reason
    unexplained = [a for a in statement.actions if a not in RESOURCELESS_ACTIONS]
    if unexplained or nag_reason is None:
        return None
    return "; ".join(sorted({RESOURCELESS_ACTIONS[a] for a in statement.actions}))


def test_every_wildcard_resource_is_justified_next_to_the_code(app_stacks: list[Stack],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    wildcards = [s for s in statements(app_stacks) if s.effect == "Allow" and any("*" in r for r in s.resources)]
    unjustified = [f"{s} ({r})" for s in wildcards for r in s.resources if "*" in r and why_wildcard(s, r) is None]
    with capsys.disabled():
        print(f"\n{len(wildcards)} IAM statements with a * resource in {len(app_stacks)} stacks, "
              f"{len(unjustified)} unjustified")
    assert not unjustified, "grants on * that nothing justifies (RESOURCELESS_ACTIONS, accept_wildcard):\n" + \
        "\n".join(unjustified)
    assert len(wildcards) > 0, "the app grants X-Ray, which takes only *: the walk must see it"
    count("security: IAM statements with a * resource, each justified", len(wildcards))


def test_the_check_names_a_grant_on_star_that_nothing_justifies() -> None:
    app = App()
    stack = Stack(app, "careless")
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    role.add_to_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    role.add_to_policy(iam.PolicyStatement(actions=["xray:PutTraceSegments"], resources=["*"]))
    found = [s for s in statements([stack]) if "*" in s.resources]
    assert [why_wildcard(s, "*") for s in found] == [None, None], "no acknowledgement: neither is justified"
    from cdk.nag import accept_wildcard

    accept_wildcard(role, "*", "X-Ray takes no resource, and this role sends traces of the function")
    assert [why_wildcard(s, "*") is not None for s in found] == [False, True], "s3:GetObject is never resourceless"


TRIVIAL = {"ok", "fine", "needed", "required", "necessary", "todo", "n/a", "none", "wildcard", "false positive",
           "suppressed", "acknowledged", "accepted", "by design", "not needed", "see above"}


def test_every_acknowledgement_says_why_and_sits_on_a_construct(app_stacks: list[Stack]) -> None:
    found = 0
    for stack in app_stacks:
        for node in stack.node.find_all():
            for entry in node.node.metadata:
                if entry.type != ACKNOWLEDGED:
                    continue
                for rule, reason in entry.data.items():  # CDK's own too (CloudFormation-Validate::...)
                    if rule.startswith(f"{PACK}::"):
                        found += 1
                        assert not isinstance(node, Stack), f"{node.node.path}: {rule} acknowledged for a whole stack"
                        assert rule.startswith(f"{PACK}::{PACK}-"), rule
                        if "IAM5" in rule or "IAM4" in rule:
                            assert "[" in rule, f"{node.node.path}: {rule} must name the action or resource"
                    text = reason.strip().lower().rstrip(".")
                    assert text not in TRIVIAL and len(text.split()) >= 6 and len(text) >= 40, (
                        f"{node.node.path}: {rule}: {reason!r} does not say why")
        metadata = Template.from_stack(stack).to_json().get("Resources", {})
        for name, resource in metadata.items():  # cdk-nag's older suppressions, should any appear
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                found += 1
                assert len(str(rule.get("reason", "")).split()) >= 6, f"{stack.stack_name}/{name}: {rule}"
    assert found > 0


def test_a_secret_is_granted_to_the_step_that_declares_it_and_to_no_other(app_stacks: list[Stack]) -> None:
    (stack,) = [s for s in app_stacks if s.stack_name == "stepstone-examples-publish-metrics"]
    function = stack.runners.by_step[("publish_metrics", "post_metrics")]  # type: ignore[attr-defined]
    assert function is not stack.runners.by_step[("publish_metrics", "evaluate")], (  # type: ignore[attr-defined]
        "a step with secrets has a function of its own")
    role_path = function.role.node.path
    granted = [s for s in statements(app_stacks) if any(a.startswith(SECRET_ACTIONS) for a in s.actions)]
    assert {s.path.rsplit("/", 2)[0] for s in granted} == {role_path}, [str(s) for s in granted]
    by_action = {s.actions: s.resources for s in granted}
    prefix = "arn:<AWS::Partition>:{}:<AWS::Region>:<AWS::AccountId>:"
    assert by_action == {
        ("secretsmanager:GetSecretValue",): (prefix.format("secretsmanager") + f"secret:{SIGNING_KEY.name}-??????",),
        ("ssm:GetParameter",): (prefix.format("ssm") + f"parameter{METRICS_TOKEN.name}",),
    }
    environment = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    assert all(f["Properties"]["Environment"]["Variables"]["STEPSTONE_SECRETS"] == "aws"
               for f in environment.values()), "deployed, Secret.value() reads AWS"


def test_the_artifact_bucket_refuses_plain_http_and_public_access(app_stacks: list[Stack]) -> None:
    """Both of the shared stack's buckets (artifacts and their access logs)."""
    template = Template.from_stack(app_stacks[0]).to_json()["Resources"]
    buckets = {name: r for name, r in template.items() if r["Type"] == "AWS::S3::Bucket"}
    assert len(buckets) == 2
    for name, bucket in buckets.items():
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True}, name
    policies = {r["Properties"]["Bucket"]["Ref"]: r["Properties"]["PolicyDocument"]["Statement"]
                for r in template.values() if r["Type"] == "AWS::S3::BucketPolicy"}
    assert set(policies) == set(buckets), "each bucket has a policy"
    for name, found in policies.items():
        denials = [s for s in found if s["Effect"] == "Deny" and s["Condition"] == {
            "Bool": {"aws:SecureTransport": "false"}}]
        assert len(denials) == 1, name
        assert denials[0]["Principal"] == {"AWS": "*"} and denials[0]["Action"] == "s3:*", denials[0]
        assert len(_listed(denials[0]["Resource"])) == 2, "the bucket and every object in it"
