"""6. Lambda cold start of the step runner: the import time of its handler module, and its size.

Lambda's cold start imports the handler's module, ``lambdas.step_runner``, before the first
invocation runs. ``python -X importtime -c "import lambdas.step_runner"`` runs in a fresh
interpreter (the first of the runs warms the disk cache; the least of them counts), and the
time is the cumulative figure of its top-level ``lambdas.step_runner`` line: every module it
pulls in, and nothing of the interpreter's own start. The environment is Lambda's as far as
the imports can tell (``LAMBDA_TASK_ROOT``, ``AWS_LAMBDA_FUNCTION_NAME``, ``AWS_REGION``...):
Powertools' Tracer sees it is in Lambda, turns tracing on and patches the AWS SDK, as it
does there. Two places it is imported from:

- this venv (the repository root, with the ``.pyc`` files Python keeps here): the figure the
  issue asks for;
- as deployed: only the CDK app's code asset and dependency layer (``cdk/bundle.py``: the
  same folders ``cdk deploy`` uploads, built here without Docker and cached under
  ``.stepstone/cdk/``) on ``sys.path`` with the standard library, ``-S`` (no site-packages
  of ours) and ``-B`` (nothing written into the bundle). The bundle carries its bytecode
  (``cdk/bundle.py`` compiles it in: Lambda's file system is read-only, so without it every
  cold start compiles every module from source); the note says what the same bundle costs
  without it.

The baseline is the floor of any Python handler: ``python -X importtime -c pass`` with the
same flags, the modules the interpreter imports at start (``encodings``, ``site``...), summed
over its top-level lines. The note lists the five heaviest packages (self time summed over
their modules).

The size is what the function carries: the code asset (the runner's packages) plus the
dependency layer, unzipped (Lambda's limit is 250 MB unzipped, function and layers together)
and zipped (what is uploaded). The baseline is the same without boto3 and its dependencies,
which Lambda's Python runtime already has: the least the runner must bring.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .core import ROOT, Context, Figure

__all__ = ["ImportLine", "heaviest", "parse_importtime", "run", "startup_ms", "total_ms"]

HANDLER_MODULE = "lambdas.step_runner"
GOAL_MS = 150.0
LAMBDA_LIMIT_MB = 250.0  # unzipped, the function's code and all its layers (MB as AWS counts: 2**20 bytes)
MB = 2**20
# what Lambda's runtime puts in the environment before it imports the handler (the values are examples)
LAMBDA_ENV = {"AWS_LAMBDA_FUNCTION_NAME": "stepstone-step", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
              "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
              "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
              "STEPSTONE_ARTIFACT_BUCKET": "stepstone-artifacts"}
# provided by Lambda's Python runtime: the layer need not carry them
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "python_dateutil", "six")

_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


@dataclass(frozen=True)
class ImportLine:
    self_us: int
    cumulative_us: int
    level: int  # 0: imported by the top-level code (or the interpreter's start)
    name: str


def parse_importtime(stderr: str) -> list[ImportLine]:
    """The ``-X importtime`` lines (``import time: self [us] | cumulative | imported package``)."""
    found = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            found.append(ImportLine(int(match[1]), int(match[2]), len(match[3]) // 2, match[4]))
    return found


def startup_ms(lines: list[ImportLine]) -> float:
    """What the interpreter's own start imports: the sum of the top-level lines of ``-c pass``."""
    return sum(line.cumulative_us for line in lines if line.level == 0) / 1000


def total_ms(lines: list[ImportLine], module: str, startup: set[str]) -> float:
    """The import time of ``module``: its top-level line's cumulative time (or, when its parent
    package shows as a line of its own, every top-level line that is not the interpreter's start)."""
    for line in lines:
        if line.level == 0 and line.name == module:
            return line.cumulative_us / 1000
    return sum(line.cumulative_us for line in lines if line.level == 0 and line.name not in startup) / 1000


def heaviest(lines: list[ImportLine], startup: set[str], count: int = 5) -> list[tuple[str, float]]:
    """The top-level packages whose modules took longest (self time summed), in ms."""
    by_package: dict[str, int] = defaultdict(int)
    for line in lines:
        if line.name not in startup:
            by_package[line.name.split(".")[0]] += line.self_us
    ranked = sorted(by_package.items(), key=lambda item: -item[1])[:count]
    return [(name, us / 1000) for name, us in ranked]


def _importtime(python: str, flags: list[str], code: str, cwd: Path, env: dict[str, str]) -> list[ImportLine]:
    done = subprocess.run([python, *flags, "-X", "importtime", "-c", code], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=300)
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if not line.startswith("import time:")]
        raise RuntimeError(f"`python {' '.join(flags)} -c {code!r}` failed: " + " | ".join(errors[-4:]))
    return parse_importtime(done.stderr)


@dataclass
class Imports:
    handler_ms: float
    startup_ms: float
    top: list[tuple[str, float]]

    def top_text(self) -> str:
        return ", ".join(f"{name} {ms:.0f} ms" for name, ms in self.top)


def measure_imports(python: str, flags: list[str], cwd: Path, env: dict[str, str], repeat: int) -> Imports:
    """Best of ``repeat`` fresh interpreters importing the handler, and of as many doing nothing."""
    baselines = [_importtime(python, flags, "pass", cwd, env) for _ in range(repeat)]
    startup = {line.name for lines in baselines for line in lines}
    floor = min(startup_ms(lines) for lines in baselines)
    runs = [_importtime(python, flags, f"import {HANDLER_MODULE}", cwd, env) for _ in range(repeat)]
    best = min(runs, key=lambda lines: total_ms(lines, HANDLER_MODULE, startup))
    return Imports(total_ms(best, HANDLER_MODULE, startup), floor, heaviest(best, startup))


# --- the bundle -------------------------------------------------------------------------------


@contextmanager
def _build_root() -> Iterator[None]:
    """The CDK app's build cache (``.stepstone/cdk`` under the repository root), whatever the cwd."""
    before = os.environ.get("STEPSTONE_CDK_BUILD")
    if before is None:
        os.environ["STEPSTONE_CDK_BUILD"] = str(ROOT / ".stepstone" / "cdk")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("STEPSTONE_CDK_BUILD", None)


def bundle_folders(ctx: Context) -> tuple[Path, Path | None, str]:
    """The code asset and the dependency layer the CDK app deploys (the layer: None and why, if it
    could not be built)."""
    from cdk import bundle
    from compiler.deployment.lock import RUNNER_REQUIREMENTS, Declared, LockError, ensure_lock
    from compiler.deployment.runtimes import runtime_for

    with _build_root():
        code = bundle.code_folder(None)
        ctx.say("cold-start: the runner's packages (cdk/bundle.py; uv downloads them on first use, then they are "
                "cached), for this Python so that this machine can import them")
        runtime = runtime_for(bundle.PYTHON)
        try:
            folder = ctx.work / "cold-start"
            folder.mkdir(parents=True, exist_ok=True)
            lock = ensure_lock(Declared(folder / "runner.py", RUNNER_REQUIREMENTS, ()), runtime)
            layer = bundle.packages_folder(lock, RUNNER_REQUIREMENTS, runtime, "x86_64").folder
        except (bundle.BundleError, LockError) as exc:
            return code, None, str(exc)
    return code, layer, ""


def _files(folder: Path) -> Iterator[Path]:
    return (path for path in sorted(folder.rglob("*")) if path.is_file())


def unzipped_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in _files(folder))


def zipped_bytes(folder: Path, into: Path) -> int:
    """The size of ``folder`` zipped (deflate), as the CDK uploads an asset folder."""
    into.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(into, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _files(folder):
            archive.write(path, path.relative_to(folder).as_posix())
    size = into.stat().st_size
    into.unlink()
    return size


def runtime_provided_bytes(site: Path) -> int:
    """What of the layer's ``python/`` folder Lambda's runtime already has (boto3 and its dependencies)."""
    total = 0
    for entry in site.iterdir():
        key = re.split(r"[-.]", entry.name, maxsplit=1)[0].lower().replace("-", "_")
        if key in RUNTIME_PROVIDED:
            total += unzipped_bytes(entry) if entry.is_dir() else entry.stat().st_size
    return total


def without_bytecode(ctx: Context, code: Path, layer: Path) -> Path:
    """A copy of the bundle without its bytecode (what a cold start costs that compiles from source)."""
    parent = ctx.work / "cold-start" / "source-only"
    folder = parent / f"{code.name}+{layer.name}"
    if not folder.exists():
        shutil.rmtree(parent, ignore_errors=True)  # older bundles' copies
        partial = folder.with_name(folder.name + ".partial")
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(code, partial / "code", ignore=ignore)
        shutil.copytree(layer / "python", partial / "layer", ignore=ignore)
        partial.rename(folder)
    return folder


# --- the figures ------------------------------------------------------------------------------


def _lambda_env(task_root: Path, pythonpath: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
           and not k.startswith(("AWS_", "POWERTOOLS_", "STEPSTONE_"))}
    env.update(LAMBDA_ENV, LAMBDA_TASK_ROOT=str(task_root), PYTHONDONTWRITEBYTECODE="1")
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    return env


def _import_figure(name: str, imports: Imports, baseline_name: str, note: str) -> Figure:
    return Figure("cold-start", name, imports.handler_ms, "ms", baseline_name, imports.startup_ms,
                  goal=f"< {GOAL_MS:.0f} ms", met=imports.handler_ms < GOAL_MS,
                  note=f"heaviest: {imports.top_text()}" + (f"; {note}" if note else ""))


def run(ctx: Context) -> list[Figure]:
    repeat = ctx.size(5, 2)
    python = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
    scratch = ctx.work / "cold-start"
    empty = scratch / "cwd"  # the deployed imports run from here: nothing of the repository beside them
    empty.mkdir(parents=True, exist_ok=True)

    ctx.say(f"cold-start: python -X importtime -c 'import {HANDLER_MODULE}' in this venv, best of {repeat}")
    # here the venv's .pyc are written and reused, as a developer's are
    venv_env = {**_lambda_env(ROOT)}
    venv_env.pop("PYTHONDONTWRITEBYTECODE")
    here = measure_imports(python, [], ROOT, venv_env, repeat)
    figures = [_import_figure(f"import {HANDLER_MODULE} (this venv, .pyc cached)", here,
                              "python -X importtime -c pass (the interpreter's start)", "")]

    code, layer, problem = bundle_folders(ctx)
    if layer is None:
        figures.append(Figure("cold-start", f"import {HANDLER_MODULE} as deployed", None, "ms",
                              note=f"the dependency layer could not be built: {problem[-300:]}"))
        figures.append(Figure("cold-start", "package size (code + layer, unzipped)", None, "MB",
                              note=f"the dependency layer could not be built: {problem[-300:]}"))
        return figures

    ctx.say(f"cold-start: the same import from the deployed bundle only ({code.name}, {layer.name})")
    deployed = measure_imports(python, ["-S", "-B"], empty, _lambda_env(code, f"{code}{os.pathsep}{layer / 'python'}"),
                               repeat)
    source = without_bytecode(ctx, code, layer)
    from_source = measure_imports(python, ["-S", "-B"], empty, _lambda_env(
        source / "code", f"{source / 'code'}{os.pathsep}{source / 'layer'}"), repeat)
    figures.append(_import_figure(
        f"import {HANDLER_MODULE} as deployed (code asset + layer, .pyc in)", deployed,
        "python -S -X importtime -c pass", f"the same bundle without its .pyc: {from_source.handler_ms:.0f} ms"))

    ctx.say("cold-start: the package's size, unzipped and zipped")
    code_bytes, layer_bytes = unzipped_bytes(code), unzipped_bytes(layer)
    code_zip = zipped_bytes(code, scratch / "code.zip")
    layer_zip = zipped_bytes(layer, scratch / "layer.zip")
    provided = runtime_provided_bytes(layer / "python")
    pyc_bytes = code_bytes + layer_bytes - unzipped_bytes(source)
    total = (code_bytes + layer_bytes) / MB
    figures.append(Figure(
        "cold-start", "package size (code + layer, unzipped)", total, "MB",
        "the same without boto3 and its dependencies (Lambda's runtime has them)",
        (code_bytes + layer_bytes - provided) / MB,
        goal=f"<= {LAMBDA_LIMIT_MB:.0f} MB unzipped (Lambda's limit)", met=total <= LAMBDA_LIMIT_MB,
        note=(f"code {code_bytes / MB:.1f} MB ({code_zip / MB:.2f} MB zipped), layer {layer_bytes / MB:.1f} MB "
              f"({layer_zip / MB:.1f} MB zipped; boto3 and its dependencies {provided / MB:.1f} MB of it); "
              f"of which bytecode {pyc_bytes / MB:.1f} MB; MB = 2**20 bytes")))
    return figures


if __name__ == "__main__":  # pragma: no cover - a quick look: python -m benchmarks.cold_start [--smoke]
    for figure in run(Context(smoke="--smoke" in sys.argv, say=print)):
        print(figure)
