"""A local step's attempts: its timeout enforced, and the waits between retries as the
compiled Retry list says (``compiler.asl.matching``: the same rules Step Functions follows)."""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any

from compiler.dsl.errors import StepTimeoutError

__all__ = ["Invoke", "timeout_invoker"]

Invoke = Callable[[Callable[..., Any], dict[str, Any]], Any]


def timeout_invoker(seconds: int | None) -> Invoke | None:
    """A way to call a step's function that ends it with :class:`StepTimeoutError` (reported
    as ``States.Timeout``) after ``seconds``; None: a plain call. The step runs in a thread
    of its own, which is left behind when it overruns, as Lambda leaves an invocation."""
    if seconds is None:
        return None

    def invoke(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        box: dict[str, Any] = {}
        context = contextvars.copy_context()  # the step's context (where save_artifact writes) goes along

        def target() -> None:
            try:
                box["value"] = context.run(fn, **kwargs)
            except BaseException as exc:  # handed to the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=target, daemon=True, name="stepstone-step")
        thread.start()
        thread.join(seconds)
        if thread.is_alive():
            raise StepTimeoutError(f"the step ran longer than its timeout of {seconds} seconds")
        if "error" in box:
            raise box["error"]
        return box.get("value")

    return invoke
