"""Steps written once and shared by several workflows (see ``model_family.py``).

A step is an ordinary module-level function, so any workflow can import and call it; each
workflow that uses a step deploys it with the options given here (compute, retries,
timeouts, caching). Optional inputs (``embeddings``, ``params``) let one ``train`` step serve
a plain model, a model with embeddings and a tuned model.
"""

import hashlib
import json

from pydantic import BaseModel

from examples import _ml
from stepstone import Batch, Lambda, PermanentError, Retry, TransientError, step


class AuthError(PermanentError):
    """The credentials were refused: retrying cannot help."""


class Session(BaseModel):
    project: str
    token: str
    expires_in: int


class Dataset(BaseModel):
    table: str
    features: list[str]
    rows: list[list[float | None]]
    segments: list[str]
    labels: list[int]


class Embeddings(BaseModel):
    dim: int
    by_segment: dict[str, list[float]]


class HyperParams(BaseModel):
    learning_rate: float = 0.5
    l2: float = 1e-3
    epochs: int = 120
    validation_auc: float = 0.0  # the score that chose these values (0.0 when not tuned)


class Model(BaseModel):
    name: str
    features: list[str]
    weights: list[float]
    bias: float
    params: HyperParams
    holdout_x: list[list[float]]
    holdout_y: list[int]


class Evaluation(BaseModel):
    model_name: str
    auc: float
    holdout_rows: int


def featurize(dataset: Dataset, embeddings: Embeddings | None) -> list[list[float]]:
    """Missing values -> 0 (the features are standardised), plus the segment's embedding when given."""
    extra = embeddings.by_segment if embeddings else {}
    return [[0.0 if v is None else v for v in row] + extra.get(segment, [])
            for row, segment in zip(dataset.rows, dataset.segments)]


@step(retry=Retry(attempts=4, interval=1, backoff=2.0, jitter=True, on=[TransientError]), timeout=30)
def authenticate(project: str) -> Session:
    """A short-lived token for the project's data (from a secrets store in production)."""
    if not project:
        raise AuthError("no project given")
    token = hashlib.sha256(f"stepstone:{project}".encode()).hexdigest()[:16]
    return Session(project=project, token=token, expires_in=3600)


@step(compute=Lambda(memory=2048, timeout=600), retry=Retry(attempts=3, on=[TransientError]), cache=True)
def pull_data(session: Session, table: str, rows: int, seed: int) -> Dataset:
    """The labelled training table, read with the session's token."""
    features, segments, labels = _ml.synthetic_customers(rows, seed)
    return Dataset(table=f"{session.project}.{table}", features=_ml.FEATURES, rows=features,
                   segments=segments, labels=labels)


@step(retry=Retry(attempts=5, interval=2, backoff=2.0, max_delay=30, jitter=True, on=[TransientError]),
      timeout=120)
def pull_embeddings(session: Session, dim: int, seed: int) -> Embeddings:
    """Segment embeddings from the feature store."""
    return Embeddings(dim=dim, by_segment=_ml.segment_embeddings(dim, seed))


@step(compute=Lambda(memory=4096, timeout=900), timeout=900)
def tune_hyperparameters(dataset: Dataset, embeddings: Embeddings | None = None) -> HyperParams:
    """Grid search over learning rate and L2, scored by AUC on a validation split."""
    x = featurize(dataset, embeddings)
    fit, validation = _ml.split(len(x), holdout=0.3, seed=1)
    best = HyperParams()
    for learning_rate in (0.1, 0.5):
        for l2 in (1e-3, 3e-2):
            w, b = _ml.train_logistic([x[i] for i in fit], [dataset.labels[i] for i in fit], epochs=60,
                                      learning_rate=learning_rate, l2=l2)
            score = _ml.auc([dataset.labels[i] for i in validation], _ml.predict(w, b, [x[i] for i in validation]))
            if score > best.validation_auc:
                best = HyperParams(learning_rate=learning_rate, l2=l2, epochs=120, validation_auc=round(score, 4))
    return best


@step(compute=Batch(gpus=1, vcpus=4, memory=16_384), retry=Retry(attempts=3, interval=60, on=["States.TaskFailed"]),
      timeout=2 * 3600)
def train(dataset: Dataset, name: str, embeddings: Embeddings | None = None,
          params: HyperParams | None = None) -> Model:
    """Train a churn classifier on a GPU; 25% of the rows are held out for ``evaluate``."""
    params = params or HyperParams()
    x = featurize(dataset, embeddings)
    fit, holdout = _ml.split(len(x), holdout=0.25, seed=0)
    weights, bias = _ml.train_logistic([x[i] for i in fit], [dataset.labels[i] for i in fit], epochs=params.epochs,
                                       learning_rate=params.learning_rate, l2=params.l2)
    features = dataset.features + [f"segment_emb_{j}" for j in range(embeddings.dim if embeddings else 0)]
    return Model(name=name, features=features, weights=weights, bias=bias, params=params,
                 holdout_x=[x[i] for i in holdout], holdout_y=[dataset.labels[i] for i in holdout])


@step(timeout=300)
def evaluate(model: Model) -> Evaluation:
    """AUC on the held-out rows."""
    scores = _ml.predict(model.weights, model.bias, model.holdout_x)
    return Evaluation(model_name=model.name, auc=round(_ml.auc(model.holdout_y, scores), 4),
                      holdout_rows=len(scores))


@step(retry=Retry(attempts=3, interval=5, on=[TransientError]))
def release_model(model: Model) -> str:
    """Publish the model under a content-addressed version; return its registry URI."""
    payload = json.dumps({"features": model.features, "weights": model.weights, "bias": model.bias})
    version = hashlib.sha256(payload.encode()).hexdigest()[:12]
    return f"s3://model-registry/{model.name}/{version}/model.json"


@step(retry=2)
def report_rejection(evaluation: Evaluation, min_auc: float) -> str:
    """Tell the model's owners why it was not released."""
    message = f"[#ml-models] {evaluation.model_name} not released: AUC {evaluation.auc} < {min_auc}"
    print(message)
    return message
