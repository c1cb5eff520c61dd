"""The approval gate's Lambda function: it records who must answer, and how.

The compiled ``approve(...)`` task invokes this with ``.waitForTaskToken``: the run waits
until someone sends the token back. The request (message, state, task token, time) goes
to the artifact bucket at ``approval_key(workflow, run, state)``, where
``stepstone approve RUN STEP`` finds the token and answers with SendTaskSuccess
(``{"approved": true|false, "approver", "comment"}``). The token is a capability to
continue the run, so it stays in the (encrypted, private) bucket and out of the logs.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from compiler.protocol import ApprovalRequest, approval_key, run_id_of

from .store import ArtifactStore, S3Store

__all__ = ["handler", "record_request"]


def record_request(event: dict[str, Any], store: ArtifactStore) -> dict[str, Any]:
    run = run_id_of(str(event["execution"]))
    key = approval_key(str(event["workflow"]), run, str(event["state"]))
    request = ApprovalRequest(workflow=str(event["workflow"]), run=run, state=str(event["state"]),
                              execution=str(event["execution"]), message=str(event.get("message", "")),
                              token=str(event["token"]), requested=datetime.now(UTC).isoformat(timespec="milliseconds"))
    store.write(key, request.encode())
    return {"key": key}


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda: store the approval request; the run waits for its token to come back."""
    recorded = record_request(event, S3Store(os.environ["STEPSTONE_ARTIFACT_BUCKET"]))
    print(json.dumps({"message": "approval requested", "workflow": event["workflow"], "state": event["state"],
                      "key": recorded["key"]}))
    return recorded
