# expect-rule: unsupported-condition
# expect-line: 31
# expect-message: evaluation.metrics.auc: a condition can test only top-level fields of a step result
"""A condition on a nested field of a step result (a.b.c): only top-level scalar fields can be tested."""
from pydantic import BaseModel

from stepstone import step, workflow


class Metrics(BaseModel):
    auc: float


class Evaluation(BaseModel):
    metrics: Metrics


@step
def evaluate(model_uri: str) -> Evaluation:
    return Evaluation(metrics=Metrics(auc=0.9))


@step
def release(model_uri: str) -> None:
    print(model_uri)


@workflow
def release_nested(model_uri: str) -> None:
    evaluation = evaluate(model_uri)
    if evaluation.metrics.auc > 0.8:
        release(model_uri)
