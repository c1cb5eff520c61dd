"""The grammar of schedule expressions: EventBridge's ``cron(...)`` and ``rate(...)``.

One reading of the grammar serves both its users: ``cron()``/``rate()`` check what a
workflow writes (the messages say which field is wrong and why), and the cost model counts
how often a schedule fires from the same parsed fields (:meth:`Cron.fires_on`).

``cron(minutes hours day-of-month month day-of-week year)``: six fields, exactly one of
the two day fields ``?``; values, ranges ``a-b``, steps ``a/n`` and ``*/n``, lists; month
and day names (``JAN``, ``MON``); ``L``, ``W``, ``LW`` in day-of-month, ``L`` and ``#`` in
day-of-week (days are numbered 1, Sunday, to 7). ``rate(N unit)`` with minute(s), hour(s)
or day(s). A malformed expression raises :class:`ValueError` with the reason.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

__all__ = ["DAYS", "MONTHS", "Cron", "Rate", "parse_cron", "parse_rate"]

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
RATE_UNITS = {"minute": 1, "hour": 60, "day": 24 * 60}  # minutes each


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    extra: str = ""  # tokens beyond numbers and names the field takes


_FIELDS = (
    _Field("minutes", 0, 59),
    _Field("hours", 0, 23),
    _Field("day-of-month", 1, 31, extra="?LW"),
    _Field("month", 1, 12, MONTHS),
    _Field("day-of-week", 1, 7, DAYS, extra="?L#"),
    _Field("year", 1970, 2199),
)


def _number(token: str, spec: _Field) -> int | None:
    if token.upper() in spec.names:
        return spec.low + spec.names.index(token.upper())
    if token.isdigit() and spec.low <= int(token) <= spec.high:
        return int(token)
    return None


def _problem(text: str, spec: _Field) -> str | None:
    """Why ``text`` is not a valid ``spec`` field, or None when it is."""
    name = spec.name
    if text == "*":
        return None
    if text == "?":
        return None if "?" in spec.extra else f"'?' is allowed only in day-of-month or day-of-week, not in {name}"
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return f"{name}: '/{step}' must be a positive increment"
        if base in ("*", ""):
            if not base:
                return f"{name}: '{part}' is missing a value"
            continue
        if name == "day-of-month" and base in ("L", "LW"):
            continue
        if name == "day-of-month" and base.endswith("W") and _number(base[:-1], spec) is not None:
            continue
        if name == "day-of-week" and "#" in base:
            day, _, nth = base.partition("#")
            if _number(day, spec) is None or nth not in "12345" or not nth:
                return f"{name}: '{base}' must be DAY#N with N from 1 to 5, e.g. MON#1"
            continue
        if name == "day-of-week" and base.endswith("L") and _number(base[:-1], spec) is not None:
            continue
        start, dash, end = base.partition("-")
        for value in (start, end) if dash else (start,):
            if _number(value, spec) is None:
                allowed = f"{spec.low}-{spec.high}" + (f" or {spec.names[0]}-{spec.names[-1]}" if spec.names else "")
                return f"{name}: '{value}' is not in {allowed}"
    return None


def _checked(token: str, spec: _Field) -> int:
    number = _number(token, spec)
    assert number is not None, f"{token!r} was checked by _problem"
    return number


def _values(text: str, spec: _Field) -> frozenset[int]:
    """The numbers a checked field (``*``, ``a``, ``a-b``, ``a/n``, ``*/n``, lists) stands for."""
    found: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            start, end = spec.low, spec.high
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _checked(first, spec), _checked(last, spec)
        else:
            start = _checked(base, spec)
            end = spec.high if step_text else start
        found.update(range(start, end + 1, step))
    return frozenset(found)


def _nearest_weekday(year: int, month: int, wanted: int) -> int:
    last = calendar.monthrange(year, month)[1]
    day = min(wanted, last)
    weekday = date(year, month, day).weekday()  # Monday 0
    if weekday == 5:  # Saturday: Friday before, or Monday after when the 1st
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: Monday after, or Friday before when the last
        return day + 1 if day < last else day - 2
    return day


@dataclass(frozen=True, slots=True)
class Cron:
    """A checked cron expression, field by field."""

    minutes: str
    hours: str
    day_of_month: str
    month: str
    day_of_week: str
    year: str

    @property
    def expression(self) -> str:
        """As EventBridge takes it: ``cron(0 3 * * ? *)``."""
        return f"cron({self.minutes} {self.hours} {self.day_of_month} {self.month} {self.day_of_week} {self.year})"

    @property
    def times_a_day(self) -> int:
        """How often it fires on a day it fires on."""
        return len(_values(self.minutes, _FIELDS[0])) * len(_values(self.hours, _FIELDS[1]))

    @property
    def years(self) -> frozenset[int]:
        return _values(self.year, _FIELDS[5])

    def fires_on(self, day: date) -> bool:
        """Whether it fires on ``day`` (in its own time zone)."""
        return (day.month in _values(self.month, _FIELDS[3]) and day.year in self.years
                and self._day_of_month(day) and self._day_of_week(day))

    def _day_of_month(self, day: date) -> bool:
        text = self.day_of_month
        if text in ("*", "?"):
            return True
        last = calendar.monthrange(day.year, day.month)[1]
        for part in text.split(","):
            if part == "L":
                if day.day == last:
                    return True
            elif part == "LW":
                if day.day == _nearest_weekday(day.year, day.month, last):
                    return True
            elif part.endswith("W"):
                if day.day == _nearest_weekday(day.year, day.month, int(part[:-1])):
                    return True
            elif day.day in _values(part, _FIELDS[2]):
                return True
        return False

    def _day_of_week(self, day: date) -> bool:
        text = self.day_of_week
        if text in ("*", "?"):
            return True
        spec = _FIELDS[4]
        weekday = (day.weekday() + 1) % 7 + 1  # EventBridge: 1 (Sunday) to 7 (Saturday)
        last = calendar.monthrange(day.year, day.month)[1]
        for part in text.split(","):
            if part == "L":
                if weekday == 7:
                    return True
            elif "#" in part:
                name, _, nth = part.partition("#")
                if weekday == _number(name, spec) and (day.day - 1) // 7 + 1 == int(nth):
                    return True
            elif part.endswith("L"):
                if weekday == _number(part[:-1], spec) and day.day + 7 > last:
                    return True
            elif weekday in _values(part, spec):
                return True
        return False


def parse_cron(expression: str) -> Cron:
    """``"0 3 * * ? *"`` or ``"cron(0 3 * * ? *)"`` checked; ValueError says what is wrong."""
    text = expression.strip()
    if text.startswith("cron(") and text.endswith(")"):
        text = text[5:-1].strip()
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise ValueError(f"cron expression {expression!r} has {len(fields)} fields; it needs 6 "
                         "(minutes hours day-of-month month day-of-week year)")
    for value, spec in zip(fields, _FIELDS, strict=True):
        problem = _problem(value, spec)
        if problem:
            raise ValueError(f"cron expression {expression!r}: {problem}")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValueError(f"cron expression {expression!r}: exactly one of day-of-month and day-of-week must be '?'")
    return Cron(*fields)


@dataclass(frozen=True, slots=True)
class Rate:
    """A checked rate expression: every ``value`` ``unit`` (minute, hour or day)."""

    value: int
    unit: str

    @property
    def expression(self) -> str:
        return f"rate({self.value} {self.unit if self.value == 1 else self.unit + 's'})"

    @property
    def minutes(self) -> int:
        return self.value * RATE_UNITS[self.unit]


def parse_rate(value: int | str, unit: str | None = None) -> Rate:
    """``rate(6, "hours")``, ``"6 hours"`` or ``"rate(6 hours)"`` checked; ValueError says what is wrong."""
    if isinstance(value, str) and unit is None:
        text = value.strip()
        if text.startswith("rate(") and text.endswith(")"):
            text = text[5:-1]
        number, _, unit = text.strip().partition(" ")
        value = int(number) if number.isdigit() else number
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"rate() needs a positive whole number, got {value!r}")
    canonical = (unit or "").strip().lower()
    canonical = canonical[:-1] if canonical.endswith("s") else canonical
    if canonical not in RATE_UNITS:
        raise ValueError(f"rate() unit must be minutes, hours or days, got {unit!r}")
    return Rate(value, canonical)
