# expect-rule: unserializable-type
# expect-line: 17
# expect-message: step 'connect' returns Connection, which cannot pass between steps: Connection is not a type pydantic can read from or write as JSON
"""A step whose result is a live object: it cannot travel to the next step as JSON."""
from stepstone import step, workflow


class Connection:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, sql: str) -> list[str]:
        return []


@step
def connect(url: str) -> Connection:
    return Connection(url)


@step
def count_rows(connection: Connection) -> int:
    return len(connection.query("select 1"))


@workflow
def row_count(url: str = "postgres://db/sales") -> int:
    connection = connect(url)
    return count_rows(connection)
