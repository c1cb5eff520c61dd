"""Hyper-parameter search as a fan-out: one GPU training job per grid point, then pick the best.

It shows:

- ``stepstone.map(step, items, max_concurrency=..., **fixed)``: every trial runs in parallel
  (at most four at a time), each getting the same dataset;
- a list whose size is declared (``Field(max_length=16)``), so the fan-out stays inside the
  run as an inline Map instead of spreading over child runs;
- fan-in: the list of every trial's result goes to one step that picks the winner;
- a second fan-out written as a list comprehension, over a module-level constant: the
  winning model scored on each customer segment, so a model that fails one segment is not
  released.

Run it in-process (no AWS needed):  python -m examples.hpo_fanout
"""

from typing import Annotated

from pydantic import BaseModel, Field

import stepstone
from examples import _ml
from stepstone import Batch, Lambda, Retry, TransientError, step, workflow

SEGMENTS = ["web", "store", "partner"]


class SearchRequest(BaseModel):
    learning_rates: Annotated[list[float], Field(max_length=4)] = [0.1, 0.5, 2.0]
    l2_penalties: Annotated[list[float], Field(max_length=4)] = [0.0, 0.05]
    epochs: int = 80
    rows: int = 400
    seed: int = 3
    min_segment_auc: float = 0.7


class Trial(BaseModel):
    learning_rate: float
    l2: float
    epochs: int


class Dataset(BaseModel):
    x: list[list[float]]
    labels: list[int]
    segments: list[str]
    train_rows: list[int]
    validation_rows: list[int]


class TrialResult(BaseModel):
    trial: Trial
    validation_auc: float
    weights: list[float]
    bias: float


class SliceScore(BaseModel):
    segment: str
    auc: float
    rows: int


class Verdict(BaseModel):
    best_auc: float
    worst_segment: str
    worst_segment_auc: float


@step
def make_grid(request: SearchRequest) -> Annotated[list[Trial], Field(max_length=16)]:
    """Every combination of the values to try."""
    return [Trial(learning_rate=lr, l2=l2, epochs=request.epochs)
            for lr in request.learning_rates for l2 in request.l2_penalties]


@step(compute=Lambda(memory=2048, timeout=600), cache=True)
def prepare_data(rows: int, seed: int) -> Dataset:
    """Features with missing values filled, and a fixed train/validation split shared by every trial."""
    features, segments, labels = _ml.synthetic_customers(rows, seed)
    train_rows, validation_rows = _ml.split(rows, holdout=0.3, seed=seed)
    return Dataset(x=[[0.0 if v is None else v for v in row] for row in features], labels=labels,
                   segments=segments, train_rows=train_rows, validation_rows=validation_rows)


@step(compute=Batch(gpus=1, vcpus=4, memory=16_384), retry=Retry(attempts=3, interval=30, on=["States.TaskFailed"]),
      timeout=3600)
def train_trial(trial: Trial, dataset: Dataset) -> TrialResult:
    """Train with one set of hyper-parameters; score on the validation rows."""
    weights, bias = _ml.train_logistic([dataset.x[i] for i in dataset.train_rows],
                                       [dataset.labels[i] for i in dataset.train_rows],
                                       epochs=trial.epochs, learning_rate=trial.learning_rate, l2=trial.l2)
    scores = _ml.predict(weights, bias, [dataset.x[i] for i in dataset.validation_rows])
    validation_auc = _ml.auc([dataset.labels[i] for i in dataset.validation_rows], scores)
    return TrialResult(trial=trial, validation_auc=round(validation_auc, 4), weights=weights, bias=bias)


@step
def pick_best(results: list[TrialResult]) -> TrialResult:
    """The trial with the highest validation AUC (ties: the smaller learning rate, the larger L2)."""
    return max(results, key=lambda r: (r.validation_auc, -r.trial.learning_rate, r.trial.l2))


@step
def score_segment(best: TrialResult, dataset: Dataset, segment: str) -> SliceScore:
    """The best model's AUC on one segment's validation rows."""
    rows = [i for i in dataset.validation_rows if dataset.segments[i] == segment]
    scores = _ml.predict(best.weights, best.bias, [dataset.x[i] for i in rows])
    return SliceScore(segment=segment, auc=round(_ml.auc([dataset.labels[i] for i in rows], scores), 4),
                      rows=len(rows))


@step
def summarize(best: TrialResult, slices: list[SliceScore]) -> Verdict:
    worst = min(slices, key=lambda s: s.auc)
    return Verdict(best_auc=best.validation_auc, worst_segment=worst.segment, worst_segment_auc=worst.auc)


@step(retry=Retry(attempts=3, on=[TransientError]))
def register_model(best: TrialResult, verdict: Verdict) -> str:
    """Record the winner and its scores in the model registry; return its URI."""
    uri = f"s3://model-registry/churn-hpo/lr={best.trial.learning_rate},l2={best.trial.l2}/model.json"
    return (f"registered {uri} (validation AUC {verdict.best_auc}; weakest segment: "
            f"{verdict.worst_segment}, AUC {verdict.worst_segment_auc})")


@workflow(timeout=4 * 3600)
def hpo_fanout(request: SearchRequest) -> str:
    dataset = prepare_data(request.rows, request.seed)   # independent of make_grid: both run at once
    trials = make_grid(request)
    results = stepstone.map(train_trial, trials, max_concurrency=4, dataset=dataset)
    best = pick_best(results)
    slices = [score_segment(best, dataset, segment) for segment in SEGMENTS]
    verdict = summarize(best, slices)
    if verdict.worst_segment_auc < request.min_segment_auc:
        return "rejected: a customer segment scores below the bar"
    return register_model(best, verdict)


if __name__ == "__main__":
    print(hpo_fanout(SearchRequest()))
