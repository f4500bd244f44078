"""When schedules fire: cron expressions through croniter, with Azure ML's (NCrontab's) reading of
the two day fields, and the recurrences whose times can be worked out before Azure ML creates
them."""

from __future__ import annotations

from datetime import datetime

import pytest

from kedro_azureml_deploy.config import ScheduleConfig
from kedro_azureml_deploy.config.firing_times import cron_firings, recurrence_as_cron

NOW = datetime(2030, 1, 1, 12, 0)  # a Tuesday


def _schedule(**trigger) -> ScheduleConfig:
    return ScheduleConfig.model_validate(trigger)


def test_cron_firings_are_the_next_matching_local_times():
    schedule = _schedule(cron={"expression": "0 6 * * MON-FRI", "time_zone": "Europe/Paris"})

    assert schedule.firings(3, now=NOW) == [
        datetime(2030, 1, 2, 6, 0),
        datetime(2030, 1, 3, 6, 0),
        datetime(2030, 1, 4, 6, 0),
    ]


def test_a_firing_at_the_start_time_counts():
    assert cron_firings("0 6 * * *", datetime(2030, 1, 1, 6, 0), 1) == [datetime(2030, 1, 1, 6, 0)]


def test_firings_start_at_a_future_start_time_and_stop_at_the_end_time():
    schedule = _schedule(
        cron={
            "expression": "30 6 * * *",
            "start_time": "2030-02-01T00:00:00",
            "end_time": "2030-02-03T00:00:00",
        }
    )

    assert schedule.firings(3, now=NOW) == [
        datetime(2030, 2, 1, 6, 30),
        datetime(2030, 2, 2, 6, 30),
    ]


def test_both_day_fields_must_match_as_in_ncrontab():
    # Standard cron would fire on every Friday and every 13th; Azure ML fires on Friday the 13th.
    firings = cron_firings("0 6 13 * FRI", NOW, 2)

    assert firings == [datetime(2030, 9, 13, 6, 0), datetime(2030, 12, 13, 6, 0)]


def test_an_expression_matching_no_date_has_no_firing():
    assert cron_firings("0 6 30 2 *", NOW, 3) == []


@pytest.mark.parametrize(
    ("frequency", "pattern", "expression"),
    [
        ("day", {"hours": [18, 6], "minutes": [0, 30]}, "0,30 6,18 * * *"),
        ("week", {"hours": [6], "minutes": [0], "week_days": ["monday", "friday"]}, "0 6 * * 1,5"),
        ("month", {"hours": [6], "minutes": [0], "month_days": [1, 15]}, "0 6 1,15 * *"),
        ("month", {"hours": [6], "minutes": [0], "week_days": ["sunday"]}, "0 6 * * 0"),
    ],
)
def test_recurrence_patterns_with_interval_1_are_cron_expressions(frequency, pattern, expression):
    schedule = _schedule(recurrence={"frequency": frequency, "schedule": pattern})
    recurrence = schedule.recurrence
    assert recurrence is not None

    assert (
        recurrence_as_cron(
            frequency,
            1,
            pattern["hours"],
            pattern["minutes"],
            pattern.get("week_days"),
            pattern.get("month_days"),
        )
        == expression
    )
    assert schedule.firings(2, now=NOW) == cron_firings(expression, NOW, 2)


def test_recurrence_without_pattern_counts_intervals_from_its_start_time():
    schedule = _schedule(
        recurrence={"frequency": "hour", "interval": 5, "start_time": "2029-12-31T23:10:00"}
    )

    assert schedule.firings(3, now=NOW) == [
        datetime(2030, 1, 1, 14, 10),
        datetime(2030, 1, 1, 19, 10),
        datetime(2030, 1, 2, 0, 10),
    ]


@pytest.mark.parametrize(
    "recurrence",
    [
        {"frequency": "day"},  # no start_time: it starts when Azure ML creates it
        {"frequency": "day", "interval": 2, "schedule": {"hours": [6], "minutes": [0]}},
        {"frequency": "week", "schedule": {"hours": [6], "minutes": [0]}},
        {"frequency": "month", "start_time": "2030-01-31T06:00:00"},
    ],
)
def test_recurrences_azure_ml_anchors_itself_have_no_firings_worked_out(recurrence):
    assert _schedule(recurrence=recurrence).firings(3, now=NOW) is None
