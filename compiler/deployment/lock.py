"""A workflow file's lock: the exact packages, with their hashes, that every function and job
deployed from it installs, resolved once from what the file declares.

What goes in: the step runner's own requirements (pydantic, Powertools, boto3, tzdata), the
file's ``stepstone.packages(...)`` (requirements, a requirements file, a pyproject group)
and each step's ``@step(packages=[...])``. They are resolved by uv, which is made for this
(one universal resolution for every platform and Python from the functions' on, wheels
only, every file's hash), with the versions installed here as constraints: the cloud runs
what the steps were tested with, and a model pickled in one step loads in the next.

The lock is ``<workflow>.lock`` beside the workflow file, a requirements file with hashes,
meant to be committed. Its first lines say what it was resolved from (``inputs``); when
that changes (a package declared or upgraded here), ``stepstone lock`` or ``cdk synth``
resolves it again. Each function's bundle is then the part of the lock its steps need
(:func:`bundle_requirements`), installed for the function's runtime and architecture
(:func:`install`): the same versions for a Lambda zip, a Lambda image and a Batch image.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from ..dsl.packages import Packages, declared_packages
from ..errors import LockError
from .runtimes import Architecture, Runtime

__all__ = ["RUNNER_REQUIREMENTS", "Declared", "Lock", "LockError", "bundle_requirements", "declared_for",
           "ensure_lock", "inputs_digest", "install", "lock_path", "normalised_name", "read_lock", "resolve",
           "uv_binary"]

# what the step runner imports besides the standard library (click, rich and the LocalStack
# client are for the command line only)
RUNNER_REQUIREMENTS = ("pydantic", "aws-lambda-powertools[tracer]", "boto3", "tzdata")
FORMAT = "1"  # part of the inputs: a lock written by an older stepstone is made again
Progress = Callable[[str], None]


def uv_binary() -> str:
    """The uv that came with stepstone (its ``uv`` dependency), else one on PATH."""
    try:
        from uv import find_uv_bin

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        found = shutil.which("uv")
        if found is None:
            raise LockError("uv is not installed; it resolves and installs the functions' packages") from None
        return found


def normalised_name(requirement: str) -> str:
    """A requirement's distribution name, normalised (PEP 503): ``scikit_learn[x]>=1`` -> ``scikit-learn``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else requirement


@dataclass(frozen=True)
class Declared:
    """What a workflow file's functions need: its requirements (the runner's and the file's),
    each step's own, and whether a function too large for a zip may become an image."""

    workflow_file: Path
    requirements: tuple[str, ...]
    steps: tuple[tuple[str, tuple[str, ...]], ...]  # (step, its own packages), steps that declare some
    images: bool = True

    @property
    def declares(self) -> bool:
        """Whether the file declares packages of its own (else its functions get the runner's
        alone, from a lock stepstone keeps in its build folder, not beside the file)."""
        return bool(self.steps) or any(r not in RUNNER_REQUIREMENTS for r in self.requirements)

    @property
    def everything(self) -> tuple[str, ...]:
        found = list(self.requirements)
        for _, extra in self.steps:
            found += [r for r in extra if r not in found]
        return tuple(found)


def _requirements_file(path: Path, where: str) -> list[str]:
    if not path.is_file():
        raise LockError(f"{where}: no requirements file {path}")
    found = []
    for line in path.read_text().splitlines():
        text = line.split("#")[0].strip()
        if not text:
            continue
        if text.startswith("-"):
            raise LockError(f"{path}: {text!r}: stepstone reads package requirements only (no pip options)")
        found.append(text)
    return found


def _pyproject_group(start: Path, group: str, where: str) -> list[str]:
    for folder in (start, *start.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            break
    else:
        raise LockError(f"{where}: group={group!r}, but no pyproject.toml above {start}")
    data = tomllib.loads(pyproject.read_text())
    groups = data.get("dependency-groups", {})
    extras = data.get("project", {}).get("optional-dependencies", {})

    own = normalised_name(str(data.get("project", {}).get("name", "")))

    def expand(name: str, seen: tuple[str, ...]) -> list[str]:
        if name in seen:
            raise LockError(f"{pyproject}: dependency group {name!r} includes itself")
        items = groups.get(name) if name in groups else extras.get(name)
        if items is None:
            known = sorted({*groups, *extras})
            raise LockError(f"{where}: {pyproject} has no group {name!r} (it has: {', '.join(known) or 'none'})")
        found: list[str] = []
        for item in items:
            if isinstance(item, dict) and "include-group" in item:
                found += expand(str(item["include-group"]), (*seen, name))
            elif isinstance(item, str) and normalised_name(item) != own:  # the project itself: not a package
                found.append(item)
        return found

    return expand(group, ())


def declared_for(workflow_file: Path, steps: Iterable[tuple[str, tuple[str, ...]]] = ()) -> Declared:
    """What ``workflow_file`` (imported already) declared, and ``steps``: (step, its own
    packages) for the steps that declare some."""
    workflow_file = workflow_file.resolve()
    packages: Packages | None = declared_packages(workflow_file)
    requirements = list(RUNNER_REQUIREMENTS)
    images = True
    if packages is not None:
        where = f"{workflow_file.name}:{packages.location.line if packages.location else '?'}"
        listed = list(packages.requirements)
        if packages.file:
            listed += _requirements_file(workflow_file.parent / packages.file, where)
        if packages.group:
            listed += _pyproject_group(workflow_file.parent, packages.group, where)
        requirements += [r for r in listed if r not in requirements]
        images = packages.images
    own = tuple(sorted({(step, tuple(extra)) for step, extra in steps if extra}))
    return Declared(workflow_file, tuple(requirements), own, images)


def lock_path(workflow_file: Path) -> Path:
    """``examples/ml_training.lock`` for ``examples/ml_training.py``."""
    return workflow_file.with_suffix(".lock")


def _installed() -> dict[str, str]:
    """The distributions installed here, by normalised name (stepstone itself left out)."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and normalised_name(name) != "stepstone":
            found.setdefault(normalised_name(name), dist.version)
    return found


def inputs_digest(declared: Declared, runtime: Runtime) -> str:
    """What a lock is resolved from: a change here makes it stale."""
    installed = _installed()
    wanted = sorted({normalised_name(r) for r in declared.everything})
    parts = [FORMAT, runtime.python, *sorted(declared.everything),
             *(f"{n}=={installed.get(n, '')}" for n in wanted)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Lock:
    path: Path
    text: str

    @property
    def inputs(self) -> str | None:
        match = re.search(r"^# inputs: ([0-9a-f]+)$", self.text, re.M)
        return match.group(1) if match else None

    @property
    def pins(self) -> dict[str, str]:
        """``{name: version}`` of every package in it."""
        return {normalised_name(m.group(1)): m.group(2)
                for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)==([^\s;\\]+)", self.text, re.M)}


def read_lock(workflow_file: Path, where: Path | None = None) -> Lock | None:
    path = where or lock_path(workflow_file)
    return Lock(path, path.read_text()) if path.is_file() else None


def _run_uv(args: Sequence[str], what: str) -> str:
    done = subprocess.run([uv_binary(), *args], capture_output=True, text=True,
                          env={**os.environ, "UV_NO_PROGRESS": "1", "NO_COLOR": "1"})
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-12:])
        raise LockError(f"{what} failed:\n{tail}")
    return done.stdout


def resolve(declared: Declared, runtime: Runtime, where: Path | None = None) -> Lock:
    """Resolve ``declared`` (uv, universal, wheels only, hashes), write the lock (``where``,
    else beside the workflow file), return it."""
    path = where or lock_path(declared.workflow_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="stepstone-lock-") as folder:
        wanted = Path(folder) / "requirements.in"
        wanted.write_text("\n".join(declared.everything) + "\n")
        constraints = Path(folder) / "constraints.txt"
        constraints.write_text("".join(f"{name}=={version}\n" for name, version in sorted(_installed().items())))
        resolved = _run_uv(["pip", "compile", str(wanted), "--universal", "--python-version", runtime.python,
                            "--only-binary", ":all:", "--generate-hashes", "--no-header", "--no-annotate",
                            "--quiet", "-c", str(constraints)],
                           f"resolving the packages of {declared.workflow_file.name} for python{runtime.python} "
                           "(the versions installed here are constraints: upgrade one here to move it)")
    name = declared.workflow_file.name
    header = [f"# stepstone lock of {name}: every function and job deployed from it installs exactly these,",
              f"# hash-checked. Commit it; `stepstone lock {name}` makes it again (cdk synth does when it is stale).",
              ] if where is None else ["# stepstone lock of the step runner's own packages (for workflow files that "
                                       "declare none)"]
    header += [
              f"# inputs: {inputs_digest(declared, runtime)}",
              f"# python: {runtime.python} and newer, every platform (wheels only)",
              f"# file: {', '.join(declared.requirements)}",
              *(f"# step {step}: {', '.join(extra)}" for step, extra in declared.steps)]
    text = "\n".join(header) + "\n" + resolved
    path.write_text(text)
    return Lock(path, text)


def ensure_lock(declared: Declared, runtime: Runtime, progress: Progress = lambda _: None, *,
                where: Path | None = None) -> Lock:
    """The file's lock (at ``where``, else beside it), resolved again when missing or stale
    (and said so through ``progress``)."""
    lock = read_lock(declared.workflow_file, where)
    if lock is not None and lock.inputs == inputs_digest(declared, runtime):
        return lock
    if where is None:
        progress(f"{'updating' if lock else 'writing'} {_shown(lock_path(declared.workflow_file))} (the packages "
                 f"{declared.workflow_file.name} declares, resolved for python{runtime.python})")
    return resolve(declared, runtime, where)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def bundle_requirements(lock: Lock, requirements: Sequence[str], runtime: Runtime, arch: Architecture) -> str:
    """The part of ``lock`` that ``requirements`` need on ``runtime`` and ``arch``: exact
    versions with hashes, what a layer, a Lambda image and a Batch image install."""
    with tempfile.TemporaryDirectory(prefix="stepstone-bundle-") as folder:
        wanted = Path(folder) / "requirements.in"
        wanted.write_text("\n".join(requirements) + "\n")
        return _run_uv(["pip", "compile", str(wanted), "-c", str(lock.path), "--python-version", runtime.python,
                        "--python-platform", runtime.platform(arch), "--only-binary", ":all:", "--generate-hashes",
                        "--no-header", "--no-annotate", "--quiet"],
                       f"choosing the packages of a function from {lock.path.name}")


def install(requirements_text: str, target: Path, runtime: Runtime, arch: Architecture) -> int:
    """Install ``requirements_text`` (exact, hashed) into ``target`` for ``runtime`` and
    ``arch``; the bytes it takes there."""
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="stepstone-bundle-") as listed:
        listed.write(requirements_text)
        listed.flush()
        _run_uv(["pip", "install", "--target", str(target), "--python-version", runtime.python,
                 "--python-platform", runtime.platform(arch), "--only-binary", ":all:", "--require-hashes",
                 "--no-deps", "--quiet", "-r", listed.name, "--python", sys.executable],
                f"installing the functions' packages for python{runtime.python} on {arch}")
    return folder_size(target)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
