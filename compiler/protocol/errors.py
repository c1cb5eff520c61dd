"""The protocol's one exception: a record that does not have the shape the protocol gives it."""

from __future__ import annotations

__all__ = ["ProtocolError"]


class ProtocolError(ValueError):
    """A payload, environment or stored record that is not what its writer must have written:
    a bug, a hand-edited file or an old record. The message names the record and the field."""


class CodecRegistrationError(ValueError):
    """A codec that cannot be registered: a name already taken (or a built-in's), a media
    type or file suffix of the wrong form, or neither types nor a predicate to match values by.
    The message names the codec and says what to write instead."""


class UnknownCodecError(LookupError):
    """A codec name no codec registered in this process has: a stored value written by a
    codec whose module (the one that calls ``register_codec``) was not imported here."""
