# expect-rule: unknown-field
# expect-line: 28
# expect-message: evaluation (Evaluation) has no field 'acu' (did you mean 'auc'?)
"""A misspelled field of a step result (the model has `auc`, not `acu`)."""
from pydantic import BaseModel

from stepstone import step, workflow


class Evaluation(BaseModel):
    auc: float
    loss: float


@step
def evaluate(model_uri: str) -> Evaluation:
    return Evaluation(auc=0.9, loss=0.1)


@step
def release(model_uri: str) -> None:
    print(model_uri)


@workflow
def release_if_good(model_uri: str) -> str:
    evaluation = evaluate(model_uri)
    if evaluation.acu >= 0.8:
        release(model_uri)
        return "released"
    return "kept"
