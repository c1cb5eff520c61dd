"""Exceptions a step raises to tell stepstone how to treat a failure.

A step reports an exception by its class name, which is what the compiled ``Retry`` and
``Catch`` fields match. These two classes carry a meaning of their own: by default every
failure is retried except a :class:`PermanentError` (bad input, a rejected model: trying
again cannot help), and a :class:`TransientError` (a throttled API, a lost connection) is
the one to name in ``Retry(on=[TransientError])`` when only those should be retried.
"""

from __future__ import annotations

__all__ = ["PermanentError", "StepTimeout", "TransientError"]


class PermanentError(Exception):
    """A failure that retrying cannot fix; never retried by a catch-all ``Retry``."""


class TransientError(Exception):
    """A failure that may go away on its own; retry it."""


class StepTimeout(Exception):
    """A step ran longer than its ``timeout=``: ``except StepTimeout`` catches that, and
    ``Retry(on=[StepTimeout])`` retries it. Step Functions reports it as ``States.Timeout``
    (the name the compiled Catch and Retry match); the step itself never raises it."""

    error_name = "States.Timeout"
