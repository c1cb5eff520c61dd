"""stepstone's LocalStack plugin: Lambda functions run as processes of this machine.

Each test deploys a small function through LocalStack's Lambda API and invokes it, so the
whole path is real: LocalStack's Lambda service, the plugin's executor, the worker process
running the handler under this project's Python.
"""

from __future__ import annotations

import contextlib
import io
import json
import time
import zipfile
from typing import Any

import pytest

from stepstone.testing.localstack import LocalStackSession

pytestmark = pytest.mark.localstack

HANDLERS = '''
import os, sys, time

class DataError(Exception):
    pass

CALLS = {"n": 0}

def echo(event, context):
    CALLS["n"] += 1
    print("echo got", event)
    return {"event": event, "function": context.function_name, "calls": CALLS["n"], "pid": os.getpid(),
            "left_ms": context.get_remaining_time_in_millis(), "python": sys.executable}

def fail(event, context):
    raise DataError("bad row " + str(event.get("row")))

def slow(event, context):
    time.sleep(event.get("seconds", 30))
    return "done"
'''


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def functions(localstack: LocalStackSession) -> Any:
    """Functions named after their handlers, (re)created for this module."""
    client = localstack.aws.lambda_
    role = localstack.deployer.role()
    code = _zip({"app.py": HANDLERS, "broken.py": "import no_such_module\n"})
    for name, handler, timeout in (("host-echo", "app.echo", 10), ("host-fail", "app.fail", 10),
                                   ("host-slow", "app.slow", 2), ("host-broken", "broken.handler", 10)):
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_function(FunctionName=name)
        client.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler=handler,
                               Code={"ZipFile": code}, Timeout=timeout)
        client.get_waiter("function_active_v2").wait(FunctionName=name)
    return client


def invoke(client: Any, name: str, event: Any) -> tuple[str | None, Any]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_the_handler_gets_the_event_and_context_and_stays_warm(functions: Any) -> None:
    error, first = invoke(functions, "host-echo", {"a": 1})
    assert error is None and first["event"] == {"a": 1} and first["function"] == "host-echo"
    assert 0 < first["left_ms"] <= 10_000
    _, second = invoke(functions, "host-echo", {"a": 2})
    assert second["pid"] == first["pid"] and second["calls"] == first["calls"] + 1, "the same warm process"


def test_an_exception_becomes_a_function_error_named_after_its_class(functions: Any) -> None:
    error, document = invoke(functions, "host-fail", {"row": 7})
    assert error == "Unhandled"
    assert document["errorType"] == "DataError" and document["errorMessage"] == "bad row 7"
    assert any("raise DataError" in line for line in document["stackTrace"])


def test_the_function_timeout_is_enforced_and_the_next_call_starts_fresh(functions: Any) -> None:
    started = time.monotonic()
    error, document = invoke(functions, "host-slow", {"seconds": 30})
    assert error == "Unhandled" and document["errorType"] == "Sandbox.Timedout"
    assert time.monotonic() - started < 30, "killed at the timeout, not after the handler's 30 s"
    error, document = invoke(functions, "host-slow", {"seconds": 0})
    assert error is None and document == "done"


def test_a_handler_that_cannot_be_imported_is_an_init_error(functions: Any) -> None:
    error, document = invoke(functions, "host-broken", {})
    assert error == "Unhandled" and document["errorType"] == "Runtime.ImportModuleError"
    assert "no_such_module" in document["errorMessage"]


def test_the_output_of_a_function_reaches_cloudwatch_logs(functions: Any, localstack: LocalStackSession) -> None:
    marker = f"marker-{time.time_ns()}"
    invoke(functions, "host-echo", {"marker": marker})
    logs = localstack.aws.logs
    found: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not any(marker in line for line in found):
        time.sleep(0.3)
        found = [e["message"] for page in logs.get_paginator("filter_log_events").paginate(
            logGroupName="/aws/lambda/host-echo") for e in page["events"]]
    assert any(marker in line and "echo got" in line for line in found)
    assert any(line.startswith("REPORT RequestId") for line in found)
