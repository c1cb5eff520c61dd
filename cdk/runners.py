"""The Lambda functions that run a stack's steps: the step runner with the workflows' code
and its packages (a layer, or a container image when they do not fit a zip:
``cdk/packaging.py``), one function per function of the deployment plan (one per distinct
memory, timeout, declared secrets and step packages: ``compiler/deployment/plan.py``). Each
function may read and write only the artifact prefixes of the workflows it serves, and read
only the secrets its steps declare (``@step(secrets=[...])``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from compiler.deployment.lock import RUNNER_REQUIREMENTS
from compiler.deployment.plan import DeploymentPlan
from compiler.deployment.runtimes import LAMBDA_UNZIPPED_LIMIT
from compiler.dsl.secrets import SecretRef

from .artifacts import Artifacts
from .bundle import Packaged
from .nag import accept, accept_wildcard
from .packaging import FunctionBundle, FunctionBundles

__all__ = ["StepRunners", "grant_secrets", "python_runtime", "secret_arns"]


def python_runtime(version: str) -> lambda_.Runtime:
    """Lambda's runtime for Python ``3.X`` (the functions run the Python the steps were tested with)."""
    return lambda_.Runtime(f"python{version}", lambda_.RuntimeFamily.PYTHON)


def secret_arns(scope: Construct, secrets: Sequence[SecretRef]) -> tuple[list[str], list[str]]:
    """The ARNs of ``secrets``: (Secrets Manager secrets, Parameter Store parameters). A
    secret's ARN ends in ``-`` and six characters Secrets Manager chooses, hence ``-??????``:
    exactly six, so no other secret's ARN matches (a longer name makes a longer ARN)."""
    stack = Stack.of(scope)
    managed = [stack.format_arn(service="secretsmanager", resource="secret", resource_name=f"{s.name}-??????",
                                arn_format=ArnFormat.COLON_RESOURCE_NAME)
               for s in secrets if s.store == "secretsmanager"]
    parameters = [stack.format_arn(service="ssm", resource="parameter", resource_name=s.name.lstrip("/"))
                  for s in secrets if s.store == "ssm"]
    return managed, parameters


def grant_secrets(scope: Construct, grantee: iam.IGrantable, secrets: Sequence[SecretRef]) -> None:
    """Let ``grantee`` read exactly ``secrets`` (nothing at all when there are none).

    No ``kms:Decrypt``: a secret or SecureString encrypted with the AWS managed key
    (``aws/secretsmanager``, ``aws/ssm``) is decrypted through the service for any principal
    of the account (https://docs.aws.amazon.com/systems-manager/latest/userguide/ps-restrict-decryption.html).
    One encrypted with a customer managed key also needs Decrypt on that key, granted in its key policy.
    """
    managed, parameters = secret_arns(scope, secrets)
    principal = grantee.grant_principal
    if managed:
        principal.add_to_principal_policy(iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"],
                                                              resources=managed))
    if parameters:  # what Powertools' get_parameter calls
        principal.add_to_principal_policy(iam.PolicyStatement(actions=["ssm:GetParameter"], resources=parameters))


class StepRunners(Construct):
    def __init__(self, scope: Construct, id: str, *, code: Path, bundles: FunctionBundles, runtime: lambda_.Runtime,
                 store: Artifacts, plan: DeploymentPlan, environment: dict[str, str] | None = None,
                 localstack: bool = False) -> None:
        super().__init__(scope, id)
        self.runtime = runtime
        self.store = store
        self.bundles = bundles
        self.localstack = localstack
        self._layers: dict[Path, lambda_.LayerVersion] = {}
        self.code = lambda_.Code.from_asset(str(code))
        self.environment = {"STEPSTONE_ARTIFACT_BUCKET": store.bucket.bucket_name,
                            "POWERTOOLS_SERVICE_NAME": "stepstone", "STEPSTONE_SECRETS": "aws", **(environment or {})}
        self.by_step: dict[tuple[str, str], lambda_.Function] = {}  # (workflow, step) -> its function
        for spec in plan.functions:
            secrets = spec.secrets
            reads = f"; reads {', '.join(s.name for s in secrets)}" if secrets else ""
            made = bundles.for_function(spec)
            function = self._function(f"Runner{spec.key}", "lambdas.step_runner.handler", spec.memory, spec.timeout,
                                      f"stepstone step runner ({spec.memory} MB, {spec.timeout} s, {made.kind}) for "
                                      f"{', '.join(spec.workflows)}{reads}", secrets=secrets, bundle=made)
            for workflow in spec.workflows:
                store.grant(function, store.prefixes(workflow))
            for key in spec.steps:
                self.by_step[key] = function
        self.approval: lambda_.Function | None = None
        if plan.approvals:
            self.approval = self._function("Approval", "lambdas.approval.handler", 256, 30,
                                           "stepstone approval gate: stores the request and its task token")
            assert self.approval.role is not None
            store.grant(self.approval, [f"runs/{w}/*/approvals/" for w in plan.approvals], read=False,
                        reason="an approval request is written under its run (named at run time) in the "
                               "workflow's own prefix")
        self._relay: lambda_.Function | None = None

    def layer(self, packaged: Packaged) -> lambda_.LayerVersion:
        """One layer per distinct set of packages; on LocalStack, packages too large for a zip
        come from their folder here (``hot-reload``), as an image would hold them."""
        layer = self._layers.get(packaged.folder)
        if layer is None:
            too_large = packaged.bytes + self.bundles.code_bytes > LAMBDA_UNZIPPED_LIMIT
            code = (lambda_.Code.from_bucket(s3.Bucket.from_bucket_name(self, f"HotReload{len(self._layers)}",
                                                                        "hot-reload"), str(packaged.folder))
                    if self.localstack and too_large else lambda_.Code.from_asset(str(packaged.folder)))
            layer = lambda_.LayerVersion(self, f"Packages{len(self._layers)}" if self._layers else "Dependencies",
                                         code=code, compatible_runtimes=[self.runtime],
                                         description="the step runner's packages, from the workflow file's lock")
            self._layers[packaged.folder] = layer
        return layer

    def relay(self) -> lambda_.Function:
        """The S3 relay (``lambdas.s3_trigger``), made once: on LocalStack, whose S3 events
        percent-encode the object's key, the upload rules start runs through it (it decodes
        the key). The triggers grant it StartExecution on their own state machine."""
        if self._relay is None:
            self._relay = self._function("S3Relay", "lambdas.s3_trigger.handler", 256, 30,
                                         "stepstone S3 relay: decodes an uploaded object's key and starts the run")
        return self._relay

    def _function(self, id: str, handler: str, memory: int, timeout: int, description: str,
                  secrets: Sequence[SecretRef] = (), bundle: FunctionBundle | None = None) -> lambda_.Function:
        log_group = logs.LogGroup(self, f"{id}Logs", retention=logs.RetentionDays.THREE_MONTHS,
                                  removal_policy=RemovalPolicy.DESTROY)
        role = iam.Role(self, f"{id}Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                        description=f"{description}: its logs, its artifact prefixes, X-Ray")
        role.add_to_policy(iam.PolicyStatement(actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                                               resources=[log_group.log_group_arn]))
        grant_secrets(self, role, secrets)
        common: dict[str, Any] = {
            "role": role, "memory_size": memory, "timeout": Duration.seconds(timeout), "log_group": log_group,
            "tracing": lambda_.Tracing.ACTIVE, "environment": self.environment, "description": description[:256]}
        if bundle is not None and bundle.kind == "image" and not self.localstack:
            assert bundle.image_context is not None
            function: lambda_.Function = lambda_.DockerImageFunction(
                self, id, code=lambda_.DockerImageCode.from_image_asset(str(bundle.image_context)), **common)
        else:
            packaged = bundle.packages if bundle is not None else self.bundles.packaged(RUNNER_REQUIREMENTS)
            function = lambda_.Function(self, id, runtime=self.runtime, handler=handler, code=self.code,
                                        layers=[self.layer(packaged)], **common)
            accept(function, "L1", f"the functions run {self.runtime.name}, the Python the steps' packages are "
                                   "locked for (stepstone:python); deploy from the newest Python for the newest "
                                   "runtime")
        accept_wildcard(role, "*", "X-Ray (tracing is on) accepts no resource in PutTraceSegments and "
                                   "PutTelemetryRecords: https://docs.aws.amazon.com/xray/latest/devguide/"
                                   "security_iam_id-based-policy-examples.html")
        return function
