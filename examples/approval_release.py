"""A person approves each model release; a smoke test (a workflow of its own) runs first.

It shows:

- ``approve("...")``: the run waits, for up to two days, until someone answers
  ``stepstone approve``; ``if decision.approved:`` releases, anything else archives;
- calling another ``@workflow`` (``smoke_test``) from a workflow: a nested run that can also
  be started on its own; its parameters are plain values (a parameter, a scalar field);
- ``step.after(x)(...)`` (or ``step(..., after=[x])``): tearing the canary down only after the
  traffic test, with no data between them;
- a ``workflow_succeeded`` trigger: a release is proposed each time the nightly training succeeds.

Run it in-process (no AWS needed):  python -m examples.approval_release
With no terminal attached the approval is granted automatically; set STEPSTONE_APPROVE=no
to see the rejection path.
"""

import hashlib
import random
from datetime import timedelta

from pydantic import BaseModel

from stepstone import Lambda, Retry, TransientError, approve, step, workflow, workflow_succeeded


class Candidate(BaseModel):
    model_name: str
    version: str
    stage: str  # "candidate", "production" or "archived"
    uri: str
    auc: float


class Comparison(BaseModel):
    production_auc: float
    candidate_auc: float
    auc_gain: float
    better: bool


class Endpoint(BaseModel):
    url: str
    model_uri: str


class Traffic(BaseModel):
    latencies_ms: list[float]
    errors: int


class SmokeReport(BaseModel):
    passed: bool
    p95_ms: float
    error_rate: float


class Review(BaseModel):
    ready: bool  # worth a reviewer's time: better than production
    summary: str


def _stable_seed(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


# --- the smoke test: a small workflow of its own ---------------------------------------------

@step(compute=Lambda(timeout=600), retry=Retry(attempts=3, interval=10, on=[TransientError]))
def deploy_canary(model_uri: str) -> Endpoint:
    """A temporary endpoint serving the model (a SageMaker endpoint in production)."""
    return Endpoint(url=f"https://canary-{_stable_seed(model_uri) % 10_000:04d}.internal/predict", model_uri=model_uri)


@step(timeout=300)
def send_test_traffic(endpoint: Endpoint, requests: int) -> Traffic:
    """Replay recorded requests against the canary and time them."""
    rng = random.Random(_stable_seed(endpoint.url))
    latencies = [round(rng.lognormvariate(3.0, 0.4), 1) for _ in range(requests)]
    return Traffic(latencies_ms=latencies, errors=sum(rng.random() < 0.002 for _ in range(requests)))


@step(retry=Retry(attempts=5, interval=5, on=[TransientError]))
def teardown_canary(endpoint: Endpoint) -> str:
    return f"deleted {endpoint.url}"


@step
def check_smoke(traffic: Traffic, max_p95_ms: float) -> SmokeReport:
    latencies = sorted(traffic.latencies_ms)
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    error_rate = traffic.errors / len(latencies)
    return SmokeReport(passed=p95 <= max_p95_ms and error_rate <= 0.01, p95_ms=p95, error_rate=error_rate)


@workflow(timeout=3600)
def smoke_test(model_uri: str, requests: int = 200, max_p95_ms: float = 60.0) -> SmokeReport:
    endpoint = deploy_canary(model_uri)
    traffic = send_test_traffic(endpoint, requests=requests)
    teardown_canary.after(traffic)(endpoint)         # clean up once the traffic test is done
    return check_smoke(traffic, max_p95_ms=max_p95_ms)


# --- the release ------------------------------------------------------------------------------

@step
def load_candidate(model_name: str, version: str) -> Candidate:
    """The candidate's registry entry, with the AUC it was evaluated at."""
    auc = 0.80 + (_stable_seed(f"{model_name}/{version}") % 100) / 1000
    return Candidate(model_name=model_name, version=version, stage="candidate",
                     uri=f"s3://model-registry/{model_name}/{version}/model.json", auc=round(auc, 4))


@step
def compare_to_production(candidate: Candidate, production_auc: float) -> Comparison:
    gain = round(candidate.auc - production_auc, 4)
    return Comparison(production_auc=production_auc, candidate_auc=candidate.auc, auc_gain=gain, better=gain > 0)


@step
def request_review(candidate: Candidate, comparison: Comparison, smoke: SmokeReport) -> Review:
    """Post the numbers a reviewer needs, unless the candidate is not worth reviewing."""
    summary = (f"AUC {comparison.candidate_auc} ({comparison.auc_gain:+.4f} vs production), "
               f"canary p95 {smoke.p95_ms} ms")
    if comparison.better:
        print(f"[#ml-releases] {candidate.model_name} {candidate.version}: {summary}. "
              "Answer with `stepstone approve`.")
    return Review(ready=comparison.better, summary=summary)


@step(retry=Retry(attempts=3, on=[TransientError]))
def promote(candidate: Candidate) -> str:
    """Point the production alias at the candidate."""
    return f"released {candidate.model_name} {candidate.version} ({candidate.uri})"


@step(retry=Retry(attempts=3, on=[TransientError]))
def archive(candidate: Candidate, reason: str) -> str:
    return f"archived {candidate.model_name} {candidate.version}: {reason}"


@workflow(triggers=[workflow_succeeded("ml_training")], timeout=timedelta(days=3))
def approval_release(model_name: str = "churn-classifier", version: str = "v42",
                     production_auc: float = 0.81) -> str:
    candidate = load_candidate(model_name, version)
    if candidate.stage in ("production", "archived"):    # decided by an earlier run
        return "nothing to do"
    smoke = smoke_test(model_uri=candidate.uri)          # a nested run of the workflow above,
    comparison = compare_to_production(candidate, production_auc=production_auc)  # in parallel with this
    if not smoke.passed:
        return archive(candidate, reason="failed the smoke test")
    review = request_review(candidate, comparison, smoke)
    if not review.ready:                                 # worse than production: no one needs asking
        return archive(candidate, reason=review.summary)
    decision = approve("Release this model to production?", timeout=timedelta(days=2))
    if decision.approved:
        return promote(candidate)
    return archive(candidate, reason="rejected by the reviewer")


if __name__ == "__main__":
    print(approval_release())
