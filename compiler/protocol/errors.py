"""The protocol's one exception: a record that does not have the shape the protocol gives it."""

from __future__ import annotations

__all__ = ["ProtocolError"]


class ProtocolError(ValueError):
    """A payload, environment or stored record that is not what its writer must have written:
    a bug, a hand-edited file or an old record. The message names the record and the field."""
