"""The canonical pipeline: a churn model trained every night and on every new data file.

It shows the core of stepstone in one workflow:

- a pydantic request as the workflow's input (its fields are the run's parameters);
- two independent steps (``fetch_embedding`` and ``build_dataset``) that run in parallel
  because neither uses the other's result;
- an early ``return`` when the data or the model is not good enough, after telling the data team;
- a GPU training step on AWS Batch, retried when the job is interrupted;
- retries with exponential backoff and jitter for a flaky feature-store call;
- a nightly schedule in a time zone and a trigger for each CSV file uploaded under ``incoming/``.

Run it in-process (no AWS needed):  python -m examples.ml_training
"""

import hashlib
import json

from pydantic import BaseModel, Field

from examples import _ml
from stepstone import Batch, Lambda, Retry, TransientError, cron, s3_upload, save_artifact, step, workflow


class TrainingRequest(BaseModel):
    """What to train; every field has a default, so a schedule can start a run with no input."""

    model_name: str = "churn-classifier"
    rows: int = Field(default=600, ge=100, le=1_000_000)
    seed: int = 7
    min_auc: float = Field(default=0.75, ge=0.5, le=1.0)
    max_null_fraction: float = 0.05
    bucket: str | None = None  # set by the S3 trigger: the file that started this run
    key: str | None = None


class RunConfig(BaseModel):
    run_id: str
    model_name: str
    source: str
    rows: int
    seed: int
    max_null_fraction: float
    embedding_dim: int = 4


class Embeddings(BaseModel):
    dim: int
    by_segment: dict[str, list[float]]


class Dataset(BaseModel):
    run_id: str
    model_name: str
    source: str
    features: list[str]
    rows: list[list[float | None]]
    segments: list[str]
    labels: list[int]
    max_null_fraction: float


class QualityReport(BaseModel):
    passed: bool
    rows: int
    null_fraction: float
    positive_rate: float
    problems: list[str]


class TrainedModel(BaseModel):
    name: str
    run_id: str
    features: list[str]
    weights: list[float]
    bias: float
    holdout_x: list[list[float]]  # the held-out split, featurised exactly like the training data
    holdout_y: list[int]


class Evaluation(BaseModel):
    auc: float
    log_loss: float
    holdout_rows: int


@step
def prod_initiation(request: TrainingRequest) -> RunConfig:
    """Pin down everything this run depends on, so a re-run with the same request is identical."""
    digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:10]
    source = f"s3://{request.bucket}/{request.key}" if request.bucket and request.key else "synthetic"
    return RunConfig(run_id=f"{request.model_name}-{digest}", model_name=request.model_name, source=source,
                     rows=request.rows, seed=request.seed, max_null_fraction=request.max_null_fraction)


@step(retry=Retry(attempts=5, interval=2, backoff=2.0, max_delay=60, jitter=True, on=[TransientError]),
      timeout=120)
def fetch_embedding(cfg: RunConfig) -> Embeddings:
    """Segment embeddings from the feature store (a throttled API: retried with jitter)."""
    return Embeddings(dim=cfg.embedding_dim, by_segment=_ml.segment_embeddings(cfg.embedding_dim, cfg.seed))


@step(compute=Lambda(memory=2048, timeout=600), retry=Retry(attempts=3, on=[TransientError]), cache=True)
def build_dataset(cfg: RunConfig) -> Dataset:
    """The training table: standardised features per customer, labelled churned or not (synthetic here)."""
    rows, segments, labels = _ml.synthetic_customers(cfg.rows, cfg.seed)
    return Dataset(run_id=cfg.run_id, model_name=cfg.model_name, source=cfg.source, features=_ml.FEATURES,
                   rows=rows, segments=segments, labels=labels, max_null_fraction=cfg.max_null_fraction)


@step(timeout=120)
def check_data_quality(dataset: Dataset) -> QualityReport:
    """Enough rows, few missing values, and both classes present in a usable balance."""
    cells = [value for row in dataset.rows for value in row]
    null_fraction = sum(value is None for value in cells) / max(len(cells), 1)
    positive_rate = sum(dataset.labels) / max(len(dataset.labels), 1)
    problems = []
    if len(dataset.rows) < 100:
        problems.append(f"only {len(dataset.rows)} rows")
    if null_fraction > dataset.max_null_fraction:
        problems.append(f"{null_fraction:.1%} of values are missing")
    if not 0.05 <= positive_rate <= 0.95:
        problems.append(f"class imbalance: {positive_rate:.1%} positive")
    return QualityReport(passed=not problems, rows=len(dataset.rows), null_fraction=round(null_fraction, 4),
                         positive_rate=round(positive_rate, 4), problems=problems)


@step(compute=Batch(gpus=1, vcpus=8, memory=32_768),
      retry=Retry(attempts=3, interval=60, backoff=2.0, on=["States.TaskFailed", "States.Timeout"]),
      timeout=4 * 3600)
def train_model(dataset: Dataset, embeddings: Embeddings) -> TrainedModel:
    """Logistic regression on the features plus the customer's segment embedding (missing values -> 0, the mean)."""
    x = [[0.0 if v is None else v for v in row] + embeddings.by_segment[segment]
         for row, segment in zip(dataset.rows, dataset.segments)]
    train, holdout = _ml.split(len(x), holdout=0.25, seed=0)
    weights, bias = _ml.train_logistic([x[i] for i in train], [dataset.labels[i] for i in train])
    names = dataset.features + [f"segment_emb_{j}" for j in range(embeddings.dim)]
    return TrainedModel(name=dataset.model_name, run_id=dataset.run_id, features=names,
                        weights=[round(w, 5) for w in weights], bias=round(bias, 5),
                        holdout_x=[x[i] for i in holdout], holdout_y=[dataset.labels[i] for i in holdout])


@step(timeout=300)
def check_model_quality(model: TrainedModel) -> Evaluation:
    """AUC and log loss on the held-out rows the model never saw."""
    scores = _ml.predict(model.weights, model.bias, model.holdout_x)
    return Evaluation(auc=round(_ml.auc(model.holdout_y, scores), 4),
                      log_loss=round(_ml.log_loss(model.holdout_y, scores), 4), holdout_rows=len(scores))


@step(retry=Retry(attempts=3, interval=5, on=[TransientError]))
def release_model(model: TrainedModel) -> str:
    """Write the model file (beside the run's artifacts) and publish it to the registry under a
    content-addressed version; return the registry URI."""
    payload = json.dumps({"features": model.features, "weights": model.weights, "bias": model.bias}, indent=1)
    version = hashlib.sha256(payload.encode()).hexdigest()[:12]
    save_artifact("model.json", payload)
    return f"s3://model-registry/{model.name}/{version}/model.json"


@step(retry=2)
def notify_data_team(reason: str, report: QualityReport | Evaluation) -> str:
    """Tell the data team why this run stopped (a chat message in production)."""
    message = f"[#data-team] training stopped: {reason}: {report.model_dump_json()}"
    print(message)
    return message


@workflow(schedule=cron("0 3 * * ? *", timezone="Europe/Berlin"),
          triggers=[s3_upload(bucket="raw-data", prefix="incoming/", suffix=".csv")],
          timeout=6 * 3600)
def ml_training(request: TrainingRequest) -> str:
    cfg = prod_initiation(request)
    embeddings = fetch_embedding(cfg)          # independent of build_dataset:
    dataset = build_dataset(cfg)               # the two run in parallel
    quality = check_data_quality(dataset)
    if not quality.passed:
        notify_data_team(reason="bad data", report=quality)
        return "rejected-data"
    model = train_model(dataset, embeddings)   # a Batch GPU step
    evaluation = check_model_quality(model)
    if evaluation.auc >= request.min_auc:
        return release_model(model)
    notify_data_team(reason="bad model", report=evaluation)
    return "rejected-model"


if __name__ == "__main__":
    print(ml_training(TrainingRequest()))
