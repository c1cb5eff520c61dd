# expect-rule: express
# expect-line: 21
# expect-message: an Express workflow cannot wait for an approval (task token)
"""An Express workflow that waits for a person's approval (a task token)."""
from pydantic import BaseModel

from stepstone import approve, step, workflow


class Release(BaseModel):
    version: str


@step
def release_model(model_uri: str) -> Release:
    return Release(version="1")


@workflow(type="express")
def approved_release(model_uri: str) -> str:
    answer = approve("Release this model?")
    if answer.approved:
        release_model(model_uri)
        return "released"
    return "rejected"
