"""Publish a model's daily evaluation to the team's metrics service, which wants a token.

It shows:

- ``Secret``: the metrics service's bearer token is kept in SSM Parameter Store (a
  SecureString), the key that signs each report in AWS Secrets Manager. The step that posts
  declares both in ``@step(secrets=[...])`` and reads them while it runs, so neither is a
  parameter, a literal or an output: the state machine, the run's input and history and its
  lineage never hold them, and, deployed, this step's role is the only one that may read
  them (the CDK app grants exactly these two, nothing else);
- a dry run by default: with no ``endpoint`` the report is signed but not sent;
- retries of a busy service only (a ``TransientError``), never of a rejected report.

Where the secrets come from: deployed, from Parameter Store and Secrets Manager (create
them first: ``aws ssm put-parameter --name /ml/metrics-api-token --type SecureString
--value ...`` and ``aws secretsmanager create-secret --name ml/report-signing-key
--secret-string ...``). Here (the local target, plain Python, tests), from the
environment, one variable per secret, named after it:

    export STEPSTONE_SECRET__ML_METRICS_API_TOKEN=dev-token
    export STEPSTONE_SECRET_ML_REPORT_SIGNING_KEY=dev-signing-key
    python -m examples.publish_metrics
"""

import hashlib
import hmac
import json
import random
import urllib.error
import urllib.request

from pydantic import BaseModel

from stepstone import PermanentError, Retry, Secret, TransientError, step, workflow

METRICS_TOKEN = Secret("/ml/metrics-api-token", store="ssm")
SIGNING_KEY = Secret("ml/report-signing-key")


class MetricsServiceBusyError(TransientError):
    """The metrics service is throttling or down; try again shortly."""


class ReportRejectedError(PermanentError):
    """The metrics service refused the report (a bad token, a bad signature): retrying cannot help."""


class Evaluation(BaseModel):
    model: str
    day: str
    rows: int
    auc: float
    accuracy: float


class Delivery(BaseModel):
    endpoint: str | None  # None: a dry run, nothing sent
    status: int | None  # the service's HTTP status
    bytes: int
    signature: str  # HMAC-SHA256 of the body under the signing key, as sent in X-Signature-SHA256


@step(timeout=30)
def evaluate(model: str, day: str) -> Evaluation:
    """The day's hold-out predictions scored: AUC and accuracy (sample predictions here)."""
    rng = random.Random(f"{model}/{day}")
    labels = [rng.random() < 0.3 for _ in range(400)]
    scores = [min(1.0, max(0.0, rng.gauss(0.65 if label else 0.35, 0.2))) for label in labels]
    ranked = sorted(zip(scores, labels, strict=True))
    positives = sum(labels)
    rank_sum = sum(rank for rank, (_, label) in enumerate(ranked, start=1) if label)
    auc = (rank_sum - positives * (positives + 1) / 2) / (positives * (len(labels) - positives))
    accuracy = sum((score >= 0.5) == label for score, label in ranked) / len(labels)
    return Evaluation(model=model, day=day, rows=len(labels), auc=round(auc, 4), accuracy=round(accuracy, 4))


@step(secrets=[METRICS_TOKEN, SIGNING_KEY], retry=Retry(attempts=3, interval=2, on=[MetricsServiceBusyError]),
      timeout=30)
def post_metrics(evaluation: Evaluation, endpoint: str | None) -> Delivery:
    """POST the evaluation with the bearer token, signed with the signing key."""
    token, key = METRICS_TOKEN.value(), SIGNING_KEY.value()  # read now, never passed on or returned
    body = json.dumps(evaluation.model_dump(), sort_keys=True).encode()
    signature = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    if endpoint is None:
        return Delivery(endpoint=None, status=None, bytes=len(body), signature=signature)
    request = urllib.request.Request(endpoint, data=body, method="POST", headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", "X-Signature-SHA256": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        if exc.code in (429, 502, 503, 504):
            raise MetricsServiceBusyError(f"{endpoint} answered {exc.code}") from None
        raise ReportRejectedError(f"{endpoint} refused the report: {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise MetricsServiceBusyError(f"{endpoint} did not answer: {exc.reason}") from None
    return Delivery(endpoint=endpoint, status=status, bytes=len(body), signature=signature)


@workflow
def publish_metrics(model: str = "churn-classifier", day: str = "2024-06-02", endpoint: str | None = None) -> Delivery:
    evaluation = evaluate(model, day)
    return post_metrics(evaluation, endpoint)


if __name__ == "__main__":
    print(publish_metrics())
