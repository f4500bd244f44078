"""Bounded network: every call to Azure and to storage ends within its timeouts and retries, with
one line naming what stalled or failed, what was left behind, and what to do.

The real ``MLClient`` talks HTTPS to the fake Azure REST API, which can hold an answer (``hang``)
or drop a connection (``drop``); the code upload goes to Azurite through a TCP proxy that can reset
connections, hang or go down. Each test sets small limits (2 s timeouts, 1 retry) and asserts that
the submission ends well within a generous bound.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from kedro_azureml_deploy.azure.network import NetworkSettings
from kedro_azureml_deploy.azure.schedules import schedule_jobs
from kedro_azureml_deploy.azure.submission import submit_job, submit_jobs
from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.errors import SubmitError

#: A submission under the small limits must end well before this (the SDKs' defaults take
#: minutes).
BUDGET_SECONDS = 60


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setenv("KEDRO_AZUREML_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("KEDRO_AZUREML_READ_TIMEOUT", "2")
    monkeypatch.setenv("KEDRO_AZUREML_RETRIES", "1")


def failed_submission(project, credential) -> tuple[str, float]:
    """The one-line error of submitting job ``train``, and how long it took."""
    started = time.monotonic()
    with pytest.raises(SubmitError) as error:
        submit_job(project, "train", CompileOptions(), credential=credential)
    elapsed = time.monotonic() - started
    message = str(error.value)
    print(f"{elapsed:.1f} s: {message}")
    assert "\n" not in message
    return message, elapsed


def uploaded_blobs(azurite, fake) -> list[str]:
    return azurite.blob_names(fake.storage.container)


# ------------------------------------------------------------------------------------ settings


def test_network_settings_default_and_come_from_the_environment():
    assert NetworkSettings.from_environment({}) == NetworkSettings(10.0, 60.0, 2)
    settings = NetworkSettings.from_environment(
        {
            "KEDRO_AZUREML_CONNECT_TIMEOUT": "2.5",
            "KEDRO_AZUREML_READ_TIMEOUT": " 30 ",
            "KEDRO_AZUREML_RETRIES": "0",
        }
    )
    assert settings == NetworkSettings(2.5, 30.0, 0)
    kwargs = settings.client_kwargs()
    assert (kwargs["connection_timeout"], kwargs["read_timeout"], kwargs["retry_total"]) == (
        2.5,
        30.0,
        0,
    )
    assert settings.storage_kwargs()["retry_policy"].total_retries == 0


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("KEDRO_AZUREML_CONNECT_TIMEOUT", "soon", "is not a number of seconds"),
        ("KEDRO_AZUREML_READ_TIMEOUT", "-1", "is not a number of seconds"),
        ("KEDRO_AZUREML_READ_TIMEOUT", "inf", "is not a number of seconds"),
        ("KEDRO_AZUREML_RETRIES", "1.5", "is not a number of retries"),
        ("KEDRO_AZUREML_RETRIES", "100", "from 0 to 20"),
    ],
)
def test_invalid_network_setting_is_one_line_before_anything_is_sent(
    fake_azure, azure_project, credential, monkeypatch, name, value, expected
):
    project = azure_project(fake_azure.base_url).project
    monkeypatch.setenv(name, value)

    with pytest.raises(SubmitError) as error:
        submit_jobs(project, ["train"], CompileOptions(), credential=credential)

    message = str(error.value)
    assert message.startswith(f"{name}={value!r} is not a number of")
    assert expected in message
    assert "unset it for the default" in message and "\n" not in message
    assert fake_azure.requests == []


# ------------------------------------------------------------------------------------ Azure ML


@pytest.mark.slow
def test_hung_resource_manager_ends_with_one_line_naming_it(
    fake_azure, azure_project, credential, small_limits
):
    project = azure_project(fake_azure.base_url).project
    fake_azure.hang(method="GET", path=r"/workspaces/ws-demo$")

    message, elapsed = failed_submission(project, credential)

    assert message.startswith("Azure Resource Manager (127.0.0.1:")
    assert "stalled while reading workspace ws-demo" in message
    assert "no answer to GET https://127.0.0.1:" in message and "within 2 s" in message
    assert "KEDRO_AZUREML_READ_TIMEOUT (now 2 s)" in message
    assert "workspace.__default__.cloud" in message
    assert len(fake_azure.requests_to("GET", r"/workspaces/ws-demo$")) == 2, "1 retry"
    assert elapsed < BUDGET_SECONDS


@pytest.mark.slow
def test_hung_job_creation_names_azure_ml_and_says_the_job_may_exist(
    fake_azure, azure_project, credential, small_limits
):
    project = azure_project(fake_azure.base_url).project
    fake_azure.hang(method="PUT", path=r"/jobs/[^/]+$")

    message, elapsed = failed_submission(project, credential)

    assert message.startswith("Azure ML (127.0.0.1:")
    assert "stalled while creating the pipeline job of 'train'" in message
    assert "Azure ML may be degraded" in message
    (job_put, *_) = fake_azure.requests_to("PUT", r"/jobs/[^/]+$")
    job_name = job_put.path.rsplit("/", 1)[-1]
    assert f"pipeline job {job_name} was sent but not answered, so it may exist" in message
    assert f"az ml job show --name {job_name} --workspace-name ws-demo" in message
    assert "Azure ML refused" not in message
    assert elapsed < BUDGET_SECONDS


@pytest.mark.slow
def test_dropped_connections_to_azure_ml_end_in_one_line(
    fake_azure, azure_project, credential, small_limits
):
    project = azure_project(fake_azure.base_url).project
    fake_azure.drop(method="PUT", path=r"/jobs/[^/]+$")

    message, elapsed = failed_submission(project, credential)

    assert message.startswith("Azure ML (127.0.0.1:")
    assert "broke the connection while creating the pipeline job of 'train'" in message
    assert len(fake_azure.requests_to("PUT", r"/jobs/[^/]+$")) == 2, "1 retry"
    assert fake_azure.jobs() == {}
    assert elapsed < BUDGET_SECONDS


@pytest.mark.slow
def test_failed_job_creation_says_what_it_left_behind_and_how_to_clean_up(
    fake_azure, azure_project, credential, azurite, small_limits
):
    project = azure_project(fake_azure.base_url).project
    fake_azure.fail(500, method="PUT", path=r"/jobs/[^/]+$")

    message, _ = failed_submission(project, credential)

    assert message.startswith("Azure ML answered 500 while creating the pipeline job of 'train'")
    blobs = uploaded_blobs(azurite, fake_azure)
    (code_put,) = fake_azure.requests_to("PUT", r"/codes/[^/]+/versions/[^/]+$")
    code_name, _, code_version = code_put.path.split("/codes/")[1].partition("/versions/")
    components = fake_azure.requests_to("PUT", r"/components/[^/]+/versions/[^/]+$")
    assert blobs and components
    assert f"Left behind: {len(blobs)} uploaded file(s) under " in message
    assert f"code asset {code_name}:{code_version}" in message
    assert f"{len(components)} anonymous component(s)" in message
    assert (
        "az ml component archive --name NAME --version VERSION --workspace-name ws-demo" in message
    )
    assert "az storage blob delete-batch" in message and "Studio > Data > Datastores" in message
    assert "The next submission of the same code and steps reuses them" in message


# ------------------------------------------------------------------------------------ storage


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("reset", "broke the connection while creating the pipeline job of 'train'"),
        ("down", "cannot be reached while creating the pipeline job of 'train'"),
        ("hang", "stalled while creating the pipeline job of 'train'"),
    ],
)
def test_failing_storage_is_reported_as_the_code_upload_never_as_azure_ml(
    fake_azure_behind_proxy, storage_proxy, azure_project, credential, small_limits, mode, expected
):
    fake = fake_azure_behind_proxy
    project = azure_project(fake.base_url).project
    storage_proxy.mode = mode

    message, elapsed = failed_submission(project, credential)

    assert message.startswith(f"The code upload to storage (127.0.0.1:{storage_proxy.port})")
    assert expected in message
    assert "Azure ML refused" not in message
    assert f"reach the workspace's storage account 127.0.0.1:{storage_proxy.port}" in message
    assert fake.requests_to("PUT", r"/jobs/") == [], "no job without its code"
    assert storage_proxy.connections <= 10, "retries are bounded"
    assert elapsed < BUDGET_SECONDS


@pytest.mark.slow
def test_storage_that_resets_during_the_file_uploads_ends_the_upload(
    fake_azure_behind_proxy, storage_proxy, azure_project, credential, small_limits
):
    """The first files go through, then connections reset: azure-ai-ml would wait forever for
    the files its threads failed to upload."""
    fake = fake_azure_behind_proxy
    project = azure_project(fake.base_url).project
    sent_puts: list[str] = []

    from kedro_azureml_deploy.azure import request_log

    start = request_log.RequestLog.start

    def reset_after_first_files(self, service, method, url):
        if service == request_log.STORAGE and method == "PUT":
            sent_puts.append(url)
            if len(sent_puts) == 3:
                storage_proxy.mode = "reset"
        return start(self, service, method, url)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(request_log.RequestLog, "start", reset_after_first_files)
        message, elapsed = failed_submission(project, credential)

    assert message.startswith("The code upload to storage")
    assert "broke the connection" in message and "PUT http://127.0.0.1:" in message
    assert elapsed < BUDGET_SECONDS


# ------------------------------------------------------------------------------------ Ctrl+C


@pytest.mark.slow
def test_ctrl_c_during_job_creation_says_what_exists(
    fake_azure, azure_project, credential, small_limits, monkeypatch, ctrl_c
):
    monkeypatch.setenv("KEDRO_AZUREML_READ_TIMEOUT", "30")
    project = azure_project(fake_azure.base_url).project
    fake_azure.hang(
        method="PUT",
        path=r"/jobs/[^/]+$",
        on_request=lambda _request: os.kill(os.getpid(), signal.SIGINT),
    )

    started = time.monotonic()
    with pytest.raises(SubmitError) as error:
        submit_job(project, "train", CompileOptions(), credential=credential)
    elapsed = time.monotonic() - started

    message = str(error.value)
    (job_put,) = fake_azure.requests_to("PUT", r"/jobs/[^/]+$")
    job_name = job_put.path.rsplit("/", 1)[-1]
    assert message.startswith("interrupted submitting job 'train' while waiting for Azure ML (PUT")
    assert "its code was uploaded (code asset " in message
    assert f"pipeline job {job_name} was sent but not answered, so it may exist" in message
    assert f"az ml job cancel --name {job_name}" in message
    assert "\n" not in message
    assert elapsed < 30, "Ctrl+C does not wait for the answer"


@pytest.mark.slow
def test_ctrl_c_before_anything_is_sent_says_nothing_exists(
    fake_azure, azure_project, credential, small_limits, ctrl_c
):
    project = azure_project(fake_azure.base_url).project
    fake_azure.hang(
        method="GET",
        path=r"/workspaces/ws-demo$",
        on_request=lambda _request: os.kill(os.getpid(), signal.SIGINT),
    )

    with pytest.raises(SubmitError) as error:
        submit_job(project, "train", CompileOptions(), credential=credential)

    message = str(error.value)
    assert message.startswith(
        "interrupted submitting job 'train' while waiting for Azure Resource Manager (GET"
    )
    assert "no code was uploaded; no pipeline job was created." in message


# ------------------------------------------------------------------------------------ schedules

NIGHTLY = {"cron": {"expression": "0 6 * * *", "time_zone": "Europe/Paris"}}


def scheduled(azure_project, fake):
    jobs = {"nightly": {"experiment_name": "nightly-runs", "schedule": "nightly"}}
    return azure_project(fake.base_url, jobs, schedules={"nightly": NIGHTLY}).project


@pytest.mark.slow
def test_schedule_with_storage_down_blames_the_code_upload(
    fake_azure_behind_proxy, storage_proxy, azure_project, credential, small_limits
):
    fake = fake_azure_behind_proxy
    project = scheduled(azure_project, fake)
    storage_proxy.mode = "down"

    started = time.monotonic()
    report = schedule_jobs(project, ["nightly"], CompileOptions(), credential=credential)
    elapsed = time.monotonic() - started

    (result,) = report.results
    assert result.error.startswith(f"The code upload to storage (127.0.0.1:{storage_proxy.port})")
    assert "cannot be reached while creating schedule" in result.error
    assert fake.requests_to("PUT", r"/schedules/") == []
    assert elapsed < BUDGET_SECONDS


@pytest.mark.slow
def test_hung_schedule_creation_names_azure_ml(fake_azure, azure_project, credential, small_limits):
    project = scheduled(azure_project, fake_azure)
    fake_azure.hang(method="PUT", path=r"/schedules/[^/]+$")

    started = time.monotonic()
    report = schedule_jobs(project, ["nightly"], CompileOptions(), credential=credential)
    elapsed = time.monotonic() - started

    (result,) = report.results
    assert result.error.startswith("Azure ML (127.0.0.1:")
    assert "stalled while creating schedule" in result.error
    assert "\n" not in result.error
    assert elapsed < BUDGET_SECONDS
