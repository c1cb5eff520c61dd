"""What the CDK app uploads, made without Docker: the functions' code, their dependencies
(a Lambda layer) and the Batch runner image's build context.

- code: the files ``compiler.sources`` lists for a workflow file, copied into a folder
  named after their content hash;
- dependencies: the step runner's packages, at the versions installed here, downloaded
  with ``pip install --target`` for the functions' Python and Lambda's platform
  (manylinux x86_64 wheels only), cached by what they are made of;
- image context: the code, a requirements file and a Dockerfile. ``cdk synth`` only
  hashes it; ``cdk deploy`` builds it where Docker is.

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
from importlib import metadata
from pathlib import Path

from compiler.deployment.sources import function_sources

from .errors import BundleError

__all__ = ["PYTHON", "RUNTIME_REQUIREMENTS", "BundleError", "code_folder", "image_context", "layer_folder",
           "runtime_requirements"]

# what the step runner imports besides the standard library (click, rich and the LocalStack
# client are for the command line only)
RUNTIME_REQUIREMENTS = ("pydantic", "aws-lambda-powertools[tracer]", "boto3", "tzdata")
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"  # the functions run the Python they were tested with
PLATFORM = "manylinux2014_x86_64"
BYTECODE = b"pyc:unchecked-hash"  # part of every cache key: folders built before bytecode went in are not reused


def _root() -> Path:
    return Path(os.environ.get("STEPSTONE_CDK_BUILD") or ".stepstone/cdk").resolve()


def _digest(parts: Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:16]


def runtime_requirements(extra: Sequence[str] = ()) -> list[str]:
    """The runner's requirements pinned to the versions installed here, then ``extra``."""
    pinned = []
    for requirement in RUNTIME_REQUIREMENTS:
        name = requirement.split("[")[0]
        pinned.append(f"{requirement}=={metadata.version(name)}")
    return [*pinned, *extra]


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


def code_folder(workflow_file: Path | None) -> Path:
    """A folder with the functions' code for ``workflow_file`` (the runner's only for ``None``)."""
    files = list(function_sources(workflow_file))
    key = _digest([BYTECODE] + [name.encode() for name, _ in files] + [path.read_bytes() for _, path in files])
    folder = _root() / f"code-{key}"
    if not folder.exists():
        _fill(folder, files)
        _compile(folder, PYTHON)
    return folder


def layer_folder(requirements: Sequence[str], python: str = PYTHON) -> Path:
    """A Lambda layer (``python/...``) with ``requirements`` built for Lambda's Python ``python``."""
    # their dependencies too, at the versions installed (and tested) here
    pins = "".join(sorted(f"{d.metadata['Name']}=={d.version}\n" for d in metadata.distributions()
                          if d.metadata["Name"] and d.metadata["Name"].lower() != "stepstone"))
    key = _digest([BYTECODE, python.encode(), PLATFORM.encode(), pins.encode(), *(r.encode() for r in requirements)])
    folder = _root() / f"layer-{key}"
    if folder.exists():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    constraints = partial / "constraints.txt"
    constraints.write_text(pins)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
               "--target", str(partial / "python"), "--platform", PLATFORM, "--implementation", "cp",
               "--python-version", python, "--only-binary=:all:", "-c", str(constraints), *requirements]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-10:])
        raise BundleError(f"downloading the functions' dependencies for Python {python} failed:\n{tail}")
    for cache in (partial / "python").rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    constraints.unlink()
    _compile(partial / "python", python)
    partial.rename(folder)
    return folder


def _compile(folder: Path, python: str) -> None:
    """Bytecode beside the sources, as Lambda's read-only file system cannot take it at a cold
    start (without it every cold start compiles every module: about 0.5 s for the runner's
    imports). Hash-checked without looking (``unchecked-hash``): the asset's files keep no
    modification times. Only when the functions run this Python: bytecode is per version."""
    if python != PYTHON:
        return
    import compileall

    compileall.compile_dir(str(folder), quiet=2, workers=0,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


DOCKERFILE = """\
# The step runner as an AWS Batch job: `python -m lambdas.step_runner` reads the step call
# from the environment the compiled task sets. Built by `cdk deploy` (needs Docker there).
FROM public.ecr.aws/docker/library/python:{python}-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /var/task
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY code/ .
RUN useradd --uid 10001 --no-create-home runner
USER runner
ENTRYPOINT ["python", "-m", "lambdas.step_runner"]
"""


def image_context(workflow_file: Path, requirements: Sequence[str], python: str = PYTHON) -> Path:
    """The Docker build context of the Batch runner image for ``workflow_file``."""
    files = list(function_sources(workflow_file))
    dockerfile = DOCKERFILE.format(python=python)
    key = _digest([dockerfile.encode(), *(r.encode() for r in requirements),
                   *(name.encode() for name, _ in files), *(path.read_bytes() for _, path in files)])
    folder = _root() / f"image-{key}"
    if not folder.exists():
        _fill(folder, [(f"code/{name}", path) for name, path in files],
              {"Dockerfile": dockerfile, "requirements.txt": "\n".join(requirements) + "\n"})
    return folder
