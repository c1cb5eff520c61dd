"""Secrets a step declares: which secret, where it is kept, and which step may read it.

A secret's *value* never passes through the compiler: not in the ASL, not in a run's
input, not in the IR. What the compiler knows is the declaration, ``@step(secrets=[...])``
of :class:`SecretRef` objects (``stepstone.Secret``, whose ``value()`` reads it in the
running step, is the runtime's: ``lambdas/secrets.py``), which cdk/ turns into the step's
only grants on Secrets Manager and Parameter Store.

Names are checked where they are written, by the rules of the store:

- Secrets Manager: 1 to 512 ASCII letters, digits and ``/_+=.@-``, not ending in a hyphen
  and six characters (Secrets Manager appends ``-`` and six random characters to the ARN,
  and such a name makes ARNs ambiguous).
- Parameter Store: at most 1,011 of ``a-zA-Z0-9_.-/``; a name in a hierarchy starts with
  ``/``, has at most 15 levels, and no name starts with ``aws`` or ``ssm``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, TypeAlias

from .errors import CompileError, Location, caller_location

__all__ = ["SecretRef", "SecretStore", "secrets_option"]

SecretStore: TypeAlias = Literal["secretsmanager", "ssm"]
STORES: dict[str, str] = {"secretsmanager": "AWS Secrets Manager", "ssm": "SSM Parameter Store"}

_SECRETS_MANAGER_NAME = re.compile(r"^[A-Za-z0-9/_+=.@-]{1,512}\Z")
_SSM_NAME = re.compile(r"^[A-Za-z0-9_./-]{1,1011}\Z")
_SSM_MAX_LEVELS = 15


def _bad_name(message: str, hint: str) -> CompileError:
    return CompileError(message, rule="bad-secret-name", location=caller_location(), hint=hint)


def _check_secrets_manager(name: str) -> None:
    if not _SECRETS_MANAGER_NAME.match(name):
        raise _bad_name(f"Secret({name!r}): a Secrets Manager name is 1 to 512 ASCII letters, digits and '/_+=.@-'",
                        hint="write it as Secrets Manager shows it, e.g. Secret('prod/warehouse-password')")
    if re.search(r"-[A-Za-z0-9]{6}$", name):
        raise _bad_name(f"Secret({name!r}) ends in a hyphen and six characters, which Secrets Manager adds to every "
                        "secret's ARN itself; such a name makes the ARN ambiguous",
                        hint=f"rename the secret, e.g. {name.rsplit('-', 1)[0] + '_' + name.rsplit('-', 1)[1]!r}")


def _check_ssm(name: str) -> None:
    if not _SSM_NAME.match(name):
        raise _bad_name(f"Secret({name!r}, store='ssm'): a Parameter Store name is at most 1,011 of letters, digits "
                        "and '_.-/'", hint="write the parameter's full name, e.g. Secret('/ml/api-token', store='ssm')")
    if "/" in name and not name.startswith("/"):
        raise _bad_name(f"Secret({name!r}, store='ssm'): a parameter in a hierarchy starts with '/'",
                        hint=f"write Secret({'/' + name!r}, store='ssm')")
    levels = [part for part in name.split("/") if part]
    if not levels or "" in name[1:].split("/"):
        raise _bad_name(f"Secret({name!r}, store='ssm'): a parameter name has no empty levels",
                        hint="write it as /team/app/name")
    if len(levels) > _SSM_MAX_LEVELS:
        raise _bad_name(f"Secret({name!r}, store='ssm') has {len(levels)} levels; Parameter Store allows "
                        f"{_SSM_MAX_LEVELS}", hint="shorten the hierarchy")
    if levels[0].lower().startswith(("aws", "ssm")):
        raise _bad_name(f"Secret({name!r}, store='ssm'): names starting with 'aws' or 'ssm' are AWS's own",
                        hint="read a Secrets Manager secret as Secret('name'), not through /aws/reference/...; "
                             "rename your own parameter")


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A secret by name and store, never by value: what ``@step(secrets=[...])`` declares.

    ``store`` is ``"secretsmanager"`` (the default: AWS Secrets Manager) or ``"ssm"`` (an
    SSM Parameter Store SecureString, read decrypted).
    """

    name: str
    store: SecretStore = "secretsmanager"

    def __post_init__(self) -> None:
        if self.store not in STORES:
            raise CompileError(f"Secret(..., store={self.store!r}): the store is 'secretsmanager' or 'ssm'",
                               rule="bad-option", location=caller_location(),
                               hint="leave store= out for Secrets Manager, or write store='ssm' for Parameter Store")
        if not isinstance(self.name, str):
            raise _bad_name(f"Secret({self.name!r}): the name is a string", hint="write Secret('prod/db-password')")
        if self.store == "ssm":
            _check_ssm(self.name)
        else:
            _check_secrets_manager(self.name)

    @property
    def key(self) -> tuple[str, str]:
        return (self.store, self.name)

    @property
    def where(self) -> str:
        """``"AWS Secrets Manager"`` or ``"SSM Parameter Store"``."""
        return STORES[self.store]

    def __repr__(self) -> str:
        return f"Secret({self.name!r})" if self.store == "secretsmanager" else f"Secret({self.name!r}, store='ssm')"


def secrets_option(value: object, location: Location | None) -> tuple[SecretRef, ...]:
    """``@step(secrets=...)`` checked: a list of Secret objects, sorted, each once."""
    if value is None:
        return ()
    items: Iterable[object] = value if isinstance(value, (list, tuple, set, frozenset)) else (value,)
    found: dict[tuple[str, str], SecretRef] = {}
    for item in items:
        if not isinstance(item, SecretRef):
            raise CompileError(f"secrets= takes Secret objects, got {item!r}", rule="bad-option",
                               location=location,
                               hint="declare it once at module level, PASSWORD = Secret('prod/db-password'), "
                                    "and write @step(secrets=[PASSWORD])")
        found.setdefault(item.key, item)
    return tuple(found[key] for key in sorted(found))
