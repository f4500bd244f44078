"""Validation of the five-field cron expressions Azure ML schedules take (NCrontab syntax).

Each field is ``*``, a value, a range ``a-b``, a step ``*/n`` or ``a-b/n``, or a comma-separated
list of those. Months and days of the week also take three-letter names (``JAN``, ``MON``).

croniter parses and expands the expression (and ``firing_times`` computes when it fires with it).
The field checks before it are kept by hand, for two reasons: croniter accepts more than
NCrontab, which Azure ML runs (six or seven fields, ``L``, ``W``, ``#``, ``?``, ``H``, ranges that
wrap around such as ``5-1``, steps longer than the field such as ``*/100``), and its errors do not
say which field is wrong ("[0 24 * * *] is not acceptable, out of range").
"""

from __future__ import annotations

import re
from typing import NamedTuple


class CronField(NamedTuple):
    """One field of a cron expression: its name, its range, the names its values may take and a
    note on its range."""

    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    note: str = ""

    def value(self, text: str) -> int:
        """The number ``text`` stands for in this field, checked against the field's range."""
        upper = text.upper()
        if upper in self.names:
            return self.low + self.names.index(upper)
        if not text.isdigit():
            names = f" or a name {self.names[0]}-{self.names[-1]}" if self.names else ""
            raise ValueError(f"{self.name} `{text}` is not a number{names}")
        number = int(text)
        if not self.low <= number <= self.high:
            raise ValueError(
                f"{self.name} `{text}` is out of range {self.low}-{self.high}{self.note}"
            )
        return number


FIELDS = (
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day-of-month", 1, 31),
    CronField(
        "month",
        1,
        12,
        ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
    ),
    CronField(
        "day-of-week", 0, 6, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), " (0 is Sunday)"
    ),
)
_LAYOUT = " ".join(field.name for field in FIELDS)
_ELEMENT = re.compile(r"(?P<range>\*|[^-/]+(?:-[^-/]+)?)(?:/(?P<step>.*))?")


def check_cron_expression(expression: str) -> str:
    """``expression`` with its fields separated by single spaces, once every field is valid.

    Raises:
        ValueError: naming the first field that is wrong and why, e.g. "hour `25` is out of range
            0-23".
    """
    fields = expression.split()
    if len(fields) != len(FIELDS):
        seconds = " (Azure ML cron has no seconds field)" if len(fields) == len(FIELDS) + 1 else ""
        raise ValueError(
            f"cron expression `{expression}` has {len(fields)} fields{seconds}; it needs "
            f"{len(FIELDS)}: {_LAYOUT}"
        )
    for field, text in zip(FIELDS, fields, strict=True):
        try:
            for element in text.split(","):
                _check_element(field, element)
        except ValueError as exc:
            raise ValueError(f"cron expression `{expression}`: {exc}") from None
    normalized = " ".join(fields)
    from croniter import CroniterError, croniter  # with a schedule only: not on every command

    try:
        croniter(normalized, day_or=False)
    except CroniterError as exc:
        raise ValueError(f"cron expression `{expression}` is not valid: {exc}") from None
    return normalized


def _check_element(field: CronField, element: str) -> None:
    match = _ELEMENT.fullmatch(element)
    if match is None:
        raise ValueError(
            f"{field.name} `{element}` is not `*`, a value, a range `a-b` or a step `*/n`"
        )
    span, step = match["range"], match["step"]
    if span != "*":
        low, dash, high = span.partition("-")
        if step is not None and not dash:
            raise ValueError(f"{field.name} step `{element}` needs `*` or a range before `/`")
        if dash and field.value(low) > field.value(high):
            raise ValueError(f"{field.name} range `{span}` goes backwards")
        field.value(low)
    if step is not None and not (step.isdigit() and 1 <= int(step) <= field.high):
        raise ValueError(
            f"{field.name} step `/{step}` must be a whole number from 1 to {field.high}"
        )
