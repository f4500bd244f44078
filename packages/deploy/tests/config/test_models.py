"""The models of azureml.yml: what they accept, what they store, and what they refuse."""

from __future__ import annotations

import inspect
from datetime import datetime

import pytest
from pydantic import ValidationError

from kedro_azureml_deploy.config import (
    AzureMLConfig,
    CloudConfig,
    ConfigError,
    CronSchedule,
    EnvironmentConfig,
    ExecutionConfig,
    JobConfig,
    PipelineFilter,
    RecurrenceSchedule,
    ScheduleConfig,
    parse_config,
)
from kedro_azureml_deploy.config.cron import check_cron_expression
from kedro_azureml_deploy.config.time_zones import windows_time_zone
from kedro_azureml_deploy.errors import CompileError, KedroAzureMLError, SubmitError


def test_full_example_loads_every_feature(full_example):
    config = parse_config(full_example)

    assert set(config.workspace) == {"__default__", "china", "private"}
    assert config.workspace["china"].cloud == CloudConfig(name="AzureChinaCloud")
    private = config.workspace["private"].cloud
    assert private.resource_manager_endpoint == "https://management.private.example.com/"
    assert config.compute["gpu"].tags == ["training", "tuning"]
    assert config.environment["pinned"].name == "kedro-env:3"
    assert config.environment["custom"].image == "myregistry.azurecr.io/my-project:1.2.0"
    assert config.execution == ExecutionConfig(mode="code_upload", code_directory=".")

    weekdays = config.schedules["weekdays"].cron
    assert weekdays.expression == "0 6 * * MON-FRI"
    assert weekdays.time_zone == "Romance Standard Time"
    assert (weekdays.start_time, weekdays.end_time) == (datetime(2025, 1, 1), datetime(2099, 1, 1))
    monthly = config.schedules["monthly"].recurrence
    assert monthly.time_zone == "Eastern Standard Time"
    assert monthly.schedule.week_days == ["monday", "friday"]
    assert monthly.schedule.month_days == [1, 15]

    train = config.jobs["train"]
    assert train.pipeline.pipeline_name == "training"
    assert (train.workspace, train.compute, train.environment) == ("china", "gpu", "custom")
    assert train.timeout == 5400
    assert train.env_vars == {"LOG_LEVEL": "DEBUG"}
    assert train.tags == {"team": "forecasting"}
    assert (train.retries, train.continue_on_step_failure, train.force_rerun) == (2, True, True)
    assert config.schedule_of(train) is config.schedules["weekdays"]
    report = config.jobs["report"]
    assert report.schedule.recurrence.frequency == "day"
    assert config.schedule_of(report) is report.schedule
    assert report.timeout == 600
    assert report.step_reuse is True


def test_sections_left_out_take_their_defaults(minimal):
    config = parse_config(minimal)

    assert config.execution == ExecutionConfig()
    assert config.execution.mode == "code_upload"
    assert config.execution.code_directory == "."
    assert config.schedules == {}
    job = config.jobs["train"]
    assert job == JobConfig()
    assert job.pipeline == PipelineFilter(pipeline_name="__default__")
    assert (job.workspace, job.compute, job.environment, job.schedule) == (
        "__default__",
        None,
        None,
        None,
    )
    assert config.schedule_of(job) is None


def test_models_are_frozen(minimal):
    config = parse_config(minimal)

    with pytest.raises(ValidationError):
        config.jobs["train"].retries = 3  # type: ignore[misc]


def test_errors_share_one_base_class():
    for error in (ConfigError, CompileError, SubmitError):
        assert issubclass(error, KedroAzureMLError)
    assert issubclass(KedroAzureMLError, Exception)


@pytest.mark.parametrize(
    ("name", "windows_id"),
    [
        ("Europe/Paris", "Romance Standard Time"),
        ("America/New_York", "Eastern Standard Time"),
        ("Asia/Tokyo", "Tokyo Standard Time"),
        # tzlocal 5.0 knew neither (hence tzlocal>=5.1 in packages/deploy/pyproject.toml).
        ("Asia/Kolkata", "India Standard Time"),
        ("Europe/Kyiv", "FLE Standard Time"),
        ("UTC", "UTC"),
        ("Etc/UTC", "UTC"),
        ("europe/paris", "Romance Standard Time"),
        ("Romance Standard Time", "Romance Standard Time"),
        ("romance standard time", "Romance Standard Time"),
        ("W. Europe Standard Time", "W. Europe Standard Time"),
    ],
)
def test_time_zones_become_the_windows_id_azure_ml_expects(name, windows_id):
    assert windows_time_zone(name) == windows_id
    assert CronSchedule(expression="0 6 * * *", time_zone=name).time_zone == windows_id


def test_unknown_time_zone_suggests_the_closest_name():
    with pytest.raises(
        ValueError, match=r"unknown time zone `Europe/Pariss`; did you mean `Europe/Paris`\?"
    ):
        windows_time_zone("Europe/Pariss")
    with pytest.raises(ValueError, match=r"unknown time zone `Mars/Olympus`\. Use an IANA name"):
        windows_time_zone("Mars/Olympus")


def test_iana_zone_without_windows_equivalent_is_refused():
    with pytest.raises(ValueError, match="has no Windows equivalent"):
        windows_time_zone("Antarctica/Troll")  # unmapped in every tzlocal the range allows


@pytest.mark.parametrize(
    ("expression", "normalized"),
    [
        ("0 6 * * *", "0 6 * * *"),
        ("*/15  8-18 * * MON-FRI", "*/15 8-18 * * MON-FRI"),
        ("0,30 6 1,15 JAN-jun 0", "0,30 6 1,15 JAN-jun 0"),
        ("0 0-23/6 * * sun,sat", "0 0-23/6 * * sun,sat"),
        ("59 23 31 12 6", "59 23 31 12 6"),
    ],
)
def test_valid_cron_expressions_are_kept_with_single_spaces(expression, normalized):
    assert check_cron_expression(expression) == normalized


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("0 6 * *", "has 4 fields; it needs 5"),
        ("0 0 6 * * *", "has 6 fields (Azure ML cron has no seconds field)"),
        ("60 6 * * *", "minute `60` is out of range 0-59"),
        ("0 24 * * *", "hour `24` is out of range 0-23"),
        ("0 6 0 * *", "day-of-month `0` is out of range 1-31"),
        ("0 6 * 13 *", "month `13` is out of range 1-12"),
        ("0 6 * * 7", "day-of-week `7` is out of range 0-6 (0 is Sunday)"),
        ("0 6 * * FUNDAY", "day-of-week `FUNDAY` is not a number or a name SUN-SAT"),
        ("*/0 * * * *", "minute step `/0` must be a whole number from 1 to 59"),
        ("5/10 * * * *", "minute step `5/10` needs `*` or a range before `/`"),
        ("0 18-6 * * *", "hour range `18-6` goes backwards"),
        ("0 6,,7 * * *", "hour `` is not `*`, a value, a range `a-b` or a step `*/n`"),
        # croniter takes these, Azure ML's NCrontab does not:
        ("0 6 L * *", "day-of-month `L` is not a number"),
        ("0 6 * * 1#2", "day-of-week `1#2` is not a number or a name SUN-SAT"),
        ("0 6 ? * *", "day-of-month `?` is not a number"),
        ("*/100 * * * *", "minute step `/100` must be a whole number from 1 to 59"),
        ("0 0 6 * * * 2030", "has 7 fields; it needs 5"),
    ],
)
def test_invalid_cron_expressions_name_the_field_and_why(expression, problem):
    with pytest.raises(ValueError) as raised:
        check_cron_expression(expression)
    assert str(raised.value).startswith(f"cron expression `{expression}`")
    assert problem in str(raised.value)


def _recurrence(frequency: str, **pattern: object) -> RecurrenceSchedule:
    return RecurrenceSchedule(
        frequency=frequency, schedule={"hours": [6], "minutes": [0], **pattern}
    )


@pytest.mark.parametrize(
    ("frequency", "pattern"),
    [
        ("day", {}),
        ("week", {"week_days": ["monday", "Thursday"]}),
        ("month", {"week_days": ["monday"]}),
        ("month", {"month_days": [1, 31]}),
    ],
)
def test_recurrence_patterns_azure_ml_accepts(frequency, pattern):
    schedule = _recurrence(frequency, **pattern)
    assert schedule.schedule.hours == [6]
    if "week_days" in pattern:
        assert all(day.islower() for day in schedule.schedule.week_days)


@pytest.mark.parametrize(
    ("frequency", "pattern", "problem"),
    [
        ("minute", {}, "a pattern applies to frequency day, week or month, not `minute`"),
        ("hour", {}, "a pattern applies to frequency day, week or month, not `hour`"),
        ("day", {"week_days": ["monday"]}, "applies to frequency week or month, not `day`"),
        ("week", {"month_days": [1]}, "applies to frequency month, not `week`"),
        ("week", {"week_days": ["someday"]}, "Input should be"),
    ],
)
def test_recurrence_patterns_azure_ml_refuses(frequency, pattern, problem):
    with pytest.raises(ValidationError, match=problem):
        _recurrence(frequency, **pattern)


def test_recurrence_without_pattern_every_minute_is_fine():
    schedule = RecurrenceSchedule(frequency="minute", interval=15)
    assert (schedule.interval, schedule.time_zone, schedule.schedule) == (15, "UTC", None)


def test_end_time_must_come_after_start_time():
    with pytest.raises(ValidationError, match="is not after start_time"):
        CronSchedule(
            expression="0 6 * * *", start_time="2025-01-01T06:00", end_time="2025-01-01T06:00"
        )


def test_schedule_takes_exactly_one_of_cron_and_recurrence():
    with pytest.raises(ValidationError, match="not both"):
        ScheduleConfig(cron={"expression": "0 6 * * *"}, recurrence={"frequency": "day"})
    with pytest.raises(ValidationError, match="give `cron`"):
        ScheduleConfig()


@pytest.mark.parametrize(
    ("timeout", "seconds"),
    [
        (600, 600),
        ("600", 600),
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1d", 86400),
    ],
)
def test_timeout_takes_seconds_or_a_duration(timeout, seconds):
    assert JobConfig(timeout=timeout).timeout == seconds


@pytest.mark.parametrize(
    ("timeout", "problem"),
    [
        ("30 minutes", "is not a duration"),
        ("", "is not a duration"),
        ("0s", "greater than 0"),
        (-5, "greater than 0"),
        ("1.5h", "is not a duration"),
    ],
)
def test_timeout_refuses_what_is_not_a_positive_duration(timeout, problem):
    with pytest.raises(ValidationError, match=problem):
        JobConfig(timeout=timeout)


def test_job_settings_are_checked():
    with pytest.raises(ValidationError, match="not an experiment name"):
        JobConfig(experiment_name="my experiment")
    with pytest.raises(ValidationError, match="not an environment variable name"):
        JobConfig(env_vars={"MY-VAR": "1"})
    with pytest.raises(ValidationError, match="less than or equal to 10"):
        JobConfig(retries=11)
    with pytest.raises(ValidationError, match="keep only one of them"):
        JobConfig(force_rerun=True, step_reuse=True)


def test_job_with_a_name_is_that_job(full_example):
    config = parse_config(full_example)

    assert config.job("report") == ("report", config.jobs["report"])


def test_job_without_a_name_is_the_only_job(minimal):
    assert parse_config(minimal).job(None) == ("train", JobConfig())


def test_job_without_a_name_needs_exactly_one_job(minimal, full_example):
    with pytest.raises(
        ConfigError, match=r"defines 2 jobs, `train` and `report`: choose one with `-j <job>`"
    ):
        parse_config(full_example).job(None)
    with pytest.raises(ConfigError, match="defines no job: add one under `jobs`"):
        parse_config({**minimal, "jobs": {}}).job(None)


def test_unknown_job_suggests_the_closest_name(full_example):
    config = parse_config(full_example)

    with pytest.raises(ConfigError) as raised:
        config.job("trian")
    assert str(raised.value) == (
        "unknown job `trian`; did you mean `train`? azureml.yml defines `train` and `report`"
    )
    with pytest.raises(ConfigError, match=r"unknown job `deploy`\. azureml.yml defines"):
        config.job("deploy")


def test_filter_kwargs_are_the_filters_set_with_kedros_names(full_example):
    from kedro.pipeline import Pipeline

    everything = parse_config(full_example).jobs["train"].pipeline.filter_kwargs()
    assert set(everything) == set(inspect.signature(Pipeline.filter).parameters) - {"self"}
    assert PipelineFilter().filter_kwargs() == {}
    assert PipelineFilter(tags=["a"], to_nodes=["n"]).filter_kwargs() == {
        "tags": ["a"],
        "to_nodes": ["n"],
    }


def test_filter_kwargs_filter_a_real_pipeline():
    from kedro.pipeline import node, pipeline

    def identity(x):
        return x

    nodes = pipeline(
        [
            node(identity, "a", "b", name="first", tags=["prep"]),
            node(identity, "b", "c", name="second", tags=["train"]),
            node(identity, "c", "d", name="third", tags=["train"]),
        ]
    )
    chosen = nodes.filter(**PipelineFilter(tags=["train"], to_nodes=["second"]).filter_kwargs())

    assert [n.name for n in chosen.nodes] == ["second"]


@pytest.mark.parametrize(
    ("reference", "stored"),
    [
        ("kedro-env@latest", "kedro-env@latest"),
        ("kedro-env:3", "kedro-env:3"),
        ("azureml:kedro_env.gpu:2024.1", "kedro_env.gpu:2024.1"),
    ],
)
def test_environment_names_are_azure_ml_references(reference, stored):
    assert EnvironmentConfig(name=reference).name == stored


@pytest.mark.parametrize("reference", ["kedro-env", "kedro-env@v2", "kedro env:1", ":1"])
def test_environment_names_without_a_version_are_refused(reference):
    with pytest.raises(ValidationError, match="is not an Azure ML environment reference"):
        EnvironmentConfig(name=reference)


@pytest.mark.parametrize(
    "image",
    [
        "python:3.11-slim",
        "myregistry.azurecr.io/team/my-project:1.2.0",
        "localhost:5000/my-project",
        "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04@sha256:" + "a" * 64,
    ],
)
def test_container_images_are_accepted(image):
    assert EnvironmentConfig(image=image).image == image


@pytest.mark.parametrize(
    "image", ["My-Project:1", "my project", "registry.io/app:", "app:tag with space"]
)
def test_malformed_container_images_are_refused(image):
    with pytest.raises(ValidationError, match="is not a container image reference"):
        EnvironmentConfig(image=image)


def test_environment_takes_exactly_one_of_name_and_image():
    with pytest.raises(ValidationError, match="give exactly one of `name`"):
        EnvironmentConfig()


def test_image_mode_needs_a_working_directory_and_image_environments(minimal):
    execution = ExecutionConfig(mode="image", working_directory="/app/")
    assert execution.working_directory == "/app"

    image_only = {**minimal, "environment": {"__default__": {"image": "python:3.11"}}}
    config = parse_config(
        {**image_only, "execution": {"mode": "image", "working_directory": "/app"}}
    )
    assert config.execution.mode == "image"

    with pytest.raises(ValidationError, match="applies to code_upload mode only"):
        ExecutionConfig(mode="image", working_directory="/app", code_directory=".")
    with pytest.raises(ValidationError, match="is not an absolute path inside the image"):
        ExecutionConfig(mode="image", working_directory="app")


@pytest.mark.parametrize("directory", ["/abs", "../up", "src/../../up", "C:/code", "src\\pkg"])
def test_code_directory_stays_inside_the_project(directory):
    with pytest.raises(ValidationError):
        ExecutionConfig(code_directory=directory)


def test_code_directory_is_normalized():
    assert ExecutionConfig(code_directory="./src/").code_directory == "src"


@pytest.mark.parametrize("subscription_id", ["my-sub", "00000000000000000000000000000000", "0000"])
def test_subscription_id_must_be_a_guid(minimal, subscription_id):
    workspace = {**minimal["workspace"]["__default__"], "subscription_id": subscription_id}
    with pytest.raises(ConfigError, match="is not a subscription id"):
        parse_config({**minimal, "workspace": {"__default__": workspace}})


def test_named_cloud_gives_mlclient_its_name_and_credentials_their_authority():
    china = CloudConfig(name="AzureChinaCloud")

    assert china.ml_client_kwargs() == {"cloud": "AzureChinaCloud"}
    assert china.credential_kwargs() == {"authority": "login.chinacloudapi.cn"}
    assert CloudConfig(name="AzureCloud").credential_kwargs() == {}


def test_custom_cloud_registers_every_endpoint_azure_ai_ml_needs():
    from azure.ai.ml._azure_environments import EndpointURLS

    cloud = CloudConfig(
        resource_manager_endpoint="https://127.0.0.1:8443", authority_host="https://127.0.0.1:8444"
    )
    kwargs = cloud.ml_client_kwargs()

    endpoint_keys = {value for name, value in vars(EndpointURLS).items() if name.isupper()}
    assert set(kwargs["cloud_metadata"]) == endpoint_keys
    assert kwargs["cloud_metadata"]["resource_manager"] == "https://127.0.0.1:8443/"
    assert cloud.credential_kwargs() == {"authority": "https://127.0.0.1:8444/"}
    assert kwargs == cloud.ml_client_kwargs()
    other = CloudConfig(resource_manager_endpoint="https://127.0.0.1:9443")
    assert other.ml_client_kwargs()["cloud"] != kwargs["cloud"]


def test_custom_cloud_points_a_real_mlclient_at_any_https_base_url(monkeypatch):
    from azure.ai.ml import MLClient
    from azure.core.credentials import AccessToken

    monkeypatch.setenv("AZUREML_CURRENT_CLOUD", "AzureCloud")  # MLClient sets it; restored after

    class StaticCredential:
        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            return AccessToken("token", 2**31)

    cloud = CloudConfig(resource_manager_endpoint="https://127.0.0.1:8443/")
    client = MLClient(
        StaticCredential(),
        "00000000-0000-0000-0000-000000000000",
        "ml-rg",
        "ml-workspace",
        **cloud.ml_client_kwargs(),
    )

    assert client._base_url == "https://127.0.0.1:8443"


@pytest.mark.parametrize(
    ("cloud", "problem"),
    [
        ({"name": "AzureCloud", "resource_manager_endpoint": "https://x.example.com"}, "not both"),
        ({}, "give `name`"),
        ({"resource_manager_endpoint": "http://x.example.com"}, "is not an https URL"),
        ({"name": "AzureChinaCloud", "storage_endpoint": "core.example.com"}, "custom cloud only"),
        ({"name": "Mars"}, "Input should be"),
    ],
)
def test_cloud_is_named_or_custom(cloud, problem):
    with pytest.raises(ValidationError, match=problem):
        CloudConfig(**cloud)


def test_cross_references_are_checked_when_models_are_built_in_code(minimal):
    config = parse_config(minimal)

    with pytest.raises(ValidationError, match="unknown compute `gpu`"):
        AzureMLConfig(
            workspace=config.workspace,
            compute=config.compute,
            environment=config.environment,
            jobs={"train": JobConfig(compute="gpu")},
        )
