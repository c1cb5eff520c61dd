"""The code of a workflow's Lambda functions: the step runner and the user's modules, zipped.

The zip holds the packages the runner imports (``compiler``, ``lambdas``, ``stepstone``)
and the workflow's own code: the top package the workflow file belongs to, or, for a
file outside a package, the modules and packages beside it. Third-party packages the
steps import come from the Python that runs the functions (on LocalStack: the one running
stepstone). The archive is deterministic (fixed times, sorted names), so an unchanged
workflow has an unchanged ``CodeSha256`` and is not uploaded again.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

from compiler.loader import module_name_for

__all__ = ["code_zip", "sha256_b64"]

RUNTIME_PACKAGES = ("compiler", "lambdas", "stepstone")
SKIP_DIRS = {"__pycache__", "node_modules", "cdk.out", "plugin", "tests"}


def _package_files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*.py")):
        parts = path.relative_to(folder).parts
        if any(p.startswith(".") or p in SKIP_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
            continue
        yield path


def _sources(workflow_file: Path | None) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file) for everything the functions import from this project."""
    import compiler

    site = Path(compiler.__file__).resolve().parent.parent
    for package in RUNTIME_PACKAGES:
        for path in _package_files(site / package):
            yield path.relative_to(site).as_posix(), path
    if workflow_file is None:
        return
    module, root = module_name_for(workflow_file)
    top = module.split(".")[0]
    if "." in module:  # a package: all of it
        folder = root / top
        for path in _package_files(folder):
            yield path.relative_to(root).as_posix(), path
        return
    for path in sorted(root.glob("*.py")):  # a plain module: its neighbours, and packages beside it
        yield path.name, path
    for folder in sorted(p for p in root.iterdir() if (p / "__init__.py").exists()):
        if folder.name in RUNTIME_PACKAGES or folder.name.startswith(".") or folder.name in SKIP_DIRS:
            continue
        for path in _package_files(folder):
            yield path.relative_to(root).as_posix(), path


def code_zip(workflow_file: Path | None) -> bytes:
    """The function code for the workflow in ``workflow_file`` (see the module docstring);
    ``None``: stepstone's own packages only (the approval function's code)."""
    buffer = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(_sources(workflow_file.resolve() if workflow_file else None)):
            if name in seen:
                continue
            seen.add(name)
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def sha256_b64(data: bytes) -> str:
    """Lambda's ``CodeSha256`` of a zip."""
    import base64

    return base64.b64encode(hashlib.sha256(data).digest()).decode()
