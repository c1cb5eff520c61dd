"""A ``cache=True`` step's cache: is there a result for this code on these inputs, still
young enough to reuse, and if not, why not (lineage keeps the reason; ``stepstone show``
prints it).

Records are at ``cache/<workflow>/<step>/<code hash>/<inputs hash>.json``
(``compiler.protocol.keys.cache_key``), so the reason for a miss is read off the keys
beside the one looked for: the same inputs under another code hash (the code changed),
the same code under other inputs (the inputs changed), neither (the first such run, or
the cache was cleared by ``stepstone run --refresh-cache``). That costs one listing of
the step's records, and only on a miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from compiler.protocol import CacheRecord

from .errors import NotFoundError
from .store import ArtifactStore

__all__ = ["CacheLookup", "cache_lookup"]


def _age_seconds(created: str | None) -> float | None:
    if not created:
        return None
    try:
        return (datetime.now(UTC) - datetime.fromisoformat(created)).total_seconds()
    except ValueError:
        return None


def _why_missed(store: ArtifactStore, key: str) -> str:
    step_folder, code, inputs_file = key.rsplit("/", 2)
    others = store.keys(step_folder + "/")
    if any(k.endswith("/" + inputs_file) for k in others if not k.startswith(f"{step_folder}/{code}/")):
        return "the code changed (the step's, the project code it calls, or a package version)"
    if any(k.startswith(f"{step_folder}/{code}/") for k in others):
        return "the inputs changed"
    return "no cached result yet (the first run of this code, or the cache was refreshed)"


@dataclass(frozen=True, slots=True)
class CacheLookup:
    """The record to reuse (None: run the step); when there is none, why; and whether one is
    there but expired (the step's new result then replaces it)."""

    record: CacheRecord | None
    miss: str | None = None
    expired: bool = False


def cache_lookup(store: ArtifactStore, key: str, ttl: int | None) -> CacheLookup:
    """What the cache holds for ``key``, for a step that reuses results for ``ttl`` seconds (None: always)."""
    try:
        record = CacheRecord.decode(store.read(key))
    except NotFoundError:
        return CacheLookup(None, _why_missed(store, key))
    if ttl is not None:
        age = _age_seconds(record.created)
        if age is None or age > ttl:
            told = "of unknown age" if age is None else f"{age / 3600:.1f} h old"
            return CacheLookup(None, f"expired: the result was {told}, the step reuses results for "
                                     f"{ttl / 3600:.1f} h", expired=True)
    return CacheLookup(record)
