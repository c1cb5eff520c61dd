"""What the host executor reads of a function: where its code and layers are unzipped, when
they last changed (hot reload), the worker's peak memory, and Lambda's error document."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from localstack.services.lambda_.invocation.lambda_models import FunctionVersion

__all__ = ["code_dirs", "error_payload", "peak_rss_mb", "tree_mtime"]


def error_payload(error_type: str, message: str, stack: list[str] | None = None) -> bytes:
    return json.dumps(
        {"errorType": error_type, "errorMessage": message, "stackTrace": stack or []}
    ).encode()


def code_dirs(function_version: FunctionVersion) -> tuple[Path, list[Path]]:
    """Unzipped code directory and the extra sys.path entries for the layers
    (AWS puts layers in /opt; Python looks in /opt/python and
    /opt/python/lib/pythonX.Y/site-packages)."""
    cfg = function_version.config
    extra: list[Path] = []
    for layer in cfg.layers or []:
        if not layer.code:
            continue
        root = Path(layer.code.get_unzipped_code_location())
        extra += [root / "python", root / "python" / "lib" / str(cfg.runtime) / "site-packages"]
    return Path(cfg.code.get_unzipped_code_location()), [p for p in extra if p.is_dir()]


def peak_rss_mb(pid: int) -> int | None:
    """Peak resident memory of the worker (Linux /proc), for the REPORT log line."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def tree_mtime(roots: list[Path]) -> float:
    """Newest mtime below ``roots`` (skipping caches and dot-directories): the
    fingerprint that detects edits of hot-reloaded code."""
    newest = 0.0
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".") and d != "__pycache__"]
            for name in [*filenames, ""]:  # "" = the directory itself (catches deletions)
                with contextlib.suppress(OSError):
                    newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime)
    return newest
