# expect-rule: schedule-params
# expect-line: 19
# expect-message: the schedule cron(0 3 * * ? *) would start 'nightly_training' with invalid parameters: epochs: Input should be a valid integer, unable to parse string as an integer
"""A schedule whose params do not fit the workflow's parameters (epochs must be an int)."""
from pydantic import BaseModel

from stepstone import cron, step, workflow


class Model(BaseModel):
    uri: str


@step
def train(dataset_uri: str, epochs: int) -> Model:
    return Model(uri="s3://models/m")


@workflow(schedule=cron("0 3 * * ? *", params={"dataset_uri": "s3://data/d", "epochs": "many"}))
def nightly_training(dataset_uri: str, epochs: int) -> Model:
    return train(dataset_uri, epochs)
