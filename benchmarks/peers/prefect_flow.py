# mypy: disable-error-code="untyped-decorator"
# (Prefect is installed in the peer's venv only, never in the project's)
"""The local-speed peer: a chain of N no-op Prefect 3 tasks in one flow, run in this process.

Run by ``benchmarks/local_speed.py`` with the Python of a venv that has Prefect (never the
project's: Prefect is not a stepstone dependency), as ``python prefect_flow.py N [REPEAT]``.
It prints one JSON object on stdout:

- ``flow_s``: wall time of each timed ``chain(N)`` call, measured here with
  ``time.perf_counter`` around the call only: interpreter start, ``import prefect`` and the
  warm-up run are outside it;
- ``floor_s``: the least time of the same N calls of the task's plain function
  (``noop.fn``), chained the same way: what the work costs with no orchestrator at all;
- ``settle_s``: before each timed call, how long the API server took to record the previous
  flow's task runs (it does so in the background, on the same cores): each timed flow starts
  with an idle server, as a person's next run would;
- ``warmup_s``: the first ``chain(N)`` call, which starts Prefect's ephemeral API server
  (a subprocess on 127.0.0.1 with SQLite under ``$PREFECT_HOME``) and, on a fresh home,
  migrates its database: reported, never compared.

The environment that ``local_speed`` sets makes Prefect run offline and alone: no
``PREFECT_API_URL`` (so Prefect starts that ephemeral server itself; no server of anyone
else's is used), analytics off, ``DO_NOT_TRACK=1``.
This file must not import stepstone; it runs under a different interpreter.
"""

from __future__ import annotations

import gc
import json
import sys
import time
from typing import Any

IMPORT_STARTED = time.perf_counter()
import prefect  # type: ignore[import-not-found]  # noqa: E402  (timed: reported, not compared)
from prefect import flow, task  # noqa: E402

IMPORT_S = time.perf_counter() - IMPORT_STARTED


@task
def noop(x: int) -> int:
    return x


@flow(name="chain", log_prints=False)
def chain(n: int) -> int:
    x = 0
    for _ in range(n):  # each task takes the previous task's result: a chain, as in stepstone's flow
        x = noop(x)
    return x


def plain(n: int) -> int:
    fn = noop.fn
    x = 0
    for _ in range(n):
        x = fn(x)
    return x


def settle(state: Any, n: int, timeout: float = 120.0) -> float:
    """Wait until the API has recorded the flow's ``n`` task runs as completed; the seconds waited."""
    from prefect import get_client
    from prefect.client.schemas.filters import (  # type: ignore[import-not-found]
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType  # type: ignore[import-not-found]

    started = time.perf_counter()
    flows = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
    done = TaskRunFilter(state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.COMPLETED])))
    with get_client(sync_client=True) as client:
        while time.perf_counter() - started < timeout:
            count, page = 0, 200
            while True:
                runs = client.read_task_runs(flow_run_filter=flows, task_run_filter=done, limit=page, offset=count)
                count += len(runs)
                if len(runs) < page:
                    break
            if count >= n:
                break
            time.sleep(0.2)
    return time.perf_counter() - started


def timed(call: Any) -> tuple[float, Any]:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = call()
        return time.perf_counter() - start, result
    finally:
        gc.enable()


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 200
    repeat = int(argv[2]) if len(argv) > 2 else 3
    warmup_s, state = timed(lambda: chain(n, return_state=True))
    assert state.result() == 0, state
    flows, settled = [], []
    for _ in range(max(1, repeat)):
        settled.append(settle(state, n))
        seconds, state = timed(lambda: chain(n, return_state=True))
        assert state.result() == 0, state
        flows.append(seconds)
    floor = min(timed(lambda: plain(n))[0] for _ in range(max(3, repeat)))
    print(json.dumps({"prefect": prefect.__version__, "python": sys.version.split()[0], "n": n, "import_s": IMPORT_S,
                      "warmup_s": warmup_s, "flow_s": flows, "settle_s": settled, "floor_s": floor}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
