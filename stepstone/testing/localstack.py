"""Workflows on LocalStack from tests: deploy, run, wait, read artifacts.

The ``localstack`` pytest fixture (``stepstone.testing.fixtures``) gives a
:class:`LocalStackSession` over a LocalStack started once per test session (or the one
already running)::

    def test_my_pipeline(localstack):
        run = localstack.run(my_pipeline, {"rows": 100})
        assert run.status == "succeeded"
        assert run.steps["train"].attempts == 1
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from compiler.dsl.workflows import WorkflowDef

from ..localstack.clients import Clients
from ..localstack.deploy import ARTIFACT_BUCKET, Deployed, Deployer
from ..localstack.harness import LocalStack
from ..records import RunRecord
from ..targets.stepfunctions import LOCALSTACK, StepFunctionsTarget

__all__ = ["LocalStackSession"]

JSON = Any


class LocalStackSession:
    """One LocalStack for a test session: each workflow is deployed once, then run at will."""

    def __init__(self, harness: LocalStack, aws: Clients) -> None:
        self.harness = harness
        self.aws = aws
        self.target = StepFunctionsTarget(aws, LOCALSTACK)
        self.deployer = Deployer(aws)
        self._deployed: dict[int, Deployed] = {}
        self._runs = 0

    def deploy(self, definition: WorkflowDef[..., Any]) -> Deployed:
        """Deploy (once per session) the workflow and the workflows it calls."""
        key = id(definition)
        if key not in self._deployed:
            self._deployed[key] = self.deployer.deploy(definition)
        return self._deployed[key]

    def start(self, definition: WorkflowDef[..., Any], params: Mapping[str, JSON] | None = None) -> str:
        """Start a run (parameters validated, defaults filled in); returns its execution ARN."""
        from ..records import new_run_id

        deployed = self.deploy(definition)
        self._runs += 1
        run_id = f"{new_run_id()}-{self._runs}"
        return self.target.start(deployed.state_machine, run_id, definition.validate_params(params or {}))

    def wait(self, arn: str, *, approve: bool | None = None, timeout: float = 180.0) -> RunRecord:
        """Follow the run to its end (approval gates answered with ``approve``, if given)."""
        return self.target.follow(arn, lambda event: None, (lambda q, s: approve) if approve is not None else None,
                                  timeout=timeout)

    def run(self, definition: WorkflowDef[..., Any], params: Mapping[str, JSON] | None = None, *,
            approve: bool | None = None, timeout: float = 180.0) -> RunRecord:
        """Deploy if needed, run, and return the finished run's record."""
        return self.wait(self.start(definition, params), approve=approve, timeout=timeout)

    def history(self, arn: str) -> list[dict[str, JSON]]:
        return self.target.source(arn).events()

    def read(self, key: str, bucket: str = ARTIFACT_BUCKET) -> bytes:
        data: bytes = self.aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return data

    def read_json(self, key: str, bucket: str = ARTIFACT_BUCKET) -> JSON:
        return json.loads(self.read(key, bucket))

    def keys(self, prefix: str, bucket: str = ARTIFACT_BUCKET) -> list[str]:
        found: list[str] = []
        for page in self.aws.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            found.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(found)

    def upload(self, bucket: str, key: str, body: bytes | str) -> None:
        self.deployer.bucket(bucket)
        self.aws.s3.put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)
