# expect-rule: unsupported-expression
# expect-line: 27
# expect-message: a comparison (evaluation.auc > 0.8) can be used only as the condition of an if
"""A comparison passed as a step argument: comparisons belong in an if test."""
from pydantic import BaseModel

from stepstone import step, workflow


class Evaluation(BaseModel):
    auc: float


@step
def evaluate(model_uri: str) -> Evaluation:
    return Evaluation(auc=0.9)


@step
def record(model_uri: str, good: bool) -> None:
    print(model_uri, good)


@workflow
def evaluate_and_record(model_uri: str) -> None:
    evaluation = evaluate(model_uri)
    record(model_uri, evaluation.auc > 0.8)
