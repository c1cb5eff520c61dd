"""An envelope: how a step's output travels through a run's state.

``{"fields": {...}, "value": ..., "ref": ...}``: ``fields`` holds the output's top-level
scalar fields (so conditions can test them); ``value`` holds the whole output when it is
small, else null; ``ref`` is the key (in the artifact store) of the output when it was
stored there, else null. The serialized envelope must not exceed ``inline_limit +
ENVELOPE_OVERHEAD`` bytes (``inline_limit`` is chosen by the compiler per workflow so that
no state can exceed 256 KiB): the runner keeps ``value`` inline only when the envelope then
fits, and drops the longest string fields until ``fields`` fits. A ``ref`` that names a
``manifest.json`` is a distributed fan-out's results (Step Functions' result writer's).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ENVELOPE_KEYS", "ENVELOPE_OVERHEAD", "envelope"]

ENVELOPE_OVERHEAD = 512  # bytes an envelope may add around its inline value
ENVELOPE_KEYS = ("fields", "ref", "value")


def envelope(value: Any = None, *, ref: Any = None, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """An envelope of ``value`` (inline), or of a stored output at ``ref``."""
    return {"fields": fields or {}, "ref": ref, "value": value}
