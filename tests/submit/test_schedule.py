"""Azure ML schedules of jobs, created, listed, disabled and deleted with the real ``MLClient``
over HTTPS against the fake Azure REST API."""

from __future__ import annotations

import pytest

from kedro_azureml_deploy.azure.schedules import (
    PROJECT_TAG,
    delete_schedule,
    disable_schedule,
    list_schedules,
    schedule_jobs,
    schedule_name,
)
from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.errors import ConfigError, SubmitError

pytestmark = pytest.mark.slow  # each test uploads code to Azurite through the fake

NIGHTLY = {
    "cron": {
        "expression": "0 6 * * MON-FRI",
        "time_zone": "Europe/Paris",
        "start_time": "2030-01-31T06:00:00",
        "end_time": "2031-01-31T06:00:00",
    }
}
WEEKLY = {
    "recurrence": {
        "frequency": "week",
        "interval": 2,
        "time_zone": "America/New_York",
        "schedule": {"hours": [5], "minutes": [30], "week_days": ["monday", "thursday"]},
    }
}


def scheduled_project(azure_project, fake, **jobs):
    return azure_project(
        fake.base_url,
        jobs or {"nightly": {"experiment_name": "nightly-runs", "schedule": "nightly"}},
        schedules={"nightly": NIGHTLY, "weekly": WEEKLY},
    )


def test_cron_schedule_sends_trigger_windows_time_zone_and_experiment(
    fake_azure, azure_project, credential, azurite
):
    created = scheduled_project(azure_project, fake_azure)

    report = schedule_jobs(created.project, ["nightly"], CompileOptions(), credential=credential)

    report.raise_for_failures()
    name = schedule_name(created.files.package, "nightly")
    assert report.results[0].schedule_name == name and report.results[0].created
    (body,) = fake_azure.bodies("PUT", rf"/schedules/{name}$")
    properties = body["properties"]
    trigger = properties["trigger"]
    assert trigger["triggerType"] == "Cron"
    assert trigger["expression"] == "0 6 * * MON-FRI"
    assert trigger["timeZone"] == "Romance Standard Time"
    assert trigger["startTime"].startswith("2030-01-31")
    assert trigger["endTime"].startswith("2031-01-31")
    assert properties["tags"] == {
        PROJECT_TAG: created.files.package,
        "kedro-azureml-job": "nightly",
    }
    action = properties["action"]
    assert action["actionType"] == "CreateJob"
    job = action["jobDefinition"]
    assert job["experimentName"] == "nightly-runs"
    assert job["jobType"] == "Pipeline"
    assert job["tags"]["kedro_env"] == "base"  # the source tags of every job it creates
    assert list(job["jobs"]) == ["preprocess", "features", "train", "evaluate"]
    assert azurite.blob_names(fake_azure.storage.container), "the code snapshot is uploaded"


def test_recurrence_schedule_sends_frequency_interval_and_pattern(
    fake_azure, azure_project, credential
):
    created = scheduled_project(
        azure_project, fake_azure, weekly={"schedule": "weekly", "experiment_name": "weekly"}
    )

    schedule_jobs(created.project, ["weekly"], CompileOptions(), credential=credential)

    (body,) = fake_azure.bodies("PUT", r"/schedules/")
    trigger = body["properties"]["trigger"]
    assert trigger["triggerType"] == "Recurrence"
    assert trigger["frequency"].lower() == "week"
    assert trigger["interval"] == 2
    assert trigger["timeZone"] == "Eastern Standard Time"
    assert trigger["schedule"]["hours"] == [5] and trigger["schedule"]["minutes"] == [30]
    assert [day.lower() for day in trigger["schedule"]["weekDays"]] == ["monday", "thursday"]
    assert body["properties"]["action"]["jobDefinition"]["experimentName"] == "weekly"


def test_scheduling_again_updates_the_same_schedule(fake_azure, azure_project, credential):
    created = scheduled_project(azure_project, fake_azure)

    first = schedule_jobs(created.project, [None], CompileOptions(), credential=credential)
    second = schedule_jobs(created.project, [None], CompileOptions(), credential=credential)

    assert first.results[0].created and not second.results[0].created
    assert first.results[0].schedule_name == second.results[0].schedule_name
    assert list(fake_azure.schedules()) == [first.results[0].schedule_name]


def test_job_without_schedule_is_refused_before_anything_is_sent(
    fake_azure, azure_project, credential
):
    created = azure_project(fake_azure.base_url, {"train": {}})

    with pytest.raises(ConfigError, match="job `train` has no schedule"):
        schedule_jobs(created.project, ["train"], CompileOptions(), credential=credential)

    assert fake_azure.requests == []


def test_list_disable_and_delete_touch_only_the_project_schedules(
    fake_azure, azure_project, credential
):
    created = scheduled_project(
        azure_project,
        fake_azure,
        nightly={"schedule": "nightly"},
        weekly={"schedule": "weekly"},
    )
    project = created.project
    schedule_jobs(project, ["nightly", "weekly"], CompileOptions(), credential=credential)
    foreign = fake_azure.schedules()[schedule_name(created.files.package, "weekly")]
    fake_azure.put_schedule("someone-elses", {**foreign["properties"], "tags": {}})
    nightly = schedule_name(created.files.package, "nightly")
    weekly = schedule_name(created.files.package, "weekly")

    listed = list_schedules(project, credential=credential)
    assert [(info.name, info.job_name, info.enabled) for info in listed] == [
        (nightly, "nightly", True),
        (weekly, "weekly", True),
    ]
    assert listed[0].trigger == 'cron "0 6 * * MON-FRI" (Romance Standard Time)'

    disabled = disable_schedule(project, nightly, credential=credential)
    assert not disabled.enabled
    assert fake_azure.schedules()[nightly]["properties"]["isEnabled"] is False

    delete_schedule(project, weekly, credential=credential)
    assert weekly not in fake_azure.schedules()
    disable_then_delete = [
        request.method
        for request in fake_azure.requests
        if request.path.endswith(f"/schedules/{weekly}") and request.method in ("PUT", "DELETE")
    ]
    assert disable_then_delete[-2:] == ["PUT", "DELETE"]

    for action in (disable_schedule, delete_schedule):
        with pytest.raises(SubmitError, match="does not belong to project"):
            action(project, "someone-elses", credential=credential)
    assert "someone-elses" in fake_azure.schedules()
    with pytest.raises(SubmitError, match="has no schedule nope"):
        disable_schedule(project, "nope", credential=credential)


def test_schedule_inputs_set_the_input_values_of_the_runs_it_starts(
    fake_azure, azure_project, credential
):
    nightly = {**NIGHTLY, "inputs": {"seed": 11}}
    created = azure_project(
        fake_azure.base_url,
        {"nightly": {"experiment_name": "nightly-runs", "schedule": "nightly"}},
        schedules={"nightly": nightly},
    )

    schedule_jobs(created.project, ["nightly"], CompileOptions(), credential=credential)

    name = schedule_name(created.files.package, "nightly")
    (body,) = fake_azure.bodies("PUT", rf"/schedules/{name}$")
    job = body["properties"]["action"]["jobDefinition"]
    assert job["inputs"] == {"seed": {"jobInputType": "literal", "value": "11"}}


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"sed": 2},
            "azureml.yml schedules.nightly.inputs: job 'nightly' has no input 'sed'; its inputs "
            "are the parameters its nodes read: seed.",
        ),
        (
            {"seed": "two"},
            "azureml.yml schedules.nightly.inputs.seed: 'two' is not an integer, the type of "
            "input 'seed'",
        ),
    ],
)
def test_schedule_inputs_the_job_does_not_have_are_refused_before_anything_is_sent(
    fake_azure, azure_project, credential, inputs, message
):
    created = azure_project(
        fake_azure.base_url,
        {"nightly": {"experiment_name": "nightly-runs", "schedule": "nightly"}},
        schedules={"nightly": {**NIGHTLY, "inputs": inputs}},
    )

    report = schedule_jobs(created.project, ["nightly"], CompileOptions(), credential=credential)

    (result,) = report.results
    assert result.error.startswith(message)
    assert not fake_azure.requests_to("PUT", r"/schedules/")


def test_a_scheduled_jobs_notifications_reach_its_job_definition(
    fake_azure, azure_project, credential
):
    created = scheduled_project(
        azure_project,
        fake_azure,
        weekly={"schedule": "weekly", "notifications": {"emails": ["team@example.com"]}},
    )

    schedule_jobs(created.project, ["weekly"], CompileOptions(), credential=credential)

    (body,) = fake_azure.bodies("PUT", r"/schedules/")
    assert body["properties"]["action"]["jobDefinition"]["notificationSetting"] == {
        "emails": ["team@example.com"],
        "emailOn": ["JobFailed"],
    }
