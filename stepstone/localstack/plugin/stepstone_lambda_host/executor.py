"""A LocalStack ``RuntimeExecutor`` that runs Python Lambda handlers as host subprocesses.

LocalStack's community edition runs Lambda functions only in Docker containers; on a
machine without a Docker engine this executor runs them as processes of the host, with
the semantics Step Functions relies on: the event in, the result (or an error named after
the exception class, so Retry/Catch match it) out, the function timeout enforced, the logs
captured into CloudWatch Logs.

How it plugs in (localstack-core 2026.3.0; 4.9.2 has the same interface and contract):

* ``ExecutionEnvironment`` (lambda_/invocation/execution_environment.py) creates one
  executor per execution environment: ``executor_cls(id, function_version)``.
* ``start(env_vars)`` is called once; ``env_vars`` are the Lambda runtime variables
  LocalStack computed (``_HANDLER``, ``AWS_LAMBDA_FUNCTION_NAME``, credentials,
  ``AWS_ENDPOINT_URL`` built from ``get_endpoint_from_executor()``, the function's
  own Environment, ...).
* ``invoke(payload)`` is called for each invocation, never concurrently for one
  executor, with ``payload = {"invoke-id", "invoked-function-arn", "payload" (str),
  "trace-id"}``. It must block and RETURN an ``InvocationResult``. (The Docker
  executor also returns it: its container POSTs to ``/_localstack_lambda/<id>/...``
  and ``ExecutorEndpoint.invoke`` blocks on a future until that callback arrives.
  We need no HTTP callback: the result comes back over the worker's pipe.)
* ``InvocationResult(is_error=True, payload=<JSON error document>)`` becomes
  ``FunctionError: Unhandled`` on the Invoke API; Step Functions reads ``errorType``
  from that document as the error name for Retry/Catch.
* ``InvocationResult.logs`` is written by LocalStack (version_manager.store_logs) to
  CloudWatch Logs group ``/aws/lambda/<function>``, stream
  ``YYYY/MM/DD/[<qualifier>]<environment id>``.
* ``stop()`` is called when the environment is retired (keep-alive expiry,
  function update/delete, LocalStack shutdown, startup timeout).
* ``prepare_version``/``cleanup_version`` (classmethods) run when a function version
  becomes active/is removed; ``validate_environment`` once when the Lambda service starts.

Each executor owns one long-lived worker process (``worker.py``, run by the function
Python, see ``resolve_python``): the handler module is imported once at start and
reused by later invocations (warm starts), as in a real execution environment.
After a timeout or a crash the worker is killed and lazily restarted (cold start)
by the next invocation. Code deployed from a host folder (S3Bucket "hot-reload")
is watched: an edit restarts the worker before the next invocation.

Error documents returned as function errors (``errorType``):
  <exception class name>        the handler raised (e.g. ``DataError``)
  Sandbox.Timedout              the function timeout passed; the process group is killed
  Runtime.ExitError             the worker died (sys.exit, signal, OOM kill)
  Runtime.ImportModuleError, Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError, ...
                                the handler could not be loaded (init error)
  Runtime.HostPythonError       the configured interpreter is missing, broken, or LocalStack's own
  Runtime.Unsupported           not a Python zip function (image or non-Python runtimes)

Configuration (environment of the LocalStack process):

* ``STEPSTONE_LAMBDA_PYTHON``: interpreter that runs the functions (must have the
  functions' dependencies; LocalStack's own venv is refused). A function can override it
  with the same variable in its own Environment. Default: the first ``python3`` on
  PATH outside LocalStack's venv (pyenv shims resolved to the real interpreter).
* ``STEPSTONE_LAMBDA_ISOLATED=1`` in a function's Environment: run it with an interpreter of
  its runtime's version, isolated from this machine's packages (``interpreter.py``).
* ``STEPSTONE_LAMBDA_PASS_ENV``: comma-separated names of host variables to pass
  to functions in addition to PATH, HOME, LANG, LC_ALL, TMPDIR, USER, LOGNAME.
"""

import collections
import contextlib
import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from localstack import config
from localstack.aws.api.lambda_ import PackageType
from localstack.services.lambda_.invocation.executor_endpoint import (
    NAMESPACE,
    StatusErrorException,
)
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)

from .functions import code_dirs, error_payload, peak_rss_mb, tree_mtime
from .interpreter import PYTHON_ENV_VAR, isolated, resolve_python

LOG = logging.getLogger(__name__)

PASS_ENV_VAR = "STEPSTONE_LAMBDA_PASS_ENV"
WORKER_SCRIPT = Path(__file__).with_name("worker.py")
# host variables every function gets (besides its Lambda variables)
BASE_PASS_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME")
# bytes of environment log kept in memory for get_logs()
MAX_ENV_LOG_BYTES = 64 * 1024
# how long stop() waits for a worker to exit after closing its stdin
STOP_GRACE_SECONDS = 2.0


class _WorkerExited(Exception):
    pass


# --------------------------------------------------------------------------------------
# the executor


class HostRuntimeExecutor(RuntimeExecutor):  # type: ignore[misc]  # LocalStack is not installed here
    """Runs one execution environment of a Python zip function as a host process."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:  # noqa: A002 (LocalStack's name)
        super().__init__(id=id, function_version=function_version)
        self._env: dict[str, str] = {}  # worker environment, set by start()
        self._python = ""
        self._workdir = Path()  # per-environment temp dir (log files), made by start()
        self._proc: subprocess.Popen[bytes] | None = None
        self._buf = bytearray()  # unread bytes from the worker's reply pipe
        self._init_error: dict[str, Any] | None = None  # init failure of the current worker
        self._init_ms: float | None = None  # init duration to report on the next invoke
        self._init_log_pos = 0  # bytes of init.log already handed out
        self._env_log: collections.deque[str] = collections.deque()  # for get_logs()
        self._env_log_size = 0
        self._invoke_lock = threading.Lock()  # invocations are sequential anyway
        self._proc_lock = threading.Lock()  # guards spawn/kill of self._proc
        self._stopped = False
        # hot reloading (code from a host folder: S3Bucket "hot-reload"): watched dirs and
        # their fingerprint when the worker started; None when the code is a zip
        self._watch: list[Path] | None = None
        self._watch_mtime = 0.0
        self._isolated = False  # run as on AWS: its runtime's Python, its code and layers only

    # ---- RuntimeExecutor interface -----------------------------------------------

    def start(self, env_vars: dict[str, str]) -> None:
        cfg = self.function_version.config
        runtime = str(cfg.runtime or "")
        if cfg.package_type != PackageType.Zip or not runtime.startswith("python"):
            # StatusErrorException is how an environment startup failure becomes a
            # function error (version_manager turns its payload into the invoke result).
            raise StatusErrorException(
                "unsupported function",
                payload=error_payload(
                    "Runtime.Unsupported",
                    f"host executor runs only Python zip functions, not {cfg.package_type} {runtime}",
                ),
            )
        env_vars = {k: str(v) for k, v in env_vars.items()}
        try:
            self._python, py_version = resolve_python(env_vars, runtime)
            self._isolated = isolated(env_vars)
        except LambdaRuntimeException as e:
            raise StatusErrorException(
                str(e), payload=error_payload("Runtime.HostPythonError", str(e))
            ) from e
        if runtime != f"python{py_version}":
            LOG.debug(
                "host executor: %s (%s) runs with Python %s (%s)",
                self.function_version.id.function_name, runtime, py_version, self._python,
            )
        code_dir, extra_path = code_dirs(self.function_version)
        if cfg.code.is_hot_reloading() or any(
            layer.code and layer.code.is_hot_reloading() for layer in cfg.layers or []
        ):
            self._watch = [code_dir, *extra_path]
        self._workdir = Path(tempfile.mkdtemp(prefix=f"stepstone-fn-{self.id[:8]}-"))
        self._env = self._worker_env(env_vars, runtime, code_dir, extra_path)
        self._spawn()

    def stop(self) -> None:
        self._stopped = True
        self._kill(graceful=True)
        if self._workdir != Path():
            shutil.rmtree(self._workdir, ignore_errors=True)

    def get_address(self) -> str:
        # The environment runs on this host. (Only used by the Docker path.)
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        """Host where the function reaches LocalStack; used for AWS_ENDPOINT_URL and
        LOCALSTACK_HOSTNAME in the function environment."""
        host = config.GATEWAY_LISTEN[0].host
        return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host

    def get_runtime_endpoint(self) -> str:
        # Required by the interface and exported as LOCALSTACK_RUNTIME_ENDPOINT, but
        # unused: results come back over the worker's pipe, not via HTTP callbacks.
        return (
            f"http://{self.get_endpoint_from_executor()}:{config.GATEWAY_LISTEN[0].port}"
            f"{NAMESPACE}/{self.id}"
        )

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        """Run one invocation and return its result (the contract in 2026.3.0: the
        caller blocks on this return value; nothing is POSTed back)."""
        request_id = payload["invoke-id"]
        with self._invoke_lock:
            if self._stopped:
                raise LambdaRuntimeException(f"host executor {self.id} is stopped")
            logs = ""
            try:
                self._ensure_worker()
                logs = self._take_init_log()
                logs += f"START RequestId: {request_id} Version: {self.function_version.id.qualifier}\n"
                if self._init_error:
                    # the handler could not be loaded: this invocation fails with the init
                    # error, and the next one retries the init in a fresh worker
                    body, is_error, duration_ms = json.dumps(self._init_error).encode(), True, 0.0
                    self._init_error = None
                    self._kill()
                else:
                    body, is_error, duration_ms, handler_logs = self._run(request_id, payload)
                    logs += handler_logs
            except LambdaRuntimeException as e:  # the worker could not be (re)started
                body, is_error, duration_ms = error_payload("Runtime.ExitError", str(e)), True, 0.0
                logs += self._take_init_log() + f"RequestId: {request_id} Error: {e}\n"
            peak = peak_rss_mb(self._proc.pid) if self._proc else None
            logs += self._report_lines(request_id, duration_ms, peak)
            self._remember(logs)
            return InvocationResult(request_id, body, is_error=is_error, logs=logs)

    def _ensure_worker(self) -> None:
        if self._watch and tree_mtime(self._watch) != self._watch_mtime:
            # hot-reloaded code changed: restart so that the handler module is re-imported
            # (the Docker executor's init restarts the runtime the same way)
            self._kill()
        if self._proc is None or self._proc.poll() is not None:
            self._spawn()  # cold start: first use, or after a timeout, crash or code change

    def _run(self, request_id: str, payload: dict[str, str]) -> tuple[bytes, bool, float, str]:
        """Send the event to the worker and wait for the reply, at most the function
        timeout. Returns (result or error document, is_error, duration ms, logs)."""
        timeout = float(self.function_version.config.timeout)
        log_path = self._workdir / f"{request_id}.log"  # the worker appends stdout+stderr
        started = time.monotonic()
        request = {
            "type": "invoke",
            "request_id": request_id,
            "invoked_function_arn": payload.get("invoked-function-arn", ""),
            "payload": payload.get("payload") or "{}",
            "deadline_ms": (time.time() + timeout) * 1000,
            "log_path": str(log_path),
        }
        tail = ""
        try:
            self._send(request)
            reply = self._receive(deadline=started + timeout)
            if reply.get("ok"):
                body, is_error = reply["payload"].encode(), False
            else:  # the handler raised: errorType is the exception class name
                body, is_error = json.dumps(reply["error"]).encode(), True
        except TimeoutError:
            self._kill()  # the whole process group, so children die too
            message = f"Task timed out after {timeout:.2f} seconds"
            body, is_error = error_payload("Sandbox.Timedout", f"RequestId: {request_id} Error: {message}"), True
            tail = f"{self._timestamp()} {request_id} {message}\n"
        except _WorkerExited as e:  # sys.exit(), os._exit(), a signal, an OOM kill...
            self._kill()
            body, is_error = error_payload("Runtime.ExitError", f"RequestId: {request_id} Error: {e}"), True
            tail = f"RequestId: {request_id} Error: {e}\n"
        duration_ms = (time.monotonic() - started) * 1000
        try:
            handler_logs = log_path.read_text(errors="replace")
            log_path.unlink()
        except OSError:  # the handler printed nothing
            handler_logs = ""
        return body, is_error, duration_ms, handler_logs + tail

    def get_logs(self) -> str:
        # Used by LocalStack for diagnostics (startup failures, missing invoke logs).
        return "".join(self._env_log) + self._peek_init_log()

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        # Unzip the code (and layers) once per version, as the Docker executor does.
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers or []:
            if layer.code:
                layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        # Nothing per version: the unzipped code is LocalStack's cache, removed by it.
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        try:
            python, version = resolve_python({})
        except Exception as e:
            LOG.warning("host Lambda executor: no usable Python for functions: %s", e)
            return False
        LOG.info("host Lambda executor: Python functions run with %s (Python %s)", python, version)
        return True

    # ---- worker process ----------------------------------------------------------

    def _worker_env(
        self, env_vars: dict[str, str], runtime: str, code_dir: Path, extra_path: list[Path]
    ) -> dict[str, str]:
        """Environment of the worker: a few host variables (never LocalStack's venv or
        PYTHONPATH), then the Lambda variables LocalStack computed, adapted to the host."""
        names = list(BASE_PASS_ENV) + [
            n.strip() for n in os.environ.get(PASS_ENV_VAR, "").split(",") if n.strip()
        ]
        env = {n: os.environ[n] for n in names if n in os.environ}
        venv_bin = os.path.realpath(os.path.join(sys.prefix, "bin"))
        env["PATH"] = os.pathsep.join(
            p for p in env.get("PATH", "").split(os.pathsep) if p and os.path.realpath(p) != venv_bin
        )
        env.update(env_vars)
        env.pop(PYTHON_ENV_VAR, None)
        env.update(
            {
                "LAMBDA_TASK_ROOT": str(code_dir),
                "LAMBDA_RUNTIME_DIR": str(WORKER_SCRIPT.parent),
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
                "PYTHONUNBUFFERED": "1",
                # hot-reloaded code: write no .pyc into the user's folder. Python validates a
                # .pyc by source mtime in whole seconds plus size, so an edit within the same
                # second as the last import could otherwise run stale bytecode.
                **({"PYTHONDONTWRITEBYTECODE": "1"} if self._watch else {}),
                "_HOSTEXEC_CODE_DIR": str(code_dir),
                "_HOSTEXEC_EXTRA_PATH": os.pathsep.join(map(str, extra_path)),
            }
        )
        return env

    def _spawn(self) -> None:
        """Start a worker and wait until it has imported the handler (the init phase)."""
        with self._proc_lock:
            if self._stopped:
                raise LambdaRuntimeException(f"host executor {self.id} is stopped")
            if self._watch:
                self._watch_mtime = tree_mtime(self._watch)
            started = time.monotonic()
            self._buf.clear()
            with open(self._workdir / "init.log", "ab") as init_log:
                flags = ["-I", "-S", *(["-B"] if self._watch else [])] if self._isolated else []
                proc = self._proc = subprocess.Popen(
                    [self._python, *flags, "-u", str(WORKER_SCRIPT)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=init_log,  # init output; the worker points stdout here too
                    cwd=self._env["_HOSTEXEC_CODE_DIR"],
                    env=self._env,
                    bufsize=0,
                    start_new_session=True,  # own process group: a timeout kills children too
                    close_fds=True,
                )
        LOG.debug(
            "host executor %s: started worker pid %s for %s",
            self.id, proc.pid, self.function_version.qualified_arn,
        )
        try:
            msg = self._receive(deadline=started + config.LAMBDA_RUNTIME_ENVIRONMENT_TIMEOUT)
        except (TimeoutError, _WorkerExited) as e:
            self._kill()
            raise LambdaRuntimeException(f"Lambda worker failed to start: {e}") from e
        self._init_ms = (time.monotonic() - started) * 1000
        self._init_error = msg.get("error") if msg.get("type") == "init_error" else None

    def _send(self, msg: dict[str, Any]) -> None:
        data = memoryview(json.dumps(msg).encode() + b"\n")
        try:
            fd = self._proc.stdin.fileno()  # type: ignore[union-attr]  # a stopped worker: AttributeError
            while data:  # a raw pipe write may be partial for large payloads
                data = data[os.write(fd, data) :]
        except (OSError, AttributeError, ValueError) as e:
            raise _WorkerExited(self._exit_text()) from e

    def _receive(self, deadline: float) -> dict[str, Any]:
        """Next JSON line from the worker; TimeoutError at ``deadline`` (monotonic),
        _WorkerExited if the worker closes the pipe (exit, crash, or stop())."""
        proc = self._proc
        if proc is None or proc.stdout is None:
            raise _WorkerExited("Runtime was stopped")
        fd = proc.stdout.fileno()
        while (newline := self._buf.find(b"\n")) < 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError()
            try:
                ready, _, _ = select.select([fd], [], [], remaining)
                chunk = os.read(fd, 1 << 16) if ready else None
            except (OSError, ValueError):  # pipe closed by _kill() from another thread
                chunk = b""
            if chunk == b"":
                raise _WorkerExited(self._exit_text())
            if chunk:
                self._buf += chunk
        line = bytes(self._buf[:newline])
        del self._buf[: newline + 1]
        message: dict[str, Any] = json.loads(line)
        return message

    def _exit_text(self) -> str:
        proc = self._proc
        code = None
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                code = proc.wait(timeout=1)
        if code is None:
            return "Runtime exited without providing a reason"
        if code < 0:
            return f"Runtime exited with error: signal: {signal.Signals(-code).name.lower()}"
        return f"Runtime exited with error: exit status {code}"

    def _kill(self, graceful: bool = False) -> None:
        """Terminate the worker and its whole process group."""
        with self._proc_lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        if graceful and proc.poll() is None and proc.stdin is not None:
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                proc.stdin.close()  # worker exits on EOF once idle
                proc.wait(timeout=STOP_GRACE_SECONDS)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # also children the handler started
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()

    # ---- logs ----------------------------------------------------------------------

    def _take_init_log(self) -> str:
        """Output the worker wrote outside invocations (import time, background threads)
        since the last call; it is prepended to the next invocation's log, as AWS
        shows init output before START."""
        text = self._peek_init_log()
        self._init_log_pos += len(text.encode())
        return text

    def _peek_init_log(self) -> str:
        if self._workdir == Path():
            return ""
        try:
            with open(self._workdir / "init.log", "rb") as f:
                f.seek(self._init_log_pos)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def _report_lines(self, request_id: str, duration_ms: float, peak_mb: int | None) -> str:
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {max(1, int(duration_ms + 0.999))} ms\t"
            f"Memory Size: {self.function_version.config.memory_size} MB\t"
            f"Max Memory Used: {peak_mb if peak_mb is not None else '-'} MB"
        )
        if self._init_ms is not None:  # first invocation of this worker: a cold start
            report += f"\tInit Duration: {self._init_ms:.2f} ms"
            self._init_ms = None
        return f"END RequestId: {request_id}\n{report}\n"

    @staticmethod
    def _timestamp() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"

    def _remember(self, text: str) -> None:
        self._env_log.append(text)
        self._env_log_size += len(text)
        while self._env_log_size > MAX_ENV_LOG_BYTES and len(self._env_log) > 1:
            self._env_log_size -= len(self._env_log.popleft())
