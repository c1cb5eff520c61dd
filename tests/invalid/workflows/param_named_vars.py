# expect-rule: bad-parameters
# expect-line: 20
# expect-message: workflow 'render_template' has an input field named 'vars', which stepstone keeps for the run's own state
"""A workflow parameter named `vars`, which stepstone keeps for the run's own state."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    rows: int


@step
def render(variables: dict[str, str]) -> Report:
    return Report(rows=0)


@workflow
def render_template(vars: dict[str, str]) -> Report:
    return render(vars)
