"""The step runner in AWS: the Lambda handler, and the AWS Batch container's entry point.

Lambda: ``lambdas.step_runner.handler`` receives the payload the compiled ``lambda:invoke``
task sends and returns the step's envelope. A failure is raised as an exception whose
class is named after the error (``DataError``, ``PermanentError``...), which Lambda reports
as the ``errorType`` that the compiled Retry and Catch match.

Batch: ``python -m lambdas.step_runner`` reads the call from the ``STEPSTONE_*``
environment variables the compiled ``batch:submitJob.sync`` task sets, and writes the
output where the next states look for it; the exit code says whether it succeeded.

Both log as JSON with the run's execution id as the correlation id (aws-lambda-powertools
Logger), trace with X-Ray (Tracer) and publish StepDuration and StepFailures in the
embedded metric format (Metrics). The artifact bucket is ``STEPSTONE_ARTIFACT_BUCKET``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from compiler.protocol import StepPayload, batch_payload

from .errors import StepFailedError
from .runner import run_step
from .store import ArtifactStore, S3Store

__all__ = ["handler", "main"]

SERVICE = "stepstone"
logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace="stepstone", service=SERVICE)

_store: ArtifactStore | None = None


def _artifacts() -> ArtifactStore:
    global _store
    if _store is None:  # one client per container, reused across invocations
        _store = S3Store(os.environ["STEPSTONE_ARTIFACT_BUCKET"])
    return _store


def _failure(error: StepFailedError) -> Exception:
    """An exception of a class named after the error, so Lambda reports that name."""
    name = error.error if error.error.isidentifier() else "StepError"
    cls: type[Exception] = type(name, (Exception,), {"__module__": "stepstone"})
    return cls(error.cause)


def _run(call: StepPayload, store: ArtifactStore) -> dict[str, Any]:
    logger.append_keys(workflow=call.workflow, state=call.state, step=call.step, attempt=call.attempt_number,
                       map_path=call.item)
    metrics.add_dimension(name="workflow", value=call.workflow)
    started = time.perf_counter()
    with tracer.provider.in_subsegment(f"## {call.state}") as subsegment:
        subsegment.put_annotation(key="workflow", value=call.workflow)
        subsegment.put_annotation(key="state", value=call.state)
        try:
            envelope = run_step(call, store)
        except StepFailedError as failed:
            metrics.add_metric(name="StepFailures", unit=MetricUnit.Count, value=1)
            logger.error("step failed", extra={"error": failed.error, "cause": failed.cause})
            raise _failure(failed) from None
        finally:
            metrics.add_metric(name="StepDuration", unit=MetricUnit.Milliseconds,
                               value=round((time.perf_counter() - started) * 1000, 3))
    logger.info("step succeeded", extra={"stored": envelope.get("ref") is not None})
    return envelope


@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
@logger.inject_lambda_context(correlation_id_path="execution", clear_state=True)
def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    """Lambda: run the step the compiled state machine asks for; return its envelope."""
    return _run(StepPayload.decode(event), _artifacts())


def main(argv: list[str] | None = None, env: Mapping[str, str] | None = None,
         store: ArtifactStore | None = None) -> int:
    """Batch: run the job's step; 0 when it succeeded, 1 when it failed (the job then fails)."""
    env = os.environ if env is None else env
    call = batch_payload(env)
    logger.set_correlation_id(str(call.execution))
    try:
        _run(call, store or _artifacts())
    except Exception as exc:  # already logged with its error name
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        metrics.flush_metrics()
    return 0


if __name__ == "__main__":  # pragma: no cover - the container's command
    sys.exit(main())
