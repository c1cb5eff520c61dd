"""Unique names: state names, value keys. The second use of a name gets ``_2``, then ``_3``."""

from __future__ import annotations

__all__ = ["unique_name"]


def unique_name(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever is free first; it is then taken."""
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken.add(name)
    return name
