"""Lambda worker: runs ONE function's Python handler in a host process.

This file is executed as a script by the *function's* Python interpreter (not
LocalStack's): ``<function-python> -u worker.py``. It must therefore use the
standard library only.

Lifecycle (mirrors a Lambda execution environment):

* init: import the handler module once (``_HANDLER`` = ``module.func`` or
  ``pkg/module.func``), then report ``ready`` or ``init_error``.
* invoke (repeated, one at a time): read an invoke request, call
  ``handler(event, context)``, report ``result``. Module-level state survives
  between invocations of the same worker ("warm" start), as on AWS.
* exit: when the request channel reaches EOF (LocalStack stopped the
  environment or died) or when killed (timeout).

Protocol: one JSON object per line.
  parent -> worker, on the worker's original stdin:
    {"type": "invoke", "request_id", "invoked_function_arn", "payload": <str>,
     "deadline_ms": <epoch ms>, "log_path": <file to append this invocation's output to>}
  worker -> parent, on the worker's original stdout:
    {"type": "ready"} | {"type": "init_error", "error": {...}}
    {"type": "result", "request_id", "ok": true, "payload": <JSON text>}
    {"type": "result", "request_id", "ok": false, "error": {"errorType", "errorMessage", "stackTrace"}}

The handler never sees the protocol channels: before importing user code, the
worker moves them to private file descriptors, points fd 0 at /dev/null and
fds 1/2 at a log file. During an invocation fds 1 and 2 are redirected (at the
OS level, so output of C extensions and child processes is caught too) to the
per-invocation log file chosen by the parent, which becomes the function's log.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, Any], Any]

# Error types as reported by AWS's Python runtime (awslambdaric).
ERR_MALFORMED_HANDLER = "Runtime.MalformedHandlerName"
ERR_BUILTIN_CONFLICT = "Runtime.BuiltInModuleConflict"
ERR_IMPORT_MODULE = "Runtime.ImportModuleError"
ERR_SYNTAX = "Runtime.UserCodeSyntaxError"
ERR_HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
ERR_MARSHAL = "Runtime.MarshalError"
ERR_UNMARSHAL = "Runtime.UnmarshalError"


class LambdaContext:
    """The ``context`` argument, with the attributes of AWS's Python runtime."""

    def __init__(self, request: dict[str, Any]) -> None:
        env = os.environ
        self.aws_request_id = request["request_id"]
        self.invoked_function_arn = request.get("invoked_function_arn", "")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        # a string on AWS too
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = float(request["deadline_ms"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))
        sys.stdout.flush()

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class FaultError(Exception):
    """An error with an explicit Lambda errorType (runtime errors, not user exceptions)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace or []


def error_object(exc: BaseException) -> dict[str, Any]:
    """Lambda's error document: errorType is the bare class name (e.g. ``DataError``),
    which is what Step Functions matches in Retry/Catch ErrorEquals."""
    if isinstance(exc, FaultError):
        return {"errorType": exc.error_type, "errorMessage": exc.message, "stackTrace": exc.trace}
    frames = traceback.extract_tb(exc.__traceback__)
    # drop the worker's own frames, keep the user's
    tb = [frame for frame in frames if frame.filename != __file__] or list(frames)
    return {
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_list(tb),
    }


def log_error(err: dict[str, Any]) -> None:
    """Write the error to the function log the way AWS's runtime does."""
    out = "[ERROR] {}: {}".format(err["errorType"], err["errorMessage"])
    if err.get("stackTrace"):
        out += "\nTraceback (most recent call last):\n" + "".join(err["stackTrace"])
    print(out.rstrip("\n"), flush=True)


def load_handler(handler: str) -> Handler:
    """Resolve ``_HANDLER`` like awslambdaric's ``_get_handler``."""
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultError(ERR_MALFORMED_HANDLER, f"Bad handler '{handler}': {e}") from None
    if modname.split(".")[0] in sys.builtin_module_names:
        raise FaultError(ERR_BUILTIN_CONFLICT, f"Cannot use built-in module {modname} as a handler module")
    try:
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultError(ERR_IMPORT_MODULE, f"Unable to import module '{modname}': {e}") from None
    except SyntaxError as e:
        trace = [f'  File "{e.filename}" Line {e.lineno}\n    {e.text}']
        raise FaultError(ERR_SYNTAX, f"Syntax error in module '{modname}': {e}", trace) from None
    try:
        handler_fn: Handler = getattr(module, fname)
    except AttributeError:
        raise FaultError(ERR_HANDLER_NOT_FOUND, f"Handler '{fname}' missing on module '{modname}'") from None
    return handler_fn


class Channel:
    """The private request/response pipes to LocalStack."""

    def __init__(self) -> None:
        # Move the protocol pipes off fds 0/1 so user code cannot touch them.
        self.inp = os.fdopen(os.dup(0), "rb")
        self.out = os.fdopen(os.dup(1), "wb")
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        # Until the first invocation, stdout goes where stderr goes: the
        # environment's init log chosen by the parent.
        os.dup2(2, 1)
        # fd of the init log, to return to between invocations
        self.idle_fd = os.dup(2)

    def send(self, msg: dict[str, Any]) -> None:
        self.out.write(json.dumps(msg).encode() + b"\n")
        self.out.flush()

    def receive(self) -> dict[str, Any] | None:
        line = self.inp.readline()
        return json.loads(line) if line else None


def redirect_output(fd: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)


def invoke(handler: Handler, request: dict[str, Any]) -> dict[str, Any]:
    """Run one invocation with stdout/stderr appended to request["log_path"]."""
    reply: dict[str, Any] = {"type": "result", "request_id": request["request_id"]}
    log_fd = os.open(request["log_path"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    redirect_output(log_fd)
    os.close(log_fd)
    try:
        raw = request.get("payload") or "{}"
        try:
            event = json.loads(raw)
        except ValueError as e:
            raise FaultError(ERR_UNMARSHAL, f"Unable to unmarshal input: {e}") from None
        result = handler(event, LambdaContext(request))
        try:
            reply["payload"] = json.dumps(result)
        except (TypeError, ValueError) as e:
            raise FaultError(ERR_MARSHAL, f"Unable to marshal response: {e}") from None
        reply["ok"] = True
    except Exception as exc:
        err = error_object(exc)
        log_error(err)
        reply.update(ok=False, error=err)
    # SystemExit (sys.exit() in the handler) is not caught: the worker exits as the
    # runtime does on AWS, and the parent reports Runtime.ExitError.
    return reply


def main() -> None:
    channel = Channel()
    # The parent passes its settings in _HOSTEXEC_* variables; hide them from user code.
    code_dir = os.environ.pop("_HOSTEXEC_CODE_DIR")
    extra_path = [p for p in os.environ.pop("_HOSTEXEC_EXTRA_PATH", "").split(os.pathsep) if p]
    # Python put this script's directory (the plugin package) on sys.path: remove it,
    # then search as on AWS: code dir (/var/task), layers (/opt/python...), the rest.
    script_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [code_dir] + extra_path + [
        p for p in sys.path if os.path.abspath(p or os.curdir) != script_dir
    ]
    os.chdir(code_dir)

    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        err = error_object(exc)
        log_error(err)
        channel.send({"type": "init_error", "error": err})
        return
    channel.send({"type": "ready"})

    while True:
        request = channel.receive()
        if request is None:  # parent closed the channel
            return
        if request.get("type") != "invoke":
            continue
        reply = invoke(handler, request)
        redirect_output(channel.idle_fd)
        channel.send(reply)


if __name__ == "__main__":
    main()
