"""How often a schedule starts a run, in a 30-day month (the grammar is the DSL's:
``compiler/dsl/expressions.py``)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from ..dsl.expressions import Cron, parse_cron, parse_rate
from ..dsl.schedules import Schedule
from ..errors import CostError

__all__ = ["MONTH_DAYS", "REFERENCE_YEAR", "monthly_runs"]

MONTH_DAYS = 30
REFERENCE_YEAR = 2027  # a cron schedule's fires are counted over this (non-leap) year, then scaled to 30 days


def cron_per_month(cron: Cron) -> tuple[float, int]:
    """(runs in a 30-day month, the year counted in): a year's fires in wall-clock time, x 30 / its days."""
    years = cron.years
    counted = REFERENCE_YEAR if REFERENCE_YEAR in years else min(
        (y for y in years if y > REFERENCE_YEAR), default=max(years))
    days = 366 if calendar.isleap(counted) else 365
    fires = 0
    day = date(counted, 1, 1)
    for _ in range(days):
        if cron.fires_on(day):
            fires += cron.times_a_day
        day += timedelta(days=1)
    return fires * MONTH_DAYS / days, counted


def monthly_runs(schedule: Schedule | str) -> float:
    """How many times a schedule starts a run in a 30-day month.

    ``rate(N unit)``: 30 days / the interval (``rate(1 hour)`` = 720). ``cron(...)``, in the
    schedule's own wall-clock time: its fires over a whole year x 30 / the year's days, so a
    daily schedule makes 30, a monthly one 12 x 30 / 365 (about 0.99) and a weekly one about
    4.3. The expression is EventBridge's: ``?``, ``L``, ``W``, ``LW``, ``#`` are understood.
    """
    text = (schedule.expression if isinstance(schedule, Schedule) else schedule).strip()
    try:
        if text.startswith("rate("):
            return MONTH_DAYS * 24 * 60 / parse_rate(text).minutes
        if text.startswith("cron("):
            return cron_per_month(parse_cron(text))[0]
    except ValueError:
        pass
    raise CostError(f"cannot count the runs of schedule {text!r}",
                    hint='write cron("0 3 * * ? *") or rate(1, "hour"), as stepstone.cron/rate take them')
