# expect-rule: bad-parameters
# expect-line: 16
# expect-message: parameter 'lock' of workflow 'guarded' is typed threading.Lock, which neither a run's input (JSON) nor a step result can hold: _thread.allocate_lock is a function, not a class: its values (a lock, a handle) belong to the process that made them
"""A workflow parameter of a type nothing carries: neither JSON nor any codec."""
import threading

from stepstone import step, workflow


@step
def work(n: int) -> int:
    return n


@workflow
def guarded(lock: threading.Lock, n: int = 1) -> int:
    return work(n)
