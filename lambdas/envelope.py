"""Envelopes: how a step's output travels through a run (``compiler/protocol/envelope.py``).

``{"fields": {...}, "value": ..., "ref": ...}``: the output's top-level scalar fields (and the
truthiness of the others), the
output itself when it is small, and otherwise the key of the stored output. The whole
envelope stays within ``inline_limit + ENVELOPE_OVERHEAD`` bytes, which is what the
compiler's proof that no state exceeds 256 KiB relies on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from compiler.protocol import ENVELOPE_OVERHEAD, StoreMode, canonical, is_value_ref

from .errors import OutputTooLargeError
from .store import ArtifactStore

__all__ = ["Envelope", "make_envelope", "read_envelope", "read_manifest"]

JSON = Any


@dataclass(frozen=True)
class Envelope:
    data: dict[str, JSON]  # what goes into the state
    size: int  # bytes of the whole output
    stored: str | None  # key, when the output went to the store


def _scalar(value: JSON) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _fit_fields(value: JSON, budget: int) -> dict[str, JSON]:
    """The output's top-level scalars, the longest strings dropped first until they fit. A
    list, a dict or a stored value (a DataFrame's reference) stands as its truthiness (an
    empty list is false, a stored value true), which is what ``if quality["rows"]:`` on a
    plain dict result tests; the compiler reads no other fields that are not scalars."""
    if not isinstance(value, dict):
        return {}
    fields = {k: v if _scalar(v) else (is_value_ref(v) or bool(v)) for k, v in value.items()}
    while fields and len(canonical(fields)) > budget:
        longest = max(fields, key=lambda k: len(json.dumps(fields[k])))
        del fields[longest]
    return fields


def make_envelope(value: JSON, *, inline_limit: int, store_mode: StoreMode | None, store: ArtifactStore,
                  key: str, producer: str) -> Envelope:
    """The envelope for ``value`` (JSON); stores it under ``key`` when it cannot travel inline.

    ``store_mode`` is what the compiler asked of this step: ``"always"`` (a Batch step or a
    distributed fan-out reads it from S3), ``"inline"`` (an inline fan-out reads it from
    the state) or None (whichever fits).
    """
    data = canonical(value)
    size = len(data)
    limit = inline_limit + ENVELOPE_OVERHEAD
    if store_mode != "always":
        fields = _fit_fields(value, limit - size - 64)
        envelope = {"fields": fields, "ref": None, "value": value}
        if size <= inline_limit and len(canonical(envelope)) <= limit:
            return Envelope(envelope, size, None)
        if store_mode == "inline":
            raise OutputTooLargeError(
                f"{producer} returned {size:,} bytes, but a fan-out reads this list from the run's state, which "
                f"holds at most {inline_limit:,} bytes per output; declare a larger size (max_items=...) so the "
                "fan-out runs as a distributed map, or return less")
    store.write(key, data)
    fields = _fit_fields(value, limit - len(key) - 64)
    return Envelope({"fields": fields, "ref": key, "value": None}, size, key)


def read_envelope(envelope: JSON, store: ArtifactStore) -> JSON:
    """The output an envelope stands for (read from the store when it was stored).

    A ``ref`` to a ``manifest.json`` is the result of a distributed fan-out, written by
    Step Functions' result writer (or by the local target in the same format): it becomes
    the list of the items' outputs, in item order.
    """
    if envelope is None:
        return None
    ref = envelope.get("ref")
    if ref is None:
        return envelope.get("value")
    if ref.endswith("manifest.json"):
        return [read_envelope(item, store) for item in read_manifest(ref, store)]
    return json.loads(store.read(ref))


def read_manifest(key: str, store: ArtifactStore) -> list[JSON]:
    """The item outputs (envelopes) a distributed Map's result writer recorded, in item order."""
    manifest = json.loads(store.read(key))
    folder = key.rsplit("/", 1)[0]
    entries: list[tuple[int, JSON]] = []
    for result in manifest.get("ResultFiles", {}).get("SUCCEEDED", []):
        path = result["Key"] if "/" in result["Key"] else f"{folder}/{result['Key']}"
        for item in json.loads(store.read(path)):
            item_input = json.loads(item["Input"]) if isinstance(item.get("Input"), str) else item.get("Input", {})
            index = int(str(item_input.get("map_path", "0")).rsplit("/", 1)[-1])
            output = json.loads(item["Output"]) if isinstance(item.get("Output"), str) else item.get("Output")
            entries.append((index, output))
    return [output for _, output in sorted(entries, key=lambda entry: entry[0])]
