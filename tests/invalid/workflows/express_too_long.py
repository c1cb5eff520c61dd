# expect-rule: express-duration
# expect-line: 19
# expect-message: an Express run stops after 300 seconds, but with its steps' timeouts and retries this one can take up to 750 seconds; the longest step, transform, alone can take 750 seconds (3 attempts of up to 240 seconds and the waits between them)
"""An Express workflow whose step timeout and retries can run past Express's 5-minute limit."""
from pydantic import BaseModel

from stepstone import Lambda, Retry, step, workflow


class Table(BaseModel):
    rows: int


@step(compute=Lambda(timeout=240), retry=Retry(attempts=3, interval=10))
def transform(key: str) -> Table:
    return Table(rows=0)


@workflow(type="express")
def fast_transform(key: str) -> Table:
    return transform(key)
