# expect-rule: bad-default
# expect-line: 20
# expect-message: the default of parameter 'epochs', 'ten', does not fit the type int: Input should be a valid integer, unable to parse string as an integer
"""A parameter default that does not fit its type: every scheduled run would start with it."""
from pydantic import BaseModel

from stepstone import cron, step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str, epochs: int) -> Model:
    return Model(uri="s3://models/m")


@workflow(schedule=cron("0 3 * * ? *"))
def nightly(dataset_uri: str = "s3://data/latest", epochs: int = "ten") -> Model:  # type: ignore[assignment]
    return train(dataset_uri, epochs)
