"""What the CDK app uploads, made without Docker: the functions' code, their packages and
the build contexts of the images ``cdk deploy`` builds.

- code: the files ``compiler.sources`` lists for a workflow file, copied into a folder
  named after their content hash;
- packages: the part of the workflow file's lock (``compiler/deployment/lock.py``) a
  function needs, installed by uv for the function's runtime and architecture (Lambda's
  manylinux tags, wheels only, every hash checked): a zip function's layer, or what its
  image installs;
- image contexts: the code, the exact hashed requirements and a Dockerfile (a Lambda
  function on AWS's Lambda base image, or the Batch runner). ``cdk synth`` only hashes
  them; ``cdk deploy`` builds them where Docker is.

Everything lands under ``.stepstone/cdk/`` (``$STEPSTONE_CDK_BUILD``) and is reused while
its inputs are unchanged.
"""

from __future__ import annotations

import hashlib
import os
import py_compile
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compiler.deployment.lock import Lock, bundle_requirements, folder_size, install
from compiler.deployment.runtimes import Architecture, Runtime, find_python
from compiler.deployment.sources import function_sources

from .errors import BundleError

__all__ = ["PYTHON", "BundleError", "Packaged", "build_root", "code_folder", "image_context",
           "lambda_image_context", "packages_folder"]

PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # this one: bytecode is written for it only
BYTECODE = b"pyc:unchecked-hash"  # part of every cache key: folders built before bytecode went in are not reused


def build_root() -> Path:
    """Where the app's build products go (``$STEPSTONE_CDK_BUILD``, else ``.stepstone/cdk``)."""
    return Path(os.environ.get("STEPSTONE_CDK_BUILD") or ".stepstone/cdk").resolve()


def _digest(parts: Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:16]


def _fill(folder: Path, files: Sequence[tuple[str, Path]], texts: dict[str, str] | None = None) -> None:
    """Make ``folder`` whole or not at all (built beside it, then renamed)."""
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for name, path in files:
        target = partial / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    for name, text in (texts or {}).items():
        (partial / name).write_text(text)
    partial.rename(folder)


def code_folder(workflow_file: Path | None, python: str = PYTHON) -> Path:
    """A folder with the functions' code for ``workflow_file`` (the runner's only for ``None``)."""
    files = list(function_sources(workflow_file))
    key = _digest([BYTECODE, python.encode()] + [name.encode() for name, _ in files]
                  + [path.read_bytes() for _, path in files])
    folder = build_root() / f"code-{key}"
    if not folder.exists():
        _fill(folder, files)
        _compile(folder, python)
    return folder


@dataclass(frozen=True)
class Packaged:
    """A function's packages, installed: ``folder`` is a layer (``python/...``)."""

    folder: Path
    requirements: str  # exact versions with hashes: what an image installs too
    bytes: int

    def largest(self, count: int) -> list[str]:
        """The ``count`` largest packages, with their sizes (``scipy 98 MB``), for messages."""
        root = self.folder / "python"
        sizes: dict[str, int] = {}
        for entry in root.iterdir() if root.is_dir() else []:
            if entry.name.endswith((".dist-info", ".egg-info")) or entry.name == "__pycache__":
                continue
            name = entry.name.removesuffix(".libs").lstrip("_") if entry.is_dir() else entry.name.split(".")[0]
            sizes[name] = sizes.get(name, 0) + (folder_size(entry) if entry.is_dir() else entry.stat().st_size)
        ranked = sorted(sizes.items(), key=lambda item: -item[1])[:count]
        return [f"{name} {size / 1_048_576:,.0f} MiB" for name, size in ranked]


def packages_folder(lock: Lock, requirements: Sequence[str], runtime: Runtime, arch: Architecture) -> Packaged:
    """The part of ``lock`` that ``requirements`` need, installed for ``runtime`` on ``arch``
    as a layer (``python/...``)."""
    pinned = "".join(line for line in lock.text.splitlines(keepends=True) if not line.startswith("#"))
    key = _digest([BYTECODE, pinned.encode(), runtime.python.encode(), arch.encode(),
                   *(r.encode() for r in requirements)])  # the pins, not the header naming the file
    folder = build_root() / f"packages-{key}"
    listed = folder.with_name(folder.name + ".txt")  # beside it: the layer holds the packages only
    if folder.exists() and listed.exists():
        return Packaged(folder, listed.read_text(), folder_size(folder / "python"))
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    text = bundle_requirements(lock, requirements, runtime, arch)
    install(text, partial / "python", runtime, arch)
    _compile(partial / "python", runtime.python)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    listed.write_text(text)
    return Packaged(folder, text, folder_size(folder / "python"))  # its bytecode too: Lambda counts it


def _compile(folder: Path, python: str) -> None:
    """Bytecode beside the sources, as Lambda's read-only file system cannot take it at a cold
    start (without it every cold start compiles every module: about 0.5 s for the runner's
    imports). Hash-checked without looking (``unchecked-hash``): the asset's files keep no
    modification times. Bytecode is per version: written by the functions' Python (this one,
    or that version found on this machine); none when it is not here."""
    if python == PYTHON:
        import compileall

        compileall.compile_dir(str(folder), quiet=2, workers=0,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        return
    other = find_python(python)
    if other is not None:
        subprocess.run([other, "-I", "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                        str(folder)], capture_output=True, check=False)


DOCKERFILE = """\
# The step runner as an AWS Batch job: `python -m lambdas.step_runner` reads the step call
# from the environment the compiled task sets. Built by `cdk deploy` (needs Docker there).
# requirements.txt: the workflow file's lock, the part its jobs need (exact, hash-checked).
FROM public.ecr.aws/docker/library/python:{python}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /var/task
COPY requirements.txt .
RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary=:all: -r requirements.txt
COPY code/ .
RUN useradd --uid 10001 --no-create-home runner
USER runner
ENTRYPOINT ["python", "-m", "lambdas.step_runner"]
"""

LAMBDA_DOCKERFILE = """\
# A step-runner Lambda function as a container image: its packages do not fit a zip's
# 250 MB. Built by `cdk deploy` (needs Docker there), on AWS's Lambda base image.
# requirements.txt: the workflow file's lock, the part this function needs (exact, hash-checked).
FROM {base}
COPY requirements.txt ${{LAMBDA_TASK_ROOT}}/
RUN pip install --no-cache-dir --require-hashes --no-deps --only-binary=:all: \\
        -r ${{LAMBDA_TASK_ROOT}}/requirements.txt --target ${{LAMBDA_TASK_ROOT}}
COPY code/ ${{LAMBDA_TASK_ROOT}}/
CMD ["lambdas.step_runner.handler"]
"""


def _context(prefix: str, workflow_file: Path, dockerfile: str, requirements: str) -> Path:
    files = list(function_sources(workflow_file))
    key = _digest([dockerfile.encode(), requirements.encode(),
                   *(name.encode() for name, _ in files), *(path.read_bytes() for _, path in files)])
    folder = build_root() / f"{prefix}-{key}"
    if not folder.exists():
        _fill(folder, [(f"code/{name}", path) for name, path in files],
              {"Dockerfile": dockerfile, "requirements.txt": requirements})
    return folder


def image_context(workflow_file: Path, packaged: Packaged, runtime: Runtime) -> Path:
    """The Docker build context of the Batch runner image for ``workflow_file``."""
    return _context("image", workflow_file, DOCKERFILE.format(python=runtime.python), packaged.requirements)


def lambda_image_context(workflow_file: Path, packaged: Packaged, runtime: Runtime) -> Path:
    """The Docker build context of a container-image Lambda function for ``workflow_file``."""
    return _context("lambda-image", workflow_file, LAMBDA_DOCKERFILE.format(base=runtime.base_image),
                    packaged.requirements)
