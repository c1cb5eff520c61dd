"""What ``@step`` and ``@workflow`` objects share: the function they wrap, where it is
written, and the reference (``module:qualname``) by which the step runner, the local target
and nested runs import it again."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

from .errors import Location

__all__ = ["Decorated", "import_ref"]

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

    @property
    def ref(self) -> str:
        """How the function is imported again: ``module:qualname`` (see :func:`import_ref`)."""
        return f"{self.fn.__module__}:{self.fn.__qualname__}"


def import_ref(ref: str) -> Any:
    """The object named ``module:qualname`` (how steps and workflows refer to each other)."""
    module_name, _, qualname = ref.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target
