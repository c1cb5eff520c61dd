"""What ``@step`` and ``@workflow`` objects share: the function they wrap and where it is."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Generic, ParamSpec, TypeVar

from .errors import Location

__all__ = ["Decorated"]

P = ParamSpec("P")
R = TypeVar("R")


class Decorated(Generic[P, R]):
    """A decorated function: keeps the function, its signature and its ``def`` line, and
    looks like the function to tools (name, module, docstring, ``__wrapped__``)."""

    def __init__(self, fn: Callable[P, R], location: Location) -> None:
        self.fn = fn
        self.location = location
        self.signature = inspect.signature(fn)
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn
