"""What each step-runner function of a workflow file is made of, decided at synth: its
packages (the part of the file's lock its steps need, built for the function's runtime and
architecture) and its kind: a **zip** function with those packages as a layer when code and
layer fit Lambda's 250 MB unzipped, else a **container image** (up to 10 GB) from a
generated Dockerfile on AWS's Lambda base image, which ``cdk deploy`` builds (Docker is
needed there, not at synth). A file that forbids images (``stepstone.packages(...,
images=False)``) stops synth with the packages, their sizes and the ways out.

On LocalStack (no Docker) an image function is deployed as a zip function whose packages
are a folder on this machine (LocalStack's ``hot-reload`` code), never this machine's own
environment: it gets exactly what the image would.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from compiler.deployment.lock import Declared, Lock, LockError, declared_for, ensure_lock, folder_size
from compiler.deployment.plan import DeploymentPlan, FunctionSpec
from compiler.deployment.runtimes import LAMBDA_UNZIPPED_LIMIT, Architecture, Runtime

from . import bundle
from .errors import BundleError, PackagesTooLargeError

__all__ = ["FunctionBundle", "FunctionBundles", "PackagesTooLargeError"]

Kind = Literal["zip", "image"]


@dataclass(frozen=True)
class FunctionBundle:
    kind: Kind
    packages: bundle.Packaged  # the layer (a zip function), or what the image installs
    code_bytes: int
    image_context: Path | None = None  # an image function's Docker build context

    @property
    def total_bytes(self) -> int:
        return self.code_bytes + self.packages.bytes


def _mb(size: int) -> str:
    """MiB, as Lambda counts its limits (250 MB there is 262,144,000 bytes)."""
    return f"{size / 1_048_576:,.0f} MiB"


class FunctionBundles:
    """The bundles of one workflow file's functions, made once per distinct set of packages."""

    def __init__(self, file: Path, plan: DeploymentPlan, runtime: Runtime, *, code: Path,
                 extra: Sequence[str] = (), arch: Architecture = "x86_64",
                 say: Callable[[str], None] = lambda text: print(f"stepstone: {text}", file=sys.stderr)) -> None:
        self.file = file
        self.runtime = runtime
        self.arch = arch
        self.code = code
        self.say = say
        declared = declared_for(file, plan.step_packages)
        self.declared = Declared(declared.workflow_file, (*declared.requirements,
                                                          *(r for r in extra if r not in declared.requirements)),
                                 declared.steps, declared.images)
        # a file that declares no packages has no lock of its own: the runner's is in the build folder
        where = None if self.declared.declares else bundle.build_root() / f"runner-python{runtime.python}.lock"
        try:
            self.lock: Lock = ensure_lock(self.declared, runtime, say, where=where)
        except LockError as exc:
            raise BundleError(str(exc)) from None
        self.code_bytes = folder_size(code)
        self._made: dict[tuple[str, ...], FunctionBundle] = {}

    def requirements(self, function: FunctionSpec | None = None) -> tuple[str, ...]:
        own = function.packages if function is not None else ()
        return (*self.declared.requirements, *(r for r in own if r not in self.declared.requirements))

    def packaged(self, requirements: Sequence[str]) -> bundle.Packaged:
        try:
            return bundle.packages_folder(self.lock, requirements, self.runtime, self.arch)
        except LockError as exc:
            raise BundleError(str(exc)) from None

    def for_function(self, function: FunctionSpec) -> FunctionBundle:
        """The bundle of ``function``, made the first time its packages are asked for; says
        which kind it is and why."""
        requirements = self.requirements(function)
        name = f"{self.file.name}: function {function.key} ({', '.join(step for _, step in function.steps)})"
        made = self._made.get(requirements)
        if made is None:
            made = self._make(name, requirements)
            self._made[requirements] = made
        what = "a zip with its layer" if made.kind == "zip" else \
            f"a container image, over a zip's {_mb(LAMBDA_UNZIPPED_LIMIT)}: {', '.join(made.packages.largest(4))}"
        self.say(f"{name}: {_mb(made.total_bytes)}, {what}")
        return made

    def _make(self, name: str, requirements: tuple[str, ...]) -> FunctionBundle:
        packaged = self.packaged(requirements)
        total = self.code_bytes + packaged.bytes
        if total <= LAMBDA_UNZIPPED_LIMIT:
            return FunctionBundle("zip", packaged, self.code_bytes)
        if not self.declared.images:
            raise PackagesTooLargeError(
                f"{name} needs {_mb(total)} unzipped (code {_mb(self.code_bytes)}, packages "
                f"{_mb(packaged.bytes)}: {', '.join(packaged.largest(6))}), and a zip function takes at most "
                f"{_mb(LAMBDA_UNZIPPED_LIMIT)}; {self.file.name} forbids images (stepstone.packages(..., "
                "images=False)). Ways out: allow a container image (drop images=False; cdk deploy then needs "
                "Docker), run the heavy steps on Batch (compute=Batch(...)), or declare fewer packages "
                "(a step's own with @step(packages=[...]))")
        context = bundle.lambda_image_context(self.file, packaged, self.runtime)
        return FunctionBundle("image", packaged, self.code_bytes, context)
