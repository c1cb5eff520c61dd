"""Where runs run, behind one interface (:class:`Target`): the local target and Step Functions
on LocalStack or AWS. :func:`open_target` is the one place that knows the targets by name."""

from __future__ import annotations

from ..errors import TargetError
from .base import Answer, OnEvent, OnWaiting, RunRequest, RunSummary, Say, Started, StepLog, Target, TargetName

__all__ = ["TARGETS", "Answer", "OnEvent", "OnWaiting", "RunRequest", "RunSummary", "Say", "Started", "StepLog",
           "Target", "TargetName", "open_target"]

TARGETS: tuple[TargetName, ...] = ("local", "localstack", "aws")


def open_target(name: str, *, home: str | None = None) -> Target:
    """The target of this name (``--target``); ``home`` is the local target's folder."""
    if name == "local":
        from .local import LocalTarget

        return LocalTarget(home)
    if home:
        raise TargetError("--home is for the local target; on LocalStack and AWS the runs live in Step Functions",
                          "leave it out, or use --target local")
    from ..localstack.clients import AwsClients, clients
    from .stepfunctions import AWS, LOCALSTACK, StepFunctionsTarget

    if name == "localstack":
        return StepFunctionsTarget(clients(), LOCALSTACK)
    if name == "aws":
        return StepFunctionsTarget(AwsClients(), AWS)
    raise TargetError(f"unknown target {name!r}", "use one of: " + ", ".join(TARGETS))
