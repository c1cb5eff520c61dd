"""References to stored values: what stands in a value's skeleton (``compiler.protocol.codecs``)
for each part that is carried by reference, and where those parts are stored.

A reference is a one-key JSON object, so it can never be mistaken for a user's record::

    {"stepstone_ref": {"codec": "parquet", "media_type": "application/vnd.apache.parquet",
                       "key": "runs/<workflow>/<run>/<state>/attempt-0/values/output.parquet",
                       "hash": "sha256:...", "bytes": 52113, "type": "pandas.DataFrame",
                       "name": "model"}}          # name: a file's or folder's own name only

``hash`` is the content hash of the stored bytes (``compiler.protocol.encoding.content_hash``):
a reader checks it before decoding, and refuses a pickle whose bytes do not match it.

**Where.** A producing attempt stores its parts under ``<attempt prefix>values/``: the whole
value as ``values/output<suffix>``, a field or item at its path in the skeleton
(``values/table.parquet``, ``values/models/3.pkl``). A path segment that is not letters,
digits, ``_``, ``-`` and ``.`` (a dict key ``"a/b"``) is written with those characters
replaced and a short hash of the original, so no two segments share a key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from .errors import ProtocolError

__all__ = ["REF_KEY", "ValuePath", "ValueRef", "by_content", "is_value_ref", "value_key", "value_refs"]

JSON: TypeAlias = Any
ValuePath: TypeAlias = tuple[str | int, ...]  # where a part sits in a skeleton: field names, list positions

REF_KEY = "stepstone_ref"
_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}\Z")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class ValueRef:
    """One stored part of a value: its key, codec, media type, content hash, size and class."""

    key: str
    codec: str
    media_type: str
    hash: str
    bytes: int
    type: str  # the stored value's class, fully qualified ("pandas.DataFrame")
    name: str | None = None  # a file's or folder's own name ("model.onnx"), for the one who opens it

    def encode(self) -> dict[str, JSON]:
        body: dict[str, JSON] = {"bytes": self.bytes, "codec": self.codec, "hash": self.hash, "key": self.key,
                                 "media_type": self.media_type, "type": self.type}
        if self.name is not None:
            body["name"] = self.name
        return {REF_KEY: body}

    @classmethod
    def decode(cls, node: JSON) -> ValueRef:
        if not is_value_ref(node):
            raise ProtocolError(f"value reference: a JSON object with the one key {REF_KEY!r}, got {node!r:.80}")
        body = node[REF_KEY]
        try:
            ref = cls(key=str(body["key"]), codec=str(body["codec"]), media_type=str(body["media_type"]),
                      hash=str(body["hash"]), bytes=int(body["bytes"]), type=str(body.get("type") or ""),
                      name=None if body.get("name") is None else str(body["name"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"value reference: {type(exc).__name__}: {exc}") from None
        if not ref.key or not ref.hash.startswith("sha256:"):
            raise ProtocolError(f"value reference {ref.key!r}: it needs a key and a sha256: content hash")
        return ref


def is_value_ref(node: JSON) -> bool:
    """Whether a skeleton node is a reference (a one-key object under :data:`REF_KEY`)."""
    return isinstance(node, Mapping) and len(node) == 1 and isinstance(node.get(REF_KEY), Mapping)


def value_refs(skeleton: JSON, path: ValuePath = ()) -> Iterator[tuple[ValuePath, ValueRef]]:
    """Every reference in a skeleton, with its path, depth first in key order (lineage lists
    them; ``stepstone artifacts`` shows them)."""
    if is_value_ref(skeleton):
        yield path, ValueRef.decode(skeleton)
    elif isinstance(skeleton, Mapping):
        for key in sorted(skeleton, key=str):
            yield from value_refs(skeleton[key], (*path, str(key)))
    elif isinstance(skeleton, list):
        for index, item in enumerate(skeleton):
            yield from value_refs(item, (*path, index))


def by_content(skeleton: JSON) -> JSON:
    """The skeleton with each reference reduced to what its value is (codec, class, content
    hash), not where it is stored: what lineage hashes a value by, so the same DataFrame
    written by two runs (at two keys) has one hash, and a cached step's inputs match."""
    if is_value_ref(skeleton):
        ref = ValueRef.decode(skeleton)
        return {REF_KEY: {"codec": ref.codec, "hash": ref.hash, "type": ref.type}}
    if isinstance(skeleton, Mapping):
        return {key: by_content(item) for key, item in skeleton.items()}
    if isinstance(skeleton, list):
        return [by_content(item) for item in skeleton]
    return skeleton


def _segment(part: str | int) -> str:
    text = str(part)
    if _SEGMENT.match(text):
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{_UNSAFE.sub('_', text)[:60].lstrip('.') or 'key'}-{digest}"


def value_key(prefix: str, path: Sequence[str | int], suffix: str) -> str:
    """Where the part of a value at ``path`` is stored by the attempt at ``prefix``
    (``compiler.protocol.keys.attempt_prefix``), with its codec's ``suffix``."""
    parts = [_segment(p) for p in path] or ["output"]
    return f"{prefix}values/{'/'.join(parts)}{suffix}"
