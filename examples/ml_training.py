"""The canonical pipeline: a classifier trained every night and on every new data file, with
scikit-learn and pandas, on the breast cancer dataset that ships inside scikit-learn.

It shows the core of stepstone in one workflow:

- a pydantic request as the workflow's input (its fields are the run's parameters);
- real ML values between steps, as a user writes them: a pandas DataFrame from
  ``build_dataset``, a numpy array from ``fetch_embedding``, a fitted scikit-learn pipeline
  and a held-out DataFrame in ``train_model``'s result, dataclass reports (each stored once,
  by Parquet, .npy or pickle, and checked against its hash when read);
- two independent steps (``fetch_embedding`` and ``build_dataset``) that run in parallel
  because neither uses the other's result;
- an early ``return`` when the data or the model is not good enough, after telling the data team;
- a training step on AWS Batch (a GPU instance, as a PyTorch model would need), retried when
  the job is interrupted;
- retries with exponential backoff and jitter for a flaky feature-store call;
- a nightly schedule in a time zone and a trigger for each CSV file uploaded under ``incoming/``.

Run it in-process (no AWS needed):  python -m examples.ml_training
"""

import hashlib
import pickle
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from sklearn.datasets import load_breast_cancer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import stepstone
from stepstone import Batch, Lambda, Retry, TransientError, cron, s3_upload, save_artifact, step, workflow

# what the steps import, deployed with them (examples/ml_training.lock pins the versions)
stepstone.packages("scikit-learn", "pandas", "numpy", "pyarrow")

FEATURES = ["mean radius", "mean texture", "mean smoothness", "mean symmetry"]
SEGMENTS = ["small", "medium", "large"]  # tumour size bands, by mean area


class TrainingRequest(BaseModel):
    """What to train; every field has a default, so a schedule can start a run with no input."""

    model_name: str = "tumor-classifier"
    rows: int = Field(default=569, ge=100, le=1_000_000)  # sampled from the 569 of the dataset
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


@dataclass
class QualityReport:
    passed: bool
    rows: int
    null_fraction: float
    positive_rate: float
    problems: list[str]


@dataclass
class TrainedModel:
    name: str
    run_id: str
    pipeline: Pipeline  # the fitted scikit-learn pipeline: stored by pickle
    features: list[str]
    holdout: pd.DataFrame  # the held-out rows, featurised exactly like the training data: Parquet


@dataclass
class Evaluation:
    auc: float
    log_loss: float
    holdout_rows: int


@step
def prod_initiation(request: TrainingRequest) -> RunConfig:
    """Pin down everything this run depends on, so a re-run with the same request is identical."""
    digest = hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:10]
    source = f"s3://{request.bucket}/{request.key}" if request.bucket and request.key else "sklearn:breast_cancer"
    return RunConfig(run_id=f"{request.model_name}-{digest}", model_name=request.model_name, source=source,
                     rows=request.rows, seed=request.seed, max_null_fraction=request.max_null_fraction)


@step(retry=Retry(attempts=5, interval=2, backoff=2.0, max_delay=60, jitter=True, on=[TransientError]),
      timeout=120)
def fetch_embedding(cfg: RunConfig) -> np.ndarray:
    """One embedding per size band from the feature store (a throttled API: retried with jitter)."""
    rng = np.random.default_rng(cfg.seed)
    return rng.normal(0.0, 0.3, size=(len(SEGMENTS), cfg.embedding_dim)).round(4)


@step(compute=Lambda(memory=2048, timeout=600), retry=Retry(attempts=3, on=[TransientError]), cache=True)
def build_dataset(cfg: RunConfig) -> pd.DataFrame:
    """The training table: the features, the size band and the label (1 = malignant), a few
    values missing as in any real extract."""
    frame = load_breast_cancer(as_frame=True).frame
    frame = frame.sample(n=min(cfg.rows, len(frame)), random_state=cfg.seed).reset_index(drop=True)
    table = frame[FEATURES].copy()
    rng = np.random.default_rng(cfg.seed)
    table = table.mask(rng.random(table.shape) < 0.01)  # ~1 % of the values missing
    table["segment"] = pd.qcut(frame["mean area"], q=len(SEGMENTS), labels=SEGMENTS)
    table["label"] = 1 - frame["target"]  # scikit-learn's target is 1 for benign
    return table


@step(timeout=120)
def check_data_quality(dataset: pd.DataFrame, max_null_fraction: float) -> QualityReport:
    """Enough rows, few missing values, and both classes present in a usable balance."""
    null_fraction = float(dataset[FEATURES].isna().to_numpy().mean())
    positive_rate = float(dataset["label"].mean())
    problems = []
    if len(dataset) < 100:
        problems.append(f"only {len(dataset)} rows")
    if null_fraction > max_null_fraction:
        problems.append(f"{null_fraction:.1%} of values are missing")
    if not 0.05 <= positive_rate <= 0.95:
        problems.append(f"class imbalance: {positive_rate:.1%} positive")
    return QualityReport(passed=not problems, rows=len(dataset), null_fraction=round(null_fraction, 4),
                         positive_rate=round(positive_rate, 4), problems=problems)


@step(compute=Batch(gpus=1, vcpus=8, memory=32_768),
      retry=Retry(attempts=3, interval=60, backoff=2.0, on=["States.TaskFailed", "States.Timeout"]),
      timeout=4 * 3600)
def train_model(cfg: RunConfig, dataset: pd.DataFrame, embeddings: np.ndarray) -> TrainedModel:
    """Logistic regression on the features plus the size band's embedding (missing values imputed)."""
    bands = dataset["segment"].cat.codes.to_numpy()
    names = FEATURES + [f"segment_emb_{j}" for j in range(embeddings.shape[1])]
    x = pd.DataFrame(np.hstack([dataset[FEATURES].to_numpy(), embeddings[bands]]), columns=names)
    x_train, x_holdout, y_train, y_holdout = train_test_split(x, dataset["label"], test_size=0.25, random_state=0,
                                                              stratify=dataset["label"])
    pipeline = make_pipeline(SimpleImputer(), StandardScaler(), LogisticRegression()).fit(x_train, y_train)
    return TrainedModel(name=cfg.model_name, run_id=cfg.run_id, pipeline=pipeline, features=names,
                        holdout=x_holdout.assign(label=y_holdout.to_numpy()))


@step(timeout=300)
def check_model_quality(model: TrainedModel) -> Evaluation:
    """AUC and log loss on the held-out rows the model never saw."""
    scores = model.pipeline.predict_proba(model.holdout[model.features])[:, 1]
    labels = model.holdout["label"]
    return Evaluation(auc=round(float(roc_auc_score(labels, scores)), 4),
                      log_loss=round(float(log_loss(labels, scores)), 4), holdout_rows=len(scores))


@step(retry=Retry(attempts=3, interval=5, on=[TransientError]))
def release_model(model: TrainedModel) -> str:
    """Write the model file (beside the run's artifacts) and publish it to the registry under a
    content-addressed version; return the registry URI."""
    classifier = model.pipeline[-1]
    # versioned by what was learned: pickle's bytes for equal models differ with how each was built
    learned = np.concatenate([classifier.coef_.ravel(), classifier.intercept_]).round(12)
    version = hashlib.sha256(learned.tobytes()).hexdigest()[:12]
    save_artifact("model.pkl", pickle.dumps(model.pipeline, protocol=5))
    return f"s3://model-registry/{model.name}/{version}/model.pkl"


@step(retry=2)
def notify_data_team(reason: str, report: QualityReport | Evaluation) -> str:
    """Tell the data team why this run stopped (a chat message in production)."""
    message = f"[#data-team] training stopped: {reason}: {asdict(report)}"
    print(message)
    return message


@workflow(schedule=cron("0 3 * * ? *", timezone="Europe/Berlin"),
          triggers=[s3_upload(bucket="raw-data", prefix="incoming/", suffix=".csv")],
          timeout=6 * 3600)
def ml_training(request: TrainingRequest) -> str:
    cfg = prod_initiation(request)
    embeddings = fetch_embedding(cfg)          # independent of build_dataset:
    dataset = build_dataset(cfg)               # the two run in parallel
    quality = check_data_quality(dataset, request.max_null_fraction)
    if not quality.passed:
        notify_data_team(reason="bad data", report=quality)
        return "rejected-data"
    model = train_model(cfg, dataset, embeddings)   # a Batch GPU step
    evaluation = check_model_quality(model)
    if evaluation.auc >= request.min_auc:
        return release_model(model)
    notify_data_team(reason="bad model", report=evaluation)
    return "rejected-model"


if __name__ == "__main__":
    print(ml_training(TrainingRequest()))
