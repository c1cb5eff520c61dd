"""Which Python runs a function: the function's own ``STEPSTONE_LAMBDA_PYTHON``, else the
host executor's default (that variable in LocalStack's environment, else the first
``python3`` on PATH that is not LocalStack's own environment). Never LocalStack's own: the
functions must not share (or be able to break) its packages.

An *isolated* function (``STEPSTONE_LAMBDA_ISOLATED=1`` in its environment, as the CDK app
sets on LocalStack) runs as on AWS instead: with an interpreter of its runtime's version
(``python3.12`` for the ``python3.12`` runtime: pyenv's, else one on PATH), started with
``-I -S`` so that it sees its standard library, its code and its layers, and no
site-packages of this machine: an import its bundle lacks fails here as it would there."""

from __future__ import annotations

import functools
import os
import subprocess
import sys

from localstack.services.lambda_.invocation.runtime_executor import LambdaRuntimeException

__all__ = ["ISOLATED_ENV_VAR", "PYTHON_ENV_VAR", "isolated", "resolve_python"]

PYTHON_ENV_VAR = "STEPSTONE_LAMBDA_PYTHON"
ISOLATED_ENV_VAR = "STEPSTONE_LAMBDA_ISOLATED"


def isolated(function_env: dict[str, str]) -> bool:
    return function_env.get(ISOLATED_ENV_VAR) == "1"


@functools.cache
def _runtime_python(version: str) -> str:
    """An interpreter of Python ``version`` (not a venv's, not a pyenv shim)."""
    root = os.path.join(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv"), "versions")
    candidates = []
    if os.path.isdir(root):
        found = [d for d in os.listdir(root) if d == version or d.startswith(version + ".")]
        found.sort(key=lambda d: [int(x) if x.isdigit() else 0 for x in d.split(".")], reverse=True)
        candidates += [os.path.join(root, d, "bin", f"python{version}") for d in found]
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if directory and "shims" not in directory:
            candidates.append(os.path.join(directory, f"python{version}"))
    for candidate in candidates:
        if not os.access(candidate, os.X_OK):
            continue
        try:
            executable, found_version, prefix = _probe_python(candidate)
        except LambdaRuntimeException:
            continue
        if found_version == version and not _is_localstack_env(prefix):
            return executable
    raise LambdaRuntimeException(
        f"host executor: no Python {version} on this machine for a python{version} function"
        " (install it with pyenv, or deploy with -c stepstone:python=<a version you have>)"
    )


@functools.cache
def _probe_python(candidate: str) -> tuple[str, str, str]:
    """Run ``candidate`` once: (sys.executable, "X.Y", sys.prefix). This resolves pyenv
    shims to the real interpreter. Runs in / so that no .python-version file elsewhere
    influences a shim."""
    try:
        proc = subprocess.run(
            [candidate, "-c", "import sys; print(sys.executable); "
             "print('%d.%d' % sys.version_info[:2]); print(sys.prefix)"],
            cwd="/", capture_output=True, text=True, timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LambdaRuntimeException(f"cannot run Python {candidate!r}: {e}") from e
    if proc.returncode != 0:
        raise LambdaRuntimeException(
            f"cannot run Python {candidate!r}: exit {proc.returncode}: {proc.stderr.strip()[-500:]}"
        )
    executable, version, prefix = proc.stdout.splitlines()[:3]
    return executable, version, prefix


def _is_localstack_env(prefix: str) -> bool:
    # Compare environments (sys.prefix), not interpreter paths: a venv's bin/python is
    # a symlink to the base interpreter, so resolved paths would not reveal it.
    return os.path.realpath(prefix) == os.path.realpath(sys.prefix)


@functools.cache
def _default_python() -> str:
    if explicit := os.environ.get(PYTHON_ENV_VAR):
        return explicit
    # the first python3 on PATH that is not LocalStack's own environment
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(directory, "python3")
        if not directory or not os.access(candidate, os.X_OK):
            continue
        try:
            executable, _, prefix = _probe_python(candidate)
        except LambdaRuntimeException:  # broken interpreter or shim: try the next one
            continue
        if not _is_localstack_env(prefix):
            return executable
    raise LambdaRuntimeException(
        f"host executor: no Python for Lambda functions found; set {PYTHON_ENV_VAR}"
    )


def resolve_python(function_env: dict[str, str], runtime: str = "") -> tuple[str, str]:
    """(interpreter path, "X.Y") for a function: its runtime's (isolated), else its own
    override, else the default."""
    if isolated(function_env) and runtime.startswith("python"):
        version = runtime.removeprefix("python")
        return _runtime_python(version), version
    candidate = function_env.get(PYTHON_ENV_VAR) or _default_python()
    executable, version, prefix = _probe_python(candidate)
    if _is_localstack_env(prefix):
        # refused: functions must not share (or be able to break) LocalStack's packages
        raise LambdaRuntimeException(
            f"{executable} is LocalStack's own environment; point {PYTHON_ENV_VAR} at the"
            " Python that has the functions' dependencies"
        )
    return executable, version
