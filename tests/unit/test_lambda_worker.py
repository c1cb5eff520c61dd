"""The LocalStack plugin's worker (``stepstone_lambda_host/worker.py``) on its own: the
process that imports a handler once and answers invocations over a pipe. (Through
LocalStack itself: tests/e2e/test_lambda_host.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PLUGIN = Path(__file__).resolve().parents[2] / "stepstone" / "localstack" / "plugin"
WORKER = PLUGIN / "stepstone_lambda_host" / "worker.py"

APP = '''
import os, sys
print("importing app")

class DataError(Exception):
    pass

STATE = {"calls": 0}

def handler(event, context):
    STATE["calls"] += 1
    print("to stdout", event)
    print("to stderr", file=sys.stderr)
    os.system("echo from a child process")
    if event.get("fail"):
        raise DataError("bad input")
    return {"calls": STATE["calls"], "name": context.function_name, "left": context.get_remaining_time_in_millis()}
'''


class Worker:
    def __init__(self, code: Path, handler: str, logs: Path) -> None:
        env = {**os.environ, "_HANDLER": handler, "_HOSTEXEC_CODE_DIR": str(code), "AWS_LAMBDA_FUNCTION_NAME": "fn"}
        self.logs = logs
        with open(logs / "init.log", "wb") as init:
            self.proc = subprocess.Popen([sys.executable, "-u", str(WORKER)], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=init, env=env)

    def receive(self) -> Any:
        assert self.proc.stdout is not None
        return json.loads(self.proc.stdout.readline())

    def invoke(self, event: Any, request_id: str) -> Any:
        assert self.proc.stdin is not None
        request = {"type": "invoke", "request_id": request_id, "payload": json.dumps(event),
                   "deadline_ms": (time.time() + 5) * 1000, "log_path": str(self.logs / f"{request_id}.log")}
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        return self.receive()


@pytest.fixture()
def worker(tmp_path: Path) -> Iterator[Worker]:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(APP)
    running = Worker(tmp_path / "code", "app.handler", tmp_path)
    yield running
    running.proc.kill()
    running.proc.wait()


def test_the_handler_is_imported_once_and_answers_each_invocation(worker: Worker) -> None:
    assert worker.receive() == {"type": "ready"}
    first = worker.invoke({"a": 1}, "r1")
    second = worker.invoke({"a": 2}, "r2")
    assert first["ok"] and json.loads(first["payload"])["calls"] == 1
    assert json.loads(second["payload"]) == {"calls": 2, "name": "fn", "left": json.loads(second["payload"])["left"]}
    assert 0 < json.loads(second["payload"])["left"] <= 5000
    assert "importing app" in (worker.logs / "init.log").read_text(), "import-time output is the init log"


def test_an_invocations_output_goes_to_its_own_log_even_from_child_processes(worker: Worker) -> None:
    worker.receive()
    worker.invoke({"a": 1}, "r1")
    log = (worker.logs / "r1.log").read_text()
    assert "to stdout {'a': 1}" in log and "to stderr" in log and "from a child process" in log


def test_an_exception_is_reported_with_its_class_name_and_the_user_traceback(worker: Worker) -> None:
    worker.receive()
    reply = worker.invoke({"fail": True}, "r1")
    assert reply["ok"] is False and reply["error"]["errorType"] == "DataError"
    assert reply["error"]["errorMessage"] == "bad input"
    assert all("worker.py" not in frame for frame in reply["error"]["stackTrace"])
    assert "[ERROR] DataError: bad input" in (worker.logs / "r1.log").read_text()


def test_a_missing_handler_is_an_init_error(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    broken = Worker(tmp_path, "app.nothing_here", tmp_path)
    try:
        message = broken.receive()
    finally:
        broken.proc.kill()
        broken.proc.wait()
    assert message["type"] == "init_error" and message["error"]["errorType"] == "Runtime.HandlerNotFound"
