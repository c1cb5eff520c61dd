"""The names deployed resources have, on every deployer: what the CDK app and the LocalStack
deployer create and what the Step Functions target finds them by.

A workflow's state machine is named after the workflow; its definition's ``Comment``
starts with :data:`COMMENT_PREFIX` and the workflow's name, which is how stepstone's
commands tell its state machines from others; the state machine is tagged with its
workflow (:data:`WORKFLOW_TAG`) and its artifact bucket (:data:`BUCKET_TAG`); an Express
workflow logs its execution events to :func:`log_group` (it has no execution history).
"""

from __future__ import annotations

__all__ = ["BUCKET_TAG", "COMMENT_PREFIX", "LOCAL_ARTIFACT_BUCKET", "WORKFLOW_TAG", "log_group"]

COMMENT_PREFIX = "stepstone workflow "
WORKFLOW_TAG = "stepstone:workflow"
BUCKET_TAG = "stepstone:bucket"
LOCAL_ARTIFACT_BUCKET = "stepstone-artifacts"  # the artifact bucket of the quick LocalStack deployer (and moto)


def log_group(workflow: str) -> str:
    """Where a state machine's execution events go (AWS's conventional prefix for them)."""
    return f"/aws/vendedlogs/states/{workflow}"
