"""The code of a workflow's Lambda functions on LocalStack: what ``compiler.sources`` lists,
zipped. Third-party packages the steps import come from the Python that runs the
functions (the one running stepstone). The archive is deterministic (fixed times, sorted
names), so an unchanged workflow has an unchanged ``CodeSha256`` and is not uploaded again.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from pathlib import Path

from compiler.deployment.sources import function_sources

__all__ = ["code_zip", "sha256_b64"]


def code_zip(workflow_file: Path | None) -> bytes:
    """The function code for the workflow in ``workflow_file``; ``None``: stepstone's own
    packages only (the approval function's code)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in function_sources(workflow_file):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def sha256_b64(data: bytes) -> str:
    """Lambda's ``CodeSha256`` of a zip."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()
