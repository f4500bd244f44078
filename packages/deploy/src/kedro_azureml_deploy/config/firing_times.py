"""When a schedule fires: the next times of a cron expression, computed with croniter, and of the
recurrences a cron expression (or plain arithmetic) can say.

Times are local times of the schedule's time zone, without an offset, as ``azureml.yml`` writes
them: Azure ML reads both the expression and the start and end times in that zone.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

#: How far ahead a schedule must fire at least once: an expression such as `0 6 30 2 *` matches
#: no date at all, and one that fires less often than this is almost surely a mistake too.
HORIZON_YEARS = 5

_STEPS = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
    "week": timedelta(weeks=1),
}
_WEEK_DAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def cron_firings(expression: str, start: datetime, count: int) -> list[datetime]:
    """The first ``count`` times at or after ``start`` that ``expression`` matches, fewer if it
    matches fewer within :data:`HORIZON_YEARS` of ``start``.

    Azure ML evaluates expressions with NCrontab, which requires both the day of the month and
    the day of the week to match when both are restricted (its ``GetNextOccurrence`` checks the
    day of the week after finding the day of the month); standard cron, and croniter by default,
    take either. ``day_or=False`` makes croniter do as NCrontab does.
    """
    from croniter import CroniterBadDateError, croniter  # imported when a schedule needs it

    times = croniter(
        expression,
        start.replace(second=0, microsecond=0) - timedelta(minutes=1),
        day_or=False,
        max_years_between_matches=HORIZON_YEARS,
    )
    horizon = _add_years(start, HORIZON_YEARS)
    firings: list[datetime] = []
    while len(firings) < count:
        try:
            firing = times.get_next(datetime)
        except CroniterBadDateError:
            break
        if firing > horizon:
            break
        firings.append(firing)
    return firings


def recurrence_as_cron(
    frequency: str,
    interval: int,
    hours: Sequence[int],
    minutes: Sequence[int],
    week_days: Sequence[str] | None,
    month_days: Sequence[int] | None,
) -> str | None:
    """The cron expression that fires when a recurrence with a pattern does, or ``None`` when no
    expression can say it: an interval above 1 counts from the recurrence's start, which cron
    cannot, and so does a weekly pattern without week days; a monthly pattern with both month
    days and week days is left out too, as Azure ML does not document how it combines them."""
    if interval != 1 or frequency not in ("day", "week", "month"):
        return None
    if frequency == "week" and not week_days:
        return None
    if week_days and month_days:
        return None
    times = f"{_cron_list(minutes)} {_cron_list(hours)}"
    if month_days:
        return f"{times} {_cron_list(month_days)} * *"
    if week_days:
        return f"{times} * * {_cron_list(_WEEK_DAYS.index(day) for day in week_days)}"
    return f"{times} * * *"


def interval_firings(
    frequency: str, interval: int, start: datetime, after: datetime, count: int
) -> list[datetime] | None:
    """The first ``count`` times at or after ``after`` of a recurrence without a pattern, which
    fires at ``start`` and then every ``interval`` ``frequency`` units; ``None`` for a monthly
    one, whose days past the 28th Azure ML does not document."""
    step = _STEPS.get(frequency)
    if step is None:
        return None
    period = step * interval
    skipped = max(0, -(-(after - start) // period))  # whole periods before `after`, rounded up
    first = start + skipped * period
    return [first + index * period for index in range(count)]


def _cron_list(values: Iterable[int]) -> str:
    return ",".join(str(value) for value in sorted(set(values)))


def _add_years(moment: datetime, years: int) -> datetime:
    year = moment.year + years
    day = min(moment.day, calendar.monthrange(year, moment.month)[1])
    return moment.replace(year=year, day=day)
