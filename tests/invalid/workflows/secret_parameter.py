# expect-rule: secret-parameter
# expect-line: 22
# expect-message: workflow 'load_warehouse' takes a parameter 'warehouse_password' that looks like a password; a run's parameters are kept in clear in its execution history, its run record and its schedules
"""A password passed as a workflow parameter: it would sit in every run's input and history."""
from pydantic import BaseModel

from stepstone import step, workflow


class Summary(BaseModel):
    rows: int


@step
def load(table: str, warehouse_password: str) -> Summary:
    return Summary(rows=0)


@workflow
def load_warehouse(
    table: str,
    warehouse_password: str,
) -> Summary:
    return load(table, warehouse_password)
