"""When a workflow runs by itself: ``cron(...)`` and ``rate(...)`` schedules.

The expressions are EventBridge Scheduler's: ``cron(minutes hours day-of-month month
day-of-week year)`` with ``?`` in one of the two day fields, and ``rate(N unit)`` (their
grammar is ``expressions.py``). They are checked here, when written, so a typo is reported
at its line instead of by CloudFormation half-way through a deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import CompileError, Location, caller_location
from .expressions import parse_cron, parse_rate

__all__ = ["Schedule", "cron", "rate"]


@dataclass(frozen=True, slots=True)
class Schedule:
    """A schedule as EventBridge Scheduler takes it, with the parameters each run gets."""

    expression: str
    timezone: str = "UTC"
    params: Mapping[str, Any] = field(default_factory=dict)
    location: Location | None = None

    @property
    def is_cron(self) -> bool:
        return self.expression.startswith("cron(")


_CRON_EXAMPLE = 'cron("0 3 * * ? *") runs every day at 03:00'


def _check_timezone(timezone: str) -> str | None:
    if not isinstance(timezone, str) or not timezone:
        return "the time zone must be a name such as 'Europe/Berlin'"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        import difflib

        close = difflib.get_close_matches(timezone, sorted(available_timezones()), n=1, cutoff=0.6)
        suggestion = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown time zone {timezone!r}{suggestion}"
    return None


def cron(expression: str, *, timezone: str = "UTC", params: Mapping[str, Any] | None = None) -> Schedule:
    """Run on a cron schedule: ``@workflow(schedule=cron("0 3 * * ? *"))`` runs every day at 03:00.

    Args:
        expression: Six fields, as EventBridge Scheduler takes them: minutes, hours,
            day-of-month, month, day-of-week, year. Exactly one of the two day fields is
            ``?``: ``"0 3 * * ? *"`` (every day), ``"0 3 ? * MON *"`` (every Monday),
            ``"*/15 * * * ? *"`` (every 15 minutes).
        timezone: The time zone the hours are in, an IANA name such as ``"Europe/Berlin"``
            (daylight saving time included).
        params: The workflow parameters each scheduled run gets; the others take their
            defaults, so every parameter without a default must be here.

    Returns:
        The schedule, for ``@workflow(schedule=...)``.
    """
    location = caller_location()
    if not isinstance(expression, str):
        raise CompileError(f"cron() takes the expression as a string, got {expression!r}", rule="bad-schedule",
                           location=location, hint=_CRON_EXAMPLE)
    try:
        parsed = parse_cron(expression)
    except ValueError as exc:
        message = str(exc)
        hint = _CRON_EXAMPLE
        if "fields; it needs 6" in message:
            hint += " (EventBridge adds a year field and needs '?' in one day field)"
        elif "exactly one of day-of-month and day-of-week" in message:
            hint = "write '0 3 * * ? *' (every day) or '0 3 ? * MON *' (every Monday)"
        raise CompileError(message, rule="bad-schedule", location=location, hint=hint) from None
    problem = _check_timezone(timezone)
    if problem:
        raise CompileError(problem, rule="bad-timezone", location=location,
                           hint="use an IANA time zone name such as 'Europe/Berlin' or 'UTC'")
    return Schedule(expression=parsed.expression, timezone=timezone, params=dict(params or {}),
                    location=location)


def rate(value: int | str, unit: str | None = None, *, params: Mapping[str, Any] | None = None) -> Schedule:
    """Run at a fixed interval: ``rate(6, "hours")`` or ``rate("6 hours")``, in UTC.

    Args:
        value: How many units between runs (a whole number), or the whole rate as text.
        unit: ``"minutes"``, ``"hours"`` or ``"days"`` (or the singular, for 1).
        params: The workflow parameters each scheduled run gets, as for [`cron`][stepstone.cron].

    Returns:
        The schedule, for ``@workflow(schedule=...)``.
    """
    location = caller_location()
    try:
        parsed = parse_rate(value, unit)
    except ValueError as exc:
        raise CompileError(str(exc), rule="bad-schedule", location=location,
                           hint='write rate(6, "hours") or rate("1 day")') from None
    return Schedule(expression=parsed.expression, timezone="UTC", params=dict(params or {}), location=location)
