"""Hyper-parameter search as a fan-out: one training job per grid point, then pick the best,
with scikit-learn and pandas on the breast cancer dataset that ships inside scikit-learn.

It shows:

- ``stepstone.map(step, items, max_concurrency=..., **fixed)``: every trial runs in parallel
  (at most four at a time), each getting the same DataFrame (stored once, read by each);
- a list whose size is declared (``Field(max_length=16)``), so the fan-out stays inside the
  run as an inline Map instead of spreading over child runs;
- fan-in: the list of every trial's result (each with its fitted model) goes to one step
  that picks the winner;
- a second fan-out written as a list comprehension, over a module-level constant: the
  winning model scored on each tumour size band, so a model that fails one band is not
  released.

Run it in-process (no AWS needed):  python -m examples.hpo_fanout
"""

from dataclasses import dataclass
from typing import Annotated

import pandas as pd
from pydantic import BaseModel, Field
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

import stepstone
from stepstone import Batch, Lambda, Retry, TransientError, step, workflow

stepstone.packages("scikit-learn", "pandas", "pyarrow")  # deployed with the steps (hpo_fanout.lock)

FEATURES = ["mean radius", "mean texture", "mean smoothness", "mean symmetry", "mean compactness"]
SEGMENTS = ["small", "medium", "large"]  # tumour size bands, by mean area


class SearchRequest(BaseModel):
    learning_rates: Annotated[list[float], Field(max_length=4)] = [0.001, 0.01, 0.1]
    l2_penalties: Annotated[list[float], Field(max_length=4)] = [0.0001, 0.01]
    epochs: int = 80
    rows: int = 400
    seed: int = 3
    min_segment_auc: float = 0.7


class Trial(BaseModel):
    learning_rate: float
    l2: float
    epochs: int


@dataclass
class TrialResult:
    trial: Trial
    validation_auc: float
    model: SGDClassifier  # fitted: stored by pickle


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
def prepare_data(rows: int, seed: int) -> pd.DataFrame:
    """Standardised features, the size band, the label (1 = malignant) and a fixed
    train/validation split shared by every trial."""
    frame = load_breast_cancer(as_frame=True).frame
    frame = frame.sample(n=min(rows, len(frame)), random_state=seed).reset_index(drop=True)
    table = (frame[FEATURES] - frame[FEATURES].mean()) / frame[FEATURES].std()
    table["segment"] = pd.qcut(frame["mean area"], q=len(SEGMENTS), labels=SEGMENTS)
    table["label"] = 1 - frame["target"]
    train, _ = train_test_split(table.index, test_size=0.3, random_state=seed, stratify=table["label"])
    table["split"] = "validation"
    table.loc[train, "split"] = "train"
    return table


# Spot: a trial is cheap to start again, and Batch does when EC2 takes its instance back
@step(compute=Batch(gpus=1, vcpus=4, memory=16_384, spot=True),
      retry=Retry(attempts=3, interval=30, on=["States.TaskFailed"]), timeout=3600)
def train_trial(trial: Trial, dataset: pd.DataFrame) -> TrialResult:
    """Train with one set of hyper-parameters; score on the validation rows."""
    train, validation = dataset[dataset["split"] == "train"], dataset[dataset["split"] == "validation"]
    model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=trial.learning_rate, alpha=trial.l2,
                          max_iter=trial.epochs, tol=None, random_state=0)
    model.fit(train[FEATURES], train["label"])
    auc = roc_auc_score(validation["label"], model.predict_proba(validation[FEATURES])[:, 1])
    return TrialResult(trial=trial, validation_auc=round(float(auc), 4), model=model)


@step
def pick_best(results: list[TrialResult]) -> TrialResult:
    """The trial with the highest validation AUC (ties: the smaller learning rate, the larger L2)."""
    return max(results, key=lambda r: (r.validation_auc, -r.trial.learning_rate, r.trial.l2))


@step
def score_segment(best: TrialResult, dataset: pd.DataFrame, segment: str) -> SliceScore:
    """The best model's AUC on one size band's validation rows."""
    rows = dataset[(dataset["split"] == "validation") & (dataset["segment"] == segment)]
    scores = best.model.predict_proba(rows[FEATURES])[:, 1]
    return SliceScore(segment=segment, auc=round(float(roc_auc_score(rows["label"], scores)), 4), rows=len(rows))


@step
def summarize(best: TrialResult, slices: list[SliceScore]) -> Verdict:
    worst = min(slices, key=lambda s: s.auc)
    return Verdict(best_auc=best.validation_auc, worst_segment=worst.segment, worst_segment_auc=worst.auc)


@step(retry=Retry(attempts=3, on=[TransientError]))
def register_model(best: TrialResult, verdict: Verdict) -> str:
    """Record the winner and its scores in the model registry; return its URI."""
    uri = f"s3://model-registry/tumor-hpo/lr={best.trial.learning_rate},l2={best.trial.l2}/model.pkl"
    return (f"registered {uri} (validation AUC {verdict.best_auc}; weakest size band: "
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
        return "rejected: a size band scores below the bar"
    return register_model(best, verdict)


if __name__ == "__main__":
    print(hpo_fanout(SearchRequest()))
