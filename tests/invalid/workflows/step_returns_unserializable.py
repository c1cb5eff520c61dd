# expect-rule: unserializable-type
# expect-line: 13
# expect-message: step 'connect' returns Connection, which cannot pass between steps: Connection holds something of this process only (an open file, a lock, a connection), which no codec can store; return what the next step needs to open it again (a path, a URI)
"""A step whose result is a live object: a database connection belongs to the process that
opened it, so no codec can carry it to the next step (a DataFrame, a model or any other
picklable value could go)."""
import sqlite3

from stepstone import step, workflow


@step
def connect(path: str) -> sqlite3.Connection:
    return sqlite3.connect(path)


@step
def count_rows(connection: sqlite3.Connection) -> int:
    return int(connection.execute("select count(*) from sales").fetchone()[0])


@workflow
def row_count(path: str = "/tmp/sales.db") -> int:
    connection = connect(path)
    return count_rows(connection)
