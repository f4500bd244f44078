"""``schedules``: when Azure ML runs a job on its own, by cron expression or by recurrence."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from kedro_azureml_deploy.config.cron import check_cron_expression
from kedro_azureml_deploy.config.firing_times import (
    HORIZON_YEARS,
    cron_firings,
    interval_firings,
    recurrence_as_cron,
)
from kedro_azureml_deploy.config.problems import ConfigProblems, Problem
from kedro_azureml_deploy.config.strict_model import StrictModel
from kedro_azureml_deploy.config.time_zones import now_in, windows_time_zone


def _without_offset(value: datetime) -> datetime:
    if value.tzinfo is not None:
        raise ValueError(
            f"`{value.isoformat()}` has a UTC offset; write the time without one (e.g. "
            f"`{value.replace(tzinfo=None).isoformat()}`): it is read in the schedule's `time_zone`"
        )
    return value


def _written_as_a_date(value: Any) -> Any:
    # pydantic reads a number as seconds since 1970: `end_time: 1700000000` (or `true`) would
    # become a date nobody wrote.
    if isinstance(value, bool | int | float):
        raise ValueError(
            f"expected a date and time such as 2025-01-31T06:00:00, got {str(value).lower()}"
        )
    return value


TimeZoneName = Annotated[str, AfterValidator(windows_time_zone)]
LocalDateTime = Annotated[
    datetime, BeforeValidator(_written_as_a_date), AfterValidator(_without_offset)
]

_TIME_ZONE = (
    "The time zone of the schedule and of its start and end times: an IANA name "
    "(`Europe/Paris`) or a Windows id (`Romance Standard Time`), kept as the Windows id Azure ML "
    "expects."
)
_START_TIME = (
    "When the schedule starts, a local time in `time_zone` without a UTC offset, e.g. "
    "`2025-01-31T06:00:00`. Defaults to when the schedule is created."
)
_END_TIME = (
    "When the schedule stops, a local time in `time_zone` in the future, after `start_time` and "
    "after the schedule first fires. Never when left out."
)


def _search_start(start_time: datetime | None, now: datetime) -> datetime:
    """Where the next firings are looked for: the start time, or now once it has passed."""
    return now if start_time is None or start_time < now else start_time


def _end_time_problems(
    end_time: datetime | None, now: datetime, first: datetime | None
) -> list[Problem]:
    """An end time in the past, or before the first firing ``first``: a schedule that never
    runs."""
    if end_time is None:
        return []
    if end_time <= now:
        return [
            Problem(
                ("end_time",),
                f"`{end_time.isoformat()}` is in the past (it is {now.isoformat()} in the "
                "schedule's time zone), so the schedule would never run; move it later, or "
                "remove it",
            )
        ]
    if first is not None and end_time <= first:
        return [
            Problem(
                ("end_time",),
                f"`{end_time.isoformat()}` comes before the schedule first fires, at "
                f"{first.isoformat()}, so it would never run; move it later, or remove it",
            )
        ]
    return []


def _time_window_problems(start_time: datetime | None, end_time: datetime | None) -> list[Problem]:
    if start_time is None or end_time is None or start_time < end_time:
        return []
    return [
        Problem(
            ("end_time",),
            f"`{end_time.isoformat()}` is not after start_time `{start_time.isoformat()}`; "
            "move one of them",
        )
    ]


class RecurrencePattern(StrictModel):
    """At which times of the day, and on which days, a recurrence schedule fires."""

    hours: list[Annotated[StrictInt, Field(ge=0, le=23)]] = Field(
        min_length=1, description="Hours of the day (0-23) the schedule fires at."
    )
    minutes: list[Annotated[StrictInt, Field(ge=0, le=59)]] = Field(
        min_length=1, description="Minutes of the hour (0-59) the schedule fires at."
    )
    week_days: (
        list[Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]]
        | None
    ) = Field(
        default=None,
        min_length=1,
        description="Days of the week, `monday` to `sunday`. Frequency `week` or `month` only.",
    )
    month_days: list[Annotated[StrictInt, Field(ge=1, le=31)]] | None = Field(
        default=None,
        min_length=1,
        description="Days of the month (1-31); a month without that day is skipped. Frequency "
        "`month` only.",
    )

    @field_validator("week_days", mode="before")
    @classmethod
    def _lowercase_week_days(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [day.lower() if isinstance(day, str) else day for day in value]
        return value


class CronSchedule(StrictModel):
    """A schedule that fires when a cron expression matches, in its time zone."""

    expression: Annotated[str, AfterValidator(check_cron_expression)] = Field(
        description="Five fields, `minute hour day-of-month month day-of-week`, e.g. "
        "`0 6 * * MON-FRI`. Each field is `*`, a value, a range `a-b`, a step `*/n` or `a-b/n`, or "
        "a list of those; months and days of the week also take names (`JAN`, `MON`). Day of week "
        "0 is Sunday. When both days are set, a date must match both (as Azure ML reads them). "
        "The expression must fire at least once in the next 5 years."
    )
    time_zone: TimeZoneName = Field(default="UTC", description=_TIME_ZONE)
    start_time: LocalDateTime | None = Field(default=None, description=_START_TIME)
    end_time: LocalDateTime | None = Field(default=None, description=_END_TIME)

    @model_validator(mode="after")
    def _fires_before_it_ends(self) -> CronSchedule:
        problems = _time_window_problems(self.start_time, self.end_time)
        now = now_in(self.time_zone)
        upcoming = self._upcoming(1, now)
        if not upcoming:
            start = _search_start(self.start_time, now)
            day_of_month, _, day_of_week = self.expression.split()[2:]
            both_days = (
                " (when both days are set, Azure ML fires only on dates matching both)"
                if "*" not in (day_of_month, day_of_week)
                else ""
            )
            problems.append(
                Problem(
                    ("expression",),
                    f"`{self.expression}` never fires: no time in the {HORIZON_YEARS} years from "
                    f"{start.date().isoformat()} matches it{both_days}; fix the day-of-month, "
                    "month or day-of-week field",
                )
            )
        elif not problems:
            problems = _end_time_problems(self.end_time, now, upcoming[0])
        if problems:
            raise ConfigProblems(problems)
        return self

    def firings(self, count: int, now: datetime | None = None) -> list[datetime]:
        """The next ``count`` times the schedule fires (fewer when it ends before), local times
        of its time zone; ``now`` is the current local time there, the clock's when ``None``."""
        upcoming = self._upcoming(count, now or now_in(self.time_zone))
        return [time for time in upcoming if self.end_time is None or time < self.end_time]

    def _upcoming(self, count: int, now: datetime) -> list[datetime]:
        return cron_firings(self.expression, _search_start(self.start_time, now), count)


class RecurrenceSchedule(StrictModel):
    """A schedule that fires every `interval` `frequency` units, optionally at the times of a
    pattern."""

    frequency: Literal["minute", "hour", "day", "week", "month"] = Field(
        description="The unit of time between runs."
    )
    interval: StrictInt = Field(
        default=1, ge=1, description="How many `frequency` units pass between runs."
    )
    time_zone: TimeZoneName = Field(default="UTC", description=_TIME_ZONE)
    start_time: LocalDateTime | None = Field(default=None, description=_START_TIME)
    end_time: LocalDateTime | None = Field(default=None, description=_END_TIME)
    schedule: RecurrencePattern | None = Field(
        default=None,
        description="The times (and days) to fire at, for frequency `day`, `week` or `month`. "
        "Without it, runs follow `start_time`, `frequency` and `interval`.",
    )

    @model_validator(mode="after")
    def _pattern_fits_frequency(self) -> RecurrenceSchedule:
        pattern, frequency = self.schedule, self.frequency
        problems = _time_window_problems(self.start_time, self.end_time)
        if pattern is not None and frequency in ("minute", "hour"):
            problems.append(
                Problem(
                    ("schedule",),
                    f"a pattern applies to frequency day, week or month, not `{frequency}`; "
                    "remove `schedule`, or use a cron schedule",
                )
            )
        elif pattern is not None:
            if pattern.week_days is not None and frequency == "day":
                problems.append(
                    Problem(
                        ("schedule", "week_days"),
                        "applies to frequency week or month, not `day`; remove it or change "
                        "`frequency`",
                    )
                )
            if pattern.month_days is not None and frequency != "month":
                problems.append(
                    Problem(
                        ("schedule", "month_days"),
                        f"applies to frequency month, not `{frequency}`; remove it or set "
                        "`frequency: month`",
                    )
                )
        if not problems:
            now = now_in(self.time_zone)
            upcoming = self._upcoming(1, now)
            problems = _end_time_problems(self.end_time, now, upcoming[0] if upcoming else None)
        if problems:
            raise ConfigProblems(problems)
        return self

    def firings(self, count: int, now: datetime | None = None) -> list[datetime] | None:
        """The next ``count`` times the schedule fires (fewer when it ends before), local times
        of its time zone; ``None`` when they depend on when Azure ML creates the schedule (no
        `start_time`, or an interval a pattern counts from its start) or on what Azure ML does
        not document (see ``firing_times``)."""
        upcoming = self._upcoming(count, now or now_in(self.time_zone))
        if upcoming is None:
            return None
        return [time for time in upcoming if self.end_time is None or time < self.end_time]

    def _upcoming(self, count: int, now: datetime) -> list[datetime] | None:
        start = _search_start(self.start_time, now)
        pattern = self.schedule
        if pattern is not None:
            expression = recurrence_as_cron(
                self.frequency,
                self.interval,
                pattern.hours,
                pattern.minutes,
                pattern.week_days,
                pattern.month_days,
            )
            return None if expression is None else cron_firings(expression, start, count)
        if self.start_time is None:
            return None
        return interval_firings(self.frequency, self.interval, self.start_time, start, count)


#: Azure ML's rule for an input name (as ``compiler.parameter_inputs`` writes them).
_INPUT_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def _input_name(name: str) -> str:
    if not _INPUT_NAME.fullmatch(name):
        hint = (
            f" (a Kedro name: its input is named with `__` for each dot, e.g. "
            f"`{name.replace('.', '__')}`)"
            if "." in name
            else ""
        )
        raise ValueError(
            f"`{name}` is not an Azure ML input name{hint}; write the name `kedro azureml "
            "compile` gives the parameter's input (letters, digits and `_`)"
        )
    return name


#: The value of a job input set by a schedule: a literal, or a mapping or a list (written as JSON).
InputValue = StrictBool | StrictInt | StrictFloat | StrictStr | dict[str, Any] | list[Any] | None


class ScheduleConfig(StrictModel):
    """A named schedule: exactly one of `cron` and `recurrence`, and the job inputs it sets."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["cron"]}, {"required": ["recurrence"]}]}
    )

    cron: CronSchedule | None = Field(default=None, description="Fire on a cron expression.")
    recurrence: RecurrenceSchedule | None = Field(
        default=None, description="Fire every `interval` `frequency` units."
    )
    inputs: dict[Annotated[str, AfterValidator(_input_name)], InputValue] = Field(
        default_factory=dict,
        description="Values of the job's inputs for the runs this schedule starts, by input name: "
        "the inputs are the Kedro parameters the job's nodes read (`params:model_options.test_size` "
        "is `model_options__test_size`; see 'Change parameters at trigger time'). A value must "
        "have its input's type (an integer is a number too; a mapping or a list sets a mapping or "
        "list parameter). Checked against the compiled job when the schedule is created; an input "
        "left out keeps its compiled value.",
    )

    @model_validator(mode="after")
    def _cron_or_recurrence(self) -> ScheduleConfig:
        if self.cron is not None and self.recurrence is not None:
            raise ValueError("give either `cron` or `recurrence`, not both")
        if self.cron is None and self.recurrence is None:
            raise ValueError("give `cron` (an expression) or `recurrence` (a frequency)")
        return self

    def firings(self, count: int, now: datetime | None = None) -> list[datetime] | None:
        """The next ``count`` times the schedule fires, local times of its `time_zone` (fewer
        when it ends before); ``None`` when they cannot be worked out before Azure ML creates
        the schedule. ``now`` is the current local time there, the clock's when ``None``."""
        trigger = self.cron or self.recurrence
        assert trigger is not None
        return trigger.firings(count, now)

    def describe(self) -> str:
        """When the schedule fires, in words: ``cron "0 6 * * *" (Romance Standard Time)``."""
        trigger: CronSchedule | RecurrenceSchedule
        if self.cron is not None:
            trigger = self.cron
            text = f'cron "{trigger.expression}"'
        else:
            assert self.recurrence is not None
            trigger = self.recurrence
            text = f"every {trigger.interval} {trigger.frequency}(s)"
            pattern = trigger.schedule
            if pattern is not None:
                times = ", ".join(
                    f"{h:02d}:{m:02d}" for h in pattern.hours for m in pattern.minutes
                )
                text += f" at {times}"
                if pattern.week_days:
                    text += f" on {', '.join(pattern.week_days)}"
                if pattern.month_days:
                    text += f" on day(s) {', '.join(map(str, pattern.month_days))} of the month"
        text += f" ({trigger.time_zone})"
        if trigger.start_time is not None:
            text += f", from {trigger.start_time.isoformat()}"
        if trigger.end_time is not None:
            text += f", until {trigger.end_time.isoformat()}"
        return text
