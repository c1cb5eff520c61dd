# expect-rule: unsupported-statement
# expect-line: 21
# expect-message: imports inside a workflow body are not supported
"""An import statement inside the workflow body."""
from pydantic import BaseModel

from stepstone import step, workflow


class Report(BaseModel):
    ok: bool


@step
def check(path: str) -> Report:
    return Report(ok=True)


@workflow
def check_file(path: str) -> Report:
    import os

    return check(os.path.basename(path))
