"""One byte string per JSON value, and its hash: what stored records, content hashes and
cache keys are made of, on both sides of the protocol."""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = ["canonical", "content_hash"]


def canonical(value: Any) -> bytes:
    """``value`` (JSON) as bytes: sorted keys, no spaces, UTF-8; what hashes and stores use."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_hash(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``."""
    return "sha256:" + hashlib.sha256(data).hexdigest()
