"""What the app deploys and how, from cdk.json's context (or ``cdk ... -c key=value``):

- ``stepstone:workflows``: workflow files (globs, relative to the project), default ``examples/*.py``;
- ``stepstone:localstack``: ``true`` to deploy to LocalStack (``stepstone deploy --localstack``):
  Batch steps run as Lambda functions there, and schedules that LocalStack can fire become
  EventBridge rules;
- ``stepstone:log-level``: the state machines' CloudWatch Logs level (ALL, ERROR, FATAL, OFF), default ALL;
- ``stepstone:alarm-email``: an address subscribed to the failed/timed-out run alarms;
- ``stepstone:requirements``: a requirements file with packages every workflow file's steps
  get, beside what each file declares with ``stepstone.packages(...)``;
- ``stepstone:vpc`` and ``stepstone:subnets``: an existing VPC and the subnets (comma
  separated) Batch instances start in; default: a VPC of the app's own;
- ``stepstone:python``: the functions' Python (``3.12``; default: this one when Lambda runs
  it on Amazon Linux 2023, else 3.12, see ``compiler/deployment/runtimes.py``);
- ``stepstone:create-trigger-buckets``: ``true`` to have the app make the buckets its
  ``s3_upload`` triggers watch (private, encrypted, sending their events to EventBridge);
  by default they are yours, and must send their events to EventBridge.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.deployment.runtimes import RUNTIMES

from .errors import SettingsError

__all__ = ["LOG_LEVELS", "Settings", "SettingsError"]

LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
PREFIX = "stepstone:"


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("1", "true", "yes"))


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v) for v in value]


@dataclass(frozen=True, kw_only=True)
class Settings:
    workflow_files: tuple[Path, ...]
    localstack: bool = False
    log_level: str = "ALL"
    alarm_email: str | None = None
    requirements: tuple[str, ...] = ()
    create_trigger_buckets: bool = False
    python: str | None = None
    vpc_id: str | None = None
    subnet_ids: tuple[str, ...] = ()

    @classmethod
    def from_context(cls, get: Any, root: Path) -> Settings:
        """``get(name)`` reads a context value (``node.try_get_context``)."""
        patterns = _list(get(PREFIX + "workflows")) or ["examples/*.py"]
        files: list[Path] = []
        for pattern in patterns:
            found = sorted(Path(p) for p in glob.glob(str(root / pattern)))
            found = [p for p in found if p.suffix == ".py" and not p.name.startswith("_")]
            if not found:
                raise SettingsError(f"{PREFIX}workflows: {pattern!r} matches no workflow file under {root}")
            files.extend(p for p in found if p not in files)
        level = str(get(PREFIX + "log-level") or "ALL").upper()
        if level not in LOG_LEVELS:
            raise SettingsError(f"{PREFIX}log-level is {level!r}; it takes one of {', '.join(LOG_LEVELS)}")
        requirements: list[str] = []
        requirements_file = get(PREFIX + "requirements")
        if requirements_file:
            path = root / str(requirements_file)
            if not path.is_file():
                raise SettingsError(f"{PREFIX}requirements: no file {path}")
            requirements = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
            requirements = [r for r in requirements if r and not r.startswith("-")]
        python = get(PREFIX + "python")
        if python is not None and str(python) not in RUNTIMES:
            raise SettingsError(f"{PREFIX}python is {python!r}; Lambda runs {', '.join(RUNTIMES)}")
        vpc = get(PREFIX + "vpc")
        subnets = tuple(_list(get(PREFIX + "subnets")))
        if bool(vpc) != bool(subnets):
            raise SettingsError(f"{PREFIX}vpc and {PREFIX}subnets go together: the VPC and the subnets in it where "
                                "Batch instances start")
        email = get(PREFIX + "alarm-email")
        return cls(workflow_files=tuple(files), localstack=_flag(get(PREFIX + "localstack")), log_level=level,
                   alarm_email=str(email) if email else None, requirements=tuple(requirements),
                   create_trigger_buckets=_flag(get(PREFIX + "create-trigger-buckets")),
                   python=str(python) if python is not None else None, vpc_id=str(vpc) if vpc else None,
                   subnet_ids=subnets)
