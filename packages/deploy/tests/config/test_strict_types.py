"""azureml.yml's values keep the YAML type they are written in: a `true` is no `1`, a number no
string and no date, and each refusal says how to write the value."""

from __future__ import annotations

import pytest

from kedro_azureml_deploy.config import parse_config
from kedro_azureml_deploy.errors import ConfigError


def _problem(text: str, read_yaml) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_config(read_yaml(text))
    (line,) = str(raised.value).splitlines()
    return line


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        (["retries: true"], "jobs.train.retries: expected an integer, got true (true and false"),
        (["retries: 1.0"], "jobs.train.retries: expected an integer, got 1.0; write it without"),
        (["retries: '2'"], "jobs.train.retries: expected an integer, got '2'; remove the quotes"),
        (["timeout: true"], "jobs.train.timeout: expected an integer, got true"),
        (["timeout: 1e20"], "jobs.train.timeout: expected an integer, got 1e+20"),
        (["timeout: 1814401"], "jobs.train.timeout: 1814401 s is longer than Azure ML lets"),
        (["step_reuse: 1"], "jobs.train.step_reuse: expected true or false, got 1"),
        (["force_rerun: 'false'"], "jobs.train.force_rerun: expected true or false, got 'false'"),
        (["display_name: 2025"], "jobs.train.display_name: expected a string, got 2025; quote it"),
        (["experiment_name: true"], "jobs.train.experiment_name: expected a string, got true"),
        (["env_vars: {DEBUG: true}"], "jobs.train.env_vars.DEBUG: expected a string, got true"),
        (["tags: {run: 1}"], "jobs.train.tags.run: expected a string, got 1; quote it: `'1'`"),
    ],
)
def test_a_job_value_of_another_type_is_refused(train_job_yaml, read_yaml, keys, line):
    assert f"azureml.yml: {line}" in _problem(train_job_yaml(*keys), read_yaml)


@pytest.mark.parametrize(
    ("schedule", "line"),
    [
        (
            "recurrence: {frequency: day, interval: true}",
            "schedules.s.recurrence.interval: expected an integer, got true",
        ),
        (
            "recurrence: {frequency: day, schedule: {hours: [6.0], minutes: [0]}}",
            "schedules.s.recurrence.schedule.hours[0]: expected an integer, got 6.0",
        ),
        (
            "cron: {expression: 0 6 * * *, start_time: 1893456000}",
            "schedules.s.cron.start_time: expected a date and time such as 2025-01-31T06:00:00, "
            "got 1893456000",
        ),
    ],
)
def test_a_schedule_value_of_another_type_is_refused(minimal_yaml, read_yaml, schedule, line):
    text = f"{minimal_yaml}schedules:\n  s:\n    {schedule}\n"

    assert f"azureml.yml: {line}" in _problem(text, read_yaml)


def test_a_number_is_no_cluster_name(minimal_yaml, read_yaml):
    text = minimal_yaml.replace("cluster_name: cpu-cluster", "cluster_name: 1234")

    assert _problem(text, read_yaml) == (
        "azureml.yml: compute.__default__.cluster_name: expected a string, got 1234; quote it: "
        "`'1234'`"
    )


def test_values_written_in_their_type_are_kept(train_job_yaml, read_yaml):
    text = train_job_yaml("retries: 2", "timeout: '3600'", "step_reuse: true", "tags: {a: 'true'}")

    job = parse_config(read_yaml(text)).jobs["train"]

    assert (job.retries, job.timeout, job.step_reuse, job.tags) == (2, 3600, True, {"a": "true"})
