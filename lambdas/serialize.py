"""Python values <-> JSON, the way step inputs and outputs travel (pydantic does both ways).
Canonical bytes and content hashes are the protocol's (``compiler.protocol.encoding``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import to_jsonable_python

__all__ = ["from_json", "to_json"]


def to_json(value: Any) -> Any:
    """A step's result as JSON values: pydantic models, dataclasses, dates and sets become JSON."""
    return to_jsonable_python(value)


@lru_cache(maxsize=512)
def _adapter(annotation: Any) -> TypeAdapter[Any]:
    return TypeAdapter(annotation)


def from_json(raw: Any, annotation: Any) -> Any:
    """JSON as the type a step's parameter is annotated with (validated by pydantic)."""
    try:
        return _adapter(annotation).validate_python(raw)
    except TypeError:  # an annotation that cannot be hashed (rare): no cache
        return TypeAdapter(annotation).validate_python(raw)
