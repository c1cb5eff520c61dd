"""The runtime's exceptions, in one place.

What a step's code may meet (each named in a step's failure, so Retry and Catch can match it):

- :class:`InvalidInputError`: an input that does not fit its parameter's type;
- :class:`OutputTooLargeError`: an output an inline fan-out must read from the state, too big for it;
- :class:`SecretNotSetError`, :class:`UndeclaredSecretError`, :class:`SecretUnavailableError`:
  reading a secret (``stepstone.Secret``) went wrong;
- :class:`InjectedFaultError`, :class:`InjectedTransientFaultError`: faults asked for with
  ``STEPSTONE_FAULTS`` (:class:`FaultSpecError` when it cannot be read);
- :class:`RemoteError`: the base of an error caught by ``except ... as e`` and handed to a step.

What the runtime's callers meet: :class:`StepFailedError` (a step failed: the name Retry
and Catch match, and the cause), :class:`NotFoundError` (no artifact under a key) and
:class:`BadEventError` (an S3 event that names no object).
"""

from __future__ import annotations

from compiler.dsl.errors import PermanentError, TransientError

__all__ = [
    "BadEventError",
    "FaultSpecError",
    "InjectedFaultError",
    "InjectedTransientFaultError",
    "InvalidInputError",
    "NotFoundError",
    "OutputTooLargeError",
    "RemoteError",
    "SecretNotSetError",
    "SecretUnavailableError",
    "StepFailedError",
    "UndeclaredSecretError",
]


class InvalidInputError(PermanentError):
    """A step's input does not fit its parameter's type (retrying cannot help)."""


class OutputTooLargeError(PermanentError):
    """A step's output must stay in the state (an inline fan-out reads it) but does not fit."""


class RemoteError(Exception):
    """An error caught by ``except ... as e`` in the workflow, handed to a step as a value.

    Its class is named after the original error, so ``type(e).__name__`` reads as it did.
    """


class StepFailedError(Exception):
    """A step failed; ``error`` is the name Retry/Catch match, ``cause`` the message."""

    def __init__(self, error: str, cause: str, trace: str = "") -> None:
        super().__init__(f"{error}: {cause}")
        self.error = error
        self.cause = cause
        self.trace = trace


class NotFoundError(KeyError):
    """No artifact under that key."""


class SecretNotSetError(PermanentError):
    """Outside AWS, the environment variable that holds a secret is not set."""


class UndeclaredSecretError(PermanentError):
    """A step read a secret it does not declare in ``@step(secrets=[...])`` (or read one outside a step)."""


class SecretUnavailableError(Exception):
    """Secrets Manager or Parameter Store did not give the value (missing, denied, throttled)."""


class FaultSpecError(ValueError):
    """``STEPSTONE_FAULTS`` cannot be read; the message says which entry and how to write it."""


class InjectedFaultError(PermanentError):
    """A permanent failure injected by ``STEPSTONE_FAULTS``."""


class InjectedTransientFaultError(TransientError):
    """A transient failure injected by ``STEPSTONE_FAULTS``."""


class BadEventError(ValueError):
    """The event names no object a run could read: no run starts."""


class CodecError(PermanentError):
    """A value its codec cannot write or read: a value of a type the codec does not carry, bytes
    not in its format, a library the codec needs that is not installed, a codec with no
    implementation in this process. The message names the codec (and the key, when reading)."""


class CorruptValueError(PermanentError):
    """Stored bytes that are not the bytes that were stored: their content hash differs from
    the one recorded when they were written. They are never decoded nor reused; the message
    names the key."""

    def __init__(self, key: str, expected: str, actual: str) -> None:
        super().__init__(f"the stored value {key!r} has changed since it was written (content hash {actual}, "
                         f"recorded {expected}): it is not read; run the step that made it again")
        self.key = key
        self.expected = expected
        self.actual = actual

    def __reduce__(self) -> tuple[type[CorruptValueError], tuple[str, str, str]]:  # pickled by another process
        return type(self), (self.key, self.expected, self.actual)
