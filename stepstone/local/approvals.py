"""Approval gates of local runs that nobody is at the terminal for (``stepstone trigger``).

The gate leaves its question where the approval function leaves it in S3
(``runs/<workflow>/<run>/approvals/<state>.json``) and waits for an answer beside it,
which ``stepstone approve RUN STEP [--reject]`` writes: the same commands as for a run in
Step Functions, with the artifact store in place of the task token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from compiler.protocol import approval_key
from lambdas.errors import NotFoundError
from lambdas.store import ArtifactStore

from ..records import RunRecord, now

__all__ = ["answer", "pending", "waiting_approver"]

POLL_SECONDS = 0.5


def _answer_key(workflow: str, run: str, state: str) -> str:
    return approval_key(workflow, run, state).removesuffix(".json") + ".answer.json"


def waiting_approver(store: ArtifactStore, workflow: str, run: str,
                     poll: float = POLL_SECONDS) -> Callable[[str, str], bool]:
    """An approver that asks through the store and waits (as long as it takes) for the answer."""

    def ask(question: str, state: str) -> bool:
        store.write(approval_key(workflow, run, state),
                    json.dumps({"question": question, "state": state, "requested": now()}).encode())
        key = _answer_key(workflow, run, state)
        while True:
            try:
                return bool(json.loads(store.read(key)).get("approved"))
            except NotFoundError:
                time.sleep(poll)

    return ask


def pending(store: ArtifactStore, record: RunRecord) -> dict[str, str]:
    """state -> question of each gate of a running run that waits for an answer."""
    if record.status != "running":
        return {}
    found: dict[str, str] = {}
    prefix = approval_key(record.workflow, record.run_id, "-").removesuffix("-.json")
    for key in store.keys(prefix):
        if key.endswith(".answer.json") or not key.endswith(".json"):
            continue
        state = key[len(prefix):].removesuffix(".json")
        if store.exists(_answer_key(record.workflow, record.run_id, state)):
            continue
        try:
            found[state] = str(json.loads(store.read(key)).get("question", ""))
        except (NotFoundError, ValueError):
            continue
    return found


def answer(store: ArtifactStore, record: RunRecord, state: str, approved: bool, *, approver: str,
           comment: str = "") -> None:
    document = {"approved": approved, "approver": approver, "comment": comment, "answered": now()}
    store.write(_answer_key(record.workflow, record.run_id, state), json.dumps(document).encode(), if_absent=True)
