"""``jobs.<job>.notifications``: checked in ``azureml.yml``, carried beside the compiled YAML."""

from __future__ import annotations

import io

import pytest

from kedro_azureml_deploy.config import parse_config
from kedro_azureml_deploy.errors import ConfigError

from .conftest import BASE_CONFIG, catalog_of, chain_pipeline


def test_notifications_travel_with_the_compiled_job_and_not_in_its_yaml(compile_pipeline, tmp_path):
    from azure.ai.ml import load_job

    notifications = {"emails": ["team@example.com"], "on": ["completed", "failed"]}
    compiled = compile_pipeline(
        chain_pipeline(2), catalog_of({}), job={"notifications": notifications}
    )

    assert compiled.notifications.emails == ["team@example.com"]
    assert compiled.notifications.on == ["completed", "failed"]
    assert "notification" not in compiled.to_yaml().lower()  # azure-ai-ml's YAML has no such key
    job = load_job(io.StringIO(compiled.to_yaml()), relative_origin=str(tmp_path))
    assert job._validate().passed


def test_notifications_default_to_failed_runs():
    data = {**BASE_CONFIG, "jobs": {"train": {"notifications": {"emails": ["a@example.com"]}}}}
    assert parse_config(data).jobs["train"].notifications.on == ["failed"]


@pytest.mark.parametrize(
    ("notifications", "expected"),
    [
        ({"emails": []}, "emails"),
        ({"emails": ["not an address"]}, "`not an address` is not an email address"),
        ({"emails": ["a@example.com"], "on": ["started"]}, "on"),
        ({"emails": [f"user{i}@example.com" for i in range(40)]}, "more than Azure ML's 499"),
        ({"emails": ["a@example.com"], "webhooks": {}}, "webhooks"),
    ],
)
def test_notifications_are_checked(notifications, expected):
    data = {**BASE_CONFIG, "jobs": {"train": {"notifications": notifications}}}
    with pytest.raises(ConfigError, match=expected) as raised:
        parse_config(data)
    assert "jobs.train.notifications" in str(raised.value)
