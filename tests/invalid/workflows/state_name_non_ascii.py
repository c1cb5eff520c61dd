# expect-rule: state-name
# expect-line: 21
# expect-message: state name 'approve_freigabe_für_prod' is longer than 80 characters or uses characters Step Functions' logs reject
"""An approval assigned to a variable with a non-ASCII name: the state is named after it."""
from stepstone import approve, step, workflow


@step
def train(dataset_uri: str) -> str:
    return "s3://models/m"


@step
def publish(model_uri: str) -> None:
    print(model_uri)


@workflow
def release(dataset_uri: str) -> None:
    model_uri = train(dataset_uri)
    freigabe_für_prod = approve("Release the model?")
    if freigabe_für_prod.approved:
        publish(model_uri)
