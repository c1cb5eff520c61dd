# expect-rule: bad-option
# expect-line: 8
# expect-message: secrets= takes Secret objects, got 'prod/warehouse-password'
"""secrets= given the secret's name instead of a Secret object."""
from stepstone import step, workflow


@step(secrets=["prod/warehouse-password"])
def load(table: str) -> str:
    return table


@workflow
def load_table(table: str = "sales") -> str:
    return load(table)
