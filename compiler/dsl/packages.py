"""``stepstone.packages(...)``: the third-party packages a workflow file's steps import,
declared next to the code.

    stepstone.packages("scikit-learn", "pandas>=3", "numpy")
    stepstone.packages(file="requirements.txt")          # a requirements file beside it
    stepstone.packages(group="ml")                       # a group of the project's pyproject.toml

Written once at the top of a workflow file, it applies to every step of that file; a step
that needs more says so itself (``@step(packages=["torch"])``). Nothing here installs
anything: ``stepstone lock`` (and ``cdk synth``, when the lock is out of date) resolves
the declarations into the file's lock (``compiler/deployment/lock.py``), which every
deployed function and job installs. Running the workflow locally uses what is installed
here, as plain Python does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import CompileError, Location, caller_location

__all__ = ["Packages", "check_requirements", "declared_packages", "forget_packages", "packages"]

# a PEP 508 requirement's start: a distribution name, extras, then a version or marker part
_REQUIREMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,\s-]+\])?\s*([<>=!~;@ ].*)?$")


@dataclass(frozen=True)
class Packages:
    """What one workflow file declared: requirements written out, a requirements file (relative
    to the workflow file) and a dependency group of the project's pyproject.toml (PEP 735's
    ``[dependency-groups]``, or ``[project.optional-dependencies]``)."""

    requirements: tuple[str, ...]
    file: str | None
    group: str | None
    images: bool  # may a function too large for a zip become a container image?
    location: Location | None


_DECLARED: dict[str, Packages] = {}  # resolved workflow file -> what it declared


def check_requirements(requirements: Sequence[str], what: str, location: Location | None) -> tuple[str, ...]:
    """``requirements`` as PEP 508 strings, or a CompileError at the line that wrote them."""
    checked = []
    for requirement in requirements:
        text = requirement.strip() if isinstance(requirement, str) else None
        if not text or not _REQUIREMENT.match(text) or text.startswith("-"):
            raise CompileError(f"{what} got {requirement!r}, which is not a package requirement",
                               rule="bad-option", location=location,
                               hint='name a package, with a version if you like: "scikit-learn", "pandas>=3,<4"')
        checked.append(text)
    return tuple(checked)


def packages(*requirements: str, file: str | None = None, group: str | None = None,
             images: bool = True) -> Packages:
    """Declare the packages this workflow file's steps import (once, at its top).

    Args:
        requirements: Package requirements (``"scikit-learn"``, ``"pandas>=3,<4"``).
        file: A requirements file, relative to this workflow file.
        group: A dependency group of the project's ``pyproject.toml`` (``[dependency-groups]``
            or ``[project.optional-dependencies]``).
        images: Whether a function whose packages do not fit a Lambda zip (250 MB unzipped)
            may become a container-image function; ``False`` makes ``cdk synth`` stop instead.

    Returns:
        The declaration (also recorded for this file).

    Example:
        ```python
        import stepstone
        stepstone.packages("scikit-learn", "pandas", "numpy")
        ```
    """
    location = caller_location()
    checked = check_requirements(requirements, "stepstone.packages()", location)
    if not checked and file is None and group is None:
        raise CompileError("stepstone.packages() declares nothing", rule="bad-option", location=location,
                           hint='name the packages, a requirements file or a group: stepstone.packages("pandas")')
    declared = Packages(checked, file, group, images, location)
    if location is not None and not location.file.startswith("<"):
        key = str(Path(location.file).resolve())
        earlier = _DECLARED.get(key)
        if earlier is not None and earlier != declared and earlier.location != location:
            line = earlier.location.line if earlier.location else "?"
            raise CompileError("stepstone.packages() is declared twice in this file", rule="bad-option",
                               location=location, hint=f"put every package in the first one (line {line})")
        _DECLARED[key] = declared
    return declared


def forget_packages(workflow_file: str | Path) -> None:
    """Drop what ``workflow_file`` declared (before it is imported again)."""
    _DECLARED.pop(str(Path(workflow_file).resolve()), None)


def declared_packages(workflow_file: str | Path) -> Packages | None:
    """What ``workflow_file`` declared (after it was imported), or None."""
    return _DECLARED.get(str(Path(workflow_file).resolve()))
