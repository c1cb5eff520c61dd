# expect-rule: bad-default
# expect-line: 13
# expect-message: the default of parameter 'min_auc', nan, is NaN or infinite, which JSON (and so a run's input) cannot hold
"""A default a run's input (JSON) cannot carry: NaN in a pydantic request."""
import math

from pydantic import BaseModel

from stepstone import step, workflow


class Request(BaseModel):
    min_auc: float = math.nan


@step
def evaluate(min_auc: float) -> str:
    return "ok"


@workflow
def evaluation(request: Request) -> str:
    return evaluate(request.min_auc)
