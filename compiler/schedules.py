"""When a workflow runs by itself: ``cron(...)`` and ``rate(...)`` schedules.

The expressions are EventBridge Scheduler's: ``cron(minutes hours day-of-month month
day-of-week year)`` with ``?`` in one of the two day fields, and ``rate(N unit)``. They are
checked here, when written, so a typo is reported at its line instead of by
CloudFormation half-way through a deploy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .errors import CompileError, Location, caller_location

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


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

# field name, low, high, names accepted for values, extra tokens allowed
_CRON_FIELDS: tuple[tuple[str, int, int, list[str], str], ...] = (
    ("minutes", 0, 59, [], ""),
    ("hours", 0, 23, [], ""),
    ("day-of-month", 1, 31, [], "?LW"),
    ("month", 1, 12, _MONTHS, ""),
    ("day-of-week", 1, 7, _DAYS, "?L#"),
    ("year", 1970, 2199, [], ""),
)
_CRON_EXAMPLE = 'cron("0 3 * * ? *") runs every day at 03:00'


def _cron_value(token: str, low: int, high: int, names: list[str]) -> int | None:
    if token.upper() in names:
        return low + names.index(token.upper())
    if token.isdigit() and low <= int(token) <= high:
        return int(token)
    return None


def _check_cron_field(text: str, name: str, low: int, high: int, names: list[str], extra: str) -> str | None:
    """Why ``text`` is not a valid cron ``name`` field, or None when it is."""
    if text == "*":
        return None
    if text == "?":
        return None if "?" in extra else f"'?' is allowed only in day-of-month or day-of-week, not in {name}"
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return f"{name}: '/{step}' must be a positive increment"
        if base in ("*", ""):
            if not base:
                return f"{name}: '{part}' is missing a value"
            continue
        if "L" in extra and base in ("L", "LW") and name == "day-of-month":
            continue
        if name == "day-of-month" and base.endswith("W") and _cron_value(base[:-1], low, high, names) is not None:
            continue
        if name == "day-of-week" and "#" in base:
            day, _, nth = base.partition("#")
            if _cron_value(day, low, high, names) is None or nth not in "12345" or not nth:
                return f"{name}: '{base}' must be DAY#N with N from 1 to 5, e.g. MON#1"
            continue
        if name == "day-of-week" and base.endswith("L") and _cron_value(base[:-1], low, high, names) is not None:
            continue
        start, dash, end = base.partition("-")
        for value in (start, end) if dash else (start,):
            if _cron_value(value, low, high, names) is None:
                allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
                return f"{name}: '{value}' is not in {allowed}"
    return None


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
    """Run on a cron schedule, in ``timezone`` (an IANA name such as ``"Europe/Berlin"``).

    The expression has six fields, as EventBridge Scheduler takes it: minutes, hours,
    day-of-month, month, day-of-week, year; one of the day fields must be ``?``.
    ``params`` are the workflow parameters each scheduled run gets.
    """
    location = caller_location()
    if not isinstance(expression, str):
        raise CompileError(f"cron() takes the expression as a string, got {expression!r}", rule="bad-schedule",
                           location=location, hint=_CRON_EXAMPLE)
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        text = text[5:-1].strip()
    fields = text.split()
    if len(fields) != 6:
        raise CompileError(
            f"cron expression {expression!r} has {len(fields)} fields; it needs 6 "
            "(minutes hours day-of-month month day-of-week year)",
            rule="bad-schedule",
            location=location,
            hint=_CRON_EXAMPLE + " (EventBridge adds a year field and needs '?' in one day field)",
        )
    for value, (name, low, high, names, extra) in zip(fields, _CRON_FIELDS, strict=True):
        problem = _check_cron_field(value, name, low, high, names, extra)
        if problem:
            raise CompileError(f"cron expression {expression!r}: {problem}", rule="bad-schedule",
                               location=location, hint=_CRON_EXAMPLE)
    if (fields[2] == "?") == (fields[4] == "?"):
        raise CompileError(
            f"cron expression {expression!r}: exactly one of day-of-month and day-of-week must be '?'",
            rule="bad-schedule",
            location=location,
            hint="write '0 3 * * ? *' (every day) or '0 3 ? * MON *' (every Monday)",
        )
    problem = _check_timezone(timezone)
    if problem:
        raise CompileError(problem, rule="bad-timezone", location=location,
                           hint="use an IANA time zone name such as 'Europe/Berlin' or 'UTC'")
    return Schedule(expression=f"cron({' '.join(fields)})", timezone=timezone, params=dict(params or {}),
                    location=location)


_RATE_UNITS = {"minute": "minute", "minutes": "minute", "hour": "hour", "hours": "hour", "day": "day", "days": "day"}


def rate(value: int | str, unit: str | None = None, *, params: Mapping[str, Any] | None = None) -> Schedule:
    """Run every ``value`` ``unit`` (minutes, hours or days): ``rate(6, "hours")`` or ``rate("6 hours")``."""
    location = caller_location()
    if isinstance(value, str) and unit is None:
        text = value.strip()
        if text.startswith("rate(") and text.endswith(")"):
            text = text[5:-1]
        number, _, unit = text.strip().partition(" ")
        value = int(number) if number.isdigit() else number
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CompileError(f"rate() needs a positive whole number, got {value!r}", rule="bad-schedule",
                           location=location, hint='write rate(6, "hours") or rate("1 day")')
    canonical = _RATE_UNITS.get((unit or "").strip().lower())
    if canonical is None:
        raise CompileError(f"rate() unit must be minutes, hours or days, got {unit!r}", rule="bad-schedule",
                           location=location, hint='write rate(6, "hours") or rate("1 day")')
    plural = canonical if value == 1 else canonical + "s"
    return Schedule(expression=f"rate({value} {plural})", timezone="UTC", params=dict(params or {}),
                    location=location)
