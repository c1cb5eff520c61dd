"""Lambda's Python runtimes, as packages see them: the operating system under each, so the
wheels a function installs are ones that runtime can load, and the size a zip function may
reach.

A wheel's ``manylinux_2_X`` tag says the oldest glibc it runs on. Lambda's ``python3.11``
runs on Amazon Linux 2 (glibc 2.26), ``python3.12`` and later on Amazon Linux 2023
(glibc 2.34): https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html. Current
numpy, pandas and scikit-learn publish ``manylinux_2_28`` wheels only, so they need an
Amazon Linux 2023 runtime; that is why a project on Python 3.11 deploys its functions on
``python3.12`` unless told otherwise (``-c stepstone:python=3.11``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Literal

__all__ = ["ARCHITECTURES", "LAMBDA_UNZIPPED_LIMIT", "RUNTIMES", "Architecture", "Runtime", "find_python",
           "function_python", "runtime_for"]

Architecture = Literal["x86_64", "arm64"]
ARCHITECTURES: tuple[Architecture, ...] = ("x86_64", "arm64")

LAMBDA_UNZIPPED_LIMIT = 262_144_000
"""Bytes a zip function may take unzipped, its code and all its layers together (a
container-image function may take 10 GB)."""


@dataclass(frozen=True)
class Runtime:
    python: str  # "3.12"
    system: str  # "Amazon Linux 2023"
    glibc: tuple[int, int]  # the newest manylinux tag it loads: (2, 34)

    @property
    def name(self) -> str:
        return f"python{self.python}"

    def platform(self, arch: Architecture) -> str:
        """The platform uv installs wheels for: ``x86_64-manylinux_2_34``."""
        machine = "aarch64" if arch == "arm64" else "x86_64"
        return f"{machine}-manylinux_{self.glibc[0]}_{self.glibc[1]}"

    @property
    def base_image(self) -> str:
        """AWS's Lambda base image for this runtime (a container-image function starts from it)."""
        return f"public.ecr.aws/lambda/python:{self.python}"


RUNTIMES = {
    "3.11": Runtime("3.11", "Amazon Linux 2", (2, 26)),
    "3.12": Runtime("3.12", "Amazon Linux 2023", (2, 34)),
    "3.13": Runtime("3.13", "Amazon Linux 2023", (2, 34)),
    "3.14": Runtime("3.14", "Amazon Linux 2023", (2, 34)),
}


def function_python(chosen: str | None = None) -> str:
    """The Python the functions run: ``chosen`` (``stepstone:python``), else this one when it
    runs on Amazon Linux 2023, else 3.12 (the oldest that does)."""
    if chosen:
        return chosen
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    return here if here in RUNTIMES and RUNTIMES[here].glibc >= (2, 34) else "3.12"


def find_python(version: str) -> str | None:
    """An interpreter of Python ``version`` ("3.12") on this machine: pyenv's newest of that
    version, else ``python3.12`` on PATH (not a pyenv shim, which may stand for nothing),
    checked by running it; None when there is none."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates = [str(p / "bin" / f"python{version}") for p in sorted(
        (p for p in root.glob(f"{version}.*") if (p / "bin" / f"python{version}").exists()),
        key=lambda p: [int(x) if x.isdigit() else 0 for x in p.name.split(".")], reverse=True)]
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep) if "shims" not in d)
    on_path = shutil.which(f"python{version}", path=path)
    for candidate in [*candidates, *([on_path] if on_path else [])]:
        done = subprocess.run([candidate, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, check=False)
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


def runtime_for(python: str) -> Runtime:
    """The runtime of ``python`` ("3.12"), or ValueError naming the ones there are."""
    try:
        return RUNTIMES[python]
    except KeyError:
        raise ValueError(f"Lambda has no python{python} runtime stepstone knows; it knows "
                         f"{', '.join('python' + v for v in RUNTIMES)}") from None
