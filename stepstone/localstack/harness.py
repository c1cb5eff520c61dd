"""LocalStack on this machine, without Docker: installed, started, checked and stopped.

LocalStack gets its own virtual environment (it needs a newer Python than stepstone and
pins its own boto3), found and made at run time:

- ``localstack-core[runtime]==2026.3.0`` on a Python 3.13 (``$STEPSTONE_LOCALSTACK_PYTHON``,
  else the newest 3.13 that pyenv or ``PATH`` has);
- otherwise ``localstack-core[runtime]==4.9.2`` on the Python running stepstone (3.11 or
  3.12; the releases between need 3.13 for Step Functions to work);

each installed with the constraints file beside this module: a freeze of an environment
measured to work on this kind of machine.

Into it goes the plugin in ``plugin/`` that runs Lambda functions as host processes under
the Python running stepstone (so step code finds the project's packages). LocalStack binds
127.0.0.1 only, keeps its files in ``.stepstone/localstack/`` (``$STEPSTONE_LOCALSTACK_HOME``)
and runs in its own process group; its function processes end when it does (they read
their requests from it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import LocalStackError

__all__ = ["DEFAULT_HOST", "Install", "LocalStack", "LocalStackError", "Status", "choose_install"]

DEFAULT_HOST = "127.0.0.1:4566"
EXECUTOR = "stepstone"  # the plugin's entry point name (plugin/pyproject.toml)
HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "plugin"
START_TIMEOUT = 90.0
STOP_TIMEOUT = 10.0  # then SIGKILL: its state is in memory anyway, and function processes end with it
Progress = Callable[[str], None]


def this_python() -> str:
    """The Python running stepstone, by a stable name (``<venv>/bin/python`` whether it was
    started as python, python3 or python3.11): Lambda functions run with it."""
    stable = Path(sys.prefix) / "bin" / "python"
    return str(stable) if stable.exists() else sys.executable


@dataclass(frozen=True)
class Install:
    """Which LocalStack goes on which Python."""

    python: str
    python_version: str  # "3.13.0"
    localstack: str  # "2026.3.0"
    constraints: Path | None
    pins: tuple[str, ...]

    @property
    def requirements(self) -> list[str]:
        return [f"localstack-core[runtime]=={self.localstack}", *self.pins]


# (localstack-core, the Python it needs, pins beyond its own requirements): 2026.3.0 imports
# warnings.deprecated (3.13); 4.10-4.13 break Step Functions on 3.12; 4.9.2 runs on 3.11 and 3.12
NEWEST = ("2026.3.0", (3, 13), ("cbor2<6", "pyopenssl<26", "cryptography<47", "service-identity"))
FALLBACK = ("4.9.2", (3, 11), ("cbor2<6",))


def _python_version(python: str) -> tuple[int, ...] | None:
    try:
        done = subprocess.run([python, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
                              capture_output=True, text=True, timeout=30, cwd="/")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        return tuple(int(p) for p in done.stdout.strip().split("."))
    except ValueError:
        return None


def _candidates() -> list[str]:
    """Pythons that may run the newest LocalStack: pyenv's 3.13s (newest first), then PATH."""
    found: list[str] = []
    root = os.environ.get("PYENV_ROOT") or (shutil.which("pyenv") and subprocess.run(
        ["pyenv", "root"], capture_output=True, text=True).stdout.strip()) or str(Path.home() / ".pyenv")
    versions = Path(root) / "versions"
    if versions.is_dir():
        names = [p.name for p in versions.iterdir() if re.fullmatch(r"3\.13\.\d+", p.name)]
        for name in sorted(names, key=lambda n: tuple(int(x) for x in n.split(".")), reverse=True):
            found.append(str(versions / name / "bin" / "python"))
    for name in ("python3.13",):
        path = shutil.which(name)
        if path:
            found.append(path)
    return found


def choose_install() -> Install:
    """The LocalStack this machine can run (see the module docstring)."""
    version, minimum, pins = NEWEST
    explicit = os.environ.get("STEPSTONE_LOCALSTACK_PYTHON")
    for python in [explicit] if explicit else _candidates():
        found = _python_version(python)
        if found is None:
            if explicit:
                raise LocalStackError(f"STEPSTONE_LOCALSTACK_PYTHON={explicit} does not run")
            continue
        if found[:2] >= minimum:
            return Install(python, ".".join(map(str, found)), version, HERE / f"constraints-{version}.txt", pins)
        if explicit:
            return _fallback(python, found)
    return _fallback(sys.executable, tuple(sys.version_info[:3]))


def _fallback(python: str, version: tuple[int, ...]) -> Install:
    if version[:2] < FALLBACK[1]:
        raise LocalStackError(f"{python} is Python {'.'.join(map(str, version))}; LocalStack needs 3.11 or newer "
                              "(3.13 for the newest)")
    return Install(python, ".".join(map(str, version)), FALLBACK[0], HERE / f"constraints-{FALLBACK[0]}.txt",
                   FALLBACK[2])


def _plugin_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted(PLUGIN.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".egg-info"):
            digest.update(path.relative_to(PLUGIN).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class Status:
    running: bool
    endpoint: str
    pid: int | None = None
    ours: bool = False  # started by stepstone (from this home)
    version: str | None = None
    services: dict[str, str] | None = None
    rss_mb: float | None = None
    started: float | None = None
    log: Path | None = None


class LocalStack:
    """One LocalStack installation and its process, kept under ``home``."""

    def __init__(self, home: Path | str | None = None, host: str | None = None) -> None:
        self.home = Path(home or os.environ.get("STEPSTONE_LOCALSTACK_HOME") or ".stepstone/localstack").resolve()
        self.host = host or os.environ.get("STEPSTONE_LOCALSTACK_HOST") or DEFAULT_HOST
        self.venv = self.home / "venv"
        self.state = self.home / "state"
        self.log = self.home / "localstack.log"
        self.pid_file = self.home / "localstack.pid"
        self.marker = self.venv / "stepstone-installed.json"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}"

    # --- install ---------------------------------------------------------------------------

    def installed(self) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.marker.read_text())
        except (OSError, ValueError):
            return None
        return data

    def plugin_outdated(self) -> bool:
        """Whether stepstone's plugin here differs from the one in LocalStack's environment: a
        LocalStack running now runs the older one until it is restarted (``start`` installs it)."""
        installed = self.installed()
        return installed is not None and installed.get("plugin") != _plugin_hash()

    def _wanted(self, install: Install) -> dict[str, Any]:
        constraints = install.constraints.read_bytes() if install.constraints else b""
        return {"python": install.python_version, "localstack": install.localstack,
                "constraints": hashlib.sha256(constraints).hexdigest()[:16], "plugin": _plugin_hash()}

    def install(self, progress: Progress = lambda _: None) -> Install:
        """Make (or refresh) LocalStack's environment; cheap when nothing changed."""
        install = choose_install()
        wanted = self._wanted(install)
        have = self.installed() or {}
        python = self.venv / "bin" / "python"
        if have == wanted and python.exists():
            return install
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        if {k: have.get(k) for k in ("python", "localstack", "constraints")} != {
                k: wanted[k] for k in ("python", "localstack", "constraints")} or not python.exists():
            progress(f"installing LocalStack {install.localstack} on Python {install.python_version} "
                     f"into {self.venv} (once; about a minute)")
            if self.venv.exists():
                shutil.rmtree(self.venv)
            self._check(subprocess.run([install.python, "-m", "venv", str(self.venv)], capture_output=True,
                                       text=True), "creating LocalStack's virtual environment")
            command = [*pip, *install.requirements]
            if install.constraints:
                command += ["-c", str(install.constraints)]
            self._check(subprocess.run(command, capture_output=True, text=True), "installing LocalStack")
        progress("installing the stepstone Lambda executor plugin into LocalStack")
        build = self.home / "plugin-build"
        shutil.rmtree(build, ignore_errors=True)
        shutil.copytree(PLUGIN, build, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
        self._check(subprocess.run([*pip, "--force-reinstall", "--no-deps", str(build)],
                                   capture_output=True, text=True, cwd=self.home), "installing the plugin")
        shutil.rmtree(build, ignore_errors=True)
        self.marker.write_text(json.dumps(wanted, indent=2))
        return install

    @staticmethod
    def _check(done: subprocess.CompletedProcess[str], what: str) -> None:
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
            raise LocalStackError(f"{what} failed (exit {done.returncode}):\n{tail}")

    # --- process ---------------------------------------------------------------------------

    def _pid(self) -> int | None:
        try:
            pid = int(json.loads(self.pid_file.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return pid

    def health(self, timeout: float = 2.0) -> dict[str, Any] | None:
        try:
            with urllib.request.urlopen(f"{self.endpoint}/_localstack/health", timeout=timeout) as response:
                data: dict[str, Any] = json.loads(response.read())
                return data
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def status(self) -> Status:
        pid = self._pid()
        health = self.health()
        status = Status(running=health is not None, endpoint=self.endpoint, pid=pid, ours=pid is not None,
                        log=self.log if self.log.exists() else None)
        if health:
            status.version = health.get("version")
            status.services = health.get("services")
        if pid is not None:
            with contextlib.suppress(OSError, ValueError, KeyError):
                status.started = float(json.loads(self.pid_file.read_text())["started"])
            status.rss_mb = _group_rss_mb(pid)
        return status

    def start(self, progress: Progress = lambda _: None, lambda_python: str | None = None) -> Status:
        """Install if needed, start in the background, wait until healthy."""
        current = self.status()
        if current.running:
            return current
        if current.pid is not None:  # ours, but not answering: stop it before starting again
            self.stop()
        self.install(progress)
        self.home.mkdir(parents=True, exist_ok=True)
        self.state.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
        tmp = self.home / "tmp"  # LocalStack unzips function code under $TMPDIR/lambda; functions get it as /tmp
        cache = self.home / "cache"  # plux caches its entry-point index under $XDG_CACHE_HOME/plux
        for folder in (tmp, cache):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        env.update({
            "TMPDIR": str(tmp),
            "XDG_CACHE_HOME": str(cache),
            "GATEWAY_LISTEN": self.host,
            "GATEWAY_SERVER": "hypercorn",  # the default server ignores the host and binds 0.0.0.0
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "FILESYSTEM_ROOT": str(self.state),
            "LAMBDA_RUNTIME_EXECUTOR": EXECUTOR,
            "LAMBDA_KEEPALIVE_MS": "300000",  # each warm function is a process: let idle ones go
            "STEPSTONE_LAMBDA_PYTHON": lambda_python or this_python(),
            "PATH": os.environ.get("PATH", ""),
        })
        progress(f"starting LocalStack on {self.host}")
        started = time.time()
        with open(self.log, "ab") as log:
            log.write(f"\n--- started by stepstone at {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
            log.flush()
            process = subprocess.Popen([str(self.venv / "bin" / "python"), "-m", "localstack.runtime.main"],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                                       cwd=self.home, start_new_session=True)  # pid == process group id
        self.pid_file.write_text(json.dumps({"pid": process.pid, "started": started, "host": self.host}))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.pid_file.unlink(missing_ok=True)
                raise LocalStackError(f"LocalStack exited with status {process.returncode} while starting; "
                                      f"the end of {self.log}:\n{self.log_tail()}")
            if self.health(timeout=1.0) is not None:
                return self.status()
            time.sleep(0.2)
        self.stop()
        raise LocalStackError(f"LocalStack did not answer on {self.endpoint} within {START_TIMEOUT:.0f} s; "
                              f"the end of {self.log}:\n{self.log_tail()}")

    def stop(self) -> bool:
        """Stop the LocalStack this home started (and its function processes); False if none ran."""
        pid = self._pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and _group_alive(pid):
            _reap(pid)
            time.sleep(0.1)
        if _group_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            time.sleep(0.2)
        _reap(pid)
        self.pid_file.unlink(missing_ok=True)
        shutil.rmtree(self.home / "tmp", ignore_errors=True)  # unzipped code, function temp folders
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.rstrip().splitlines()[-lines:])

    def executor_problem(self) -> str | None:
        """A line of the log saying the Lambda plugin did not load (plux drops it silently)."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return None
        for line in reversed(text.splitlines()):
            if "Invalid specified plugin name" in line or "No component plugins" in line:
                return line.strip()
            if "started by stepstone" in line:
                return None
        return None


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when LocalStack is this process's child (started in this session)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _group_rss_mb(pid: int) -> float | None:
    """Resident memory of LocalStack and its function processes, its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    try:
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            stat = (entry / "stat").read_text()
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])  # field 4: the parent
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss[int(entry.name)] = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            continue
    family, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in family} - family
        family |= more
        grew = bool(more)
    total = sum(rss.get(p, 0) for p in family)
    return total / 1024 if total else None
