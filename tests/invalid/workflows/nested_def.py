# expect-rule: unsupported-statement
# expect-line: 21
# expect-message: functions cannot be defined inside a workflow
"""A helper function defined inside the workflow body."""
from pydantic import BaseModel

from stepstone import step, workflow


class Scores(BaseModel):
    auc: float


@step
def evaluate(model_uri: str) -> Scores:
    return Scores(auc=0.9)


@workflow
def evaluate_model(model_uri: str) -> float:
    def best(scores):
        return scores.auc

    scores = evaluate(model_uri)
    return best(scores)
