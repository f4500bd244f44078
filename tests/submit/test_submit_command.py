"""``kedro azureml run`` and ``kedro azureml schedule`` as subprocesses: wiring, output, exit codes.

Signing in cannot be injected into a subprocess, so these tests cover what needs no sign-in: an
environment with no Azure credential at all (``DefaultAzureCredential`` fails at once, offline),
dry runs, and usage errors. The submission itself is tested in-process (``test_submit_job``).
"""

from __future__ import annotations

import itertools
import json
import os
import socket
import uuid

import pytest
import yaml

from azure_fake.projects import SETTINGS, azureml_config, spaceflights_nodes
from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.dry_run import preview_submission
from project_factory import quiet_kedro_env

SCHEDULES = {"nightly": {"cron": {"expression": "0 6 * * *", "time_zone": "Europe/Paris"}}}


@pytest.fixture
def cli_project(make_project, fake_azure):
    """A project pointing at the (running) fake, with a job ``train`` scheduled nightly."""
    nodes, catalog = spaceflights_nodes()
    jobs = {"train": {"experiment_name": "demo", "schedule": "nightly"}, "other": {}}
    config = azureml_config(fake_azure.base_url, jobs, schedules=SCHEDULES)
    return make_project(
        package=f"cli_{uuid.uuid4().hex[:10]}",
        nodes=nodes,
        catalog=catalog,
        settings=SETTINGS,
        extra_files={"conf/base/azureml.yml": json.dumps(config)},
    )


def without_azure_sign_in(home) -> dict[str, str]:
    """The environment of a machine where nobody signed in to Azure: no AZURE_* variables, no
    managed identity endpoint, no Azure CLI profile (HOME is empty), but the fake's certificate."""
    names = ("AZURE_", "IDENTITY_", "MSI_", "AZD_")
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith(names)},
        "HOME": str(home),
    }


def error_lines(result) -> list[str]:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("Error:")]


@pytest.mark.slow
def test_run_without_any_sign_in_prints_one_message_and_sends_nothing(
    cli_project, fake_azure, azurite, tmp_path
):
    home = tmp_path / "home"
    home.mkdir()

    result = cli_project.kedro("azureml", "run", "-j", "train", env=without_azure_sign_in(home))

    assert result.returncode == 1, result.stderr
    (line,) = error_lines(result)
    assert "could not sign in to Azure" in line
    for way in (
        "az login",
        "AZURE_CLIENT_ID",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "managed identity",
    ):
        assert way in line
    assert "DefaultAzureCredential failed" not in result.stderr + result.stdout
    assert fake_azure.requests == []
    assert azurite.blob_names(fake_azure.storage.container) == []


@pytest.mark.slow
def test_dry_run_prints_the_plan_writes_the_yaml_and_sends_nothing(cli_project, fake_azure):
    result = cli_project.kedro("azureml", "run", "-j", "train", "--dry-run")

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Job 'train' -> workspace ws-demo (resource group rg-demo" in out
    assert "experiment 'demo'" in out
    assert "train: compute gpu (gpu-cluster), environment __default__ (kedro-env@latest)" in out
    assert (
        "features: compute __default__ (cpu-cluster), environment slim (image python:3.11-slim)"
        in out
    )
    assert "model_input: features -> train, evaluate (AzureMLPipelineDataset)" in out
    assert "preprocessed: preprocess -> features (undeclared intermediate)" in out
    assert "schedule: " in out and 'cron "0 6 * * *" (Romance Standard Time)' in out
    assert "  inputs (1):\n    seed = 1 (params:seed)\n" in out
    assert "Dry run: nothing was sent to Azure." in out
    spec = yaml.safe_load(
        (cli_project.path / ".azureml-local" / "compiled" / "train.yml").read_text()
    )
    assert list(spec["jobs"]) == ["preprocess", "features", "train", "evaluate"]
    assert fake_azure.requests == []


@pytest.fixture
def invoke(make_project, monkeypatch):
    """Invoke a ``kedro azureml`` command in this process, in a project pointing nowhere (these
    commands must fail or finish before any request)."""
    from click.testing import CliRunner
    from kedro.framework.startup import bootstrap_project

    from kedro_azureml_runtime.cli import commands

    nodes, catalog = spaceflights_nodes()
    jobs = {"train": {"schedule": "nightly"}, "other": {}}
    config = azureml_config("https://127.0.0.1:9/", jobs, schedules=SCHEDULES)
    project = make_project(
        package=f"cli_{uuid.uuid4().hex[:10]}",
        nodes=nodes,
        catalog=catalog,
        settings=SETTINGS,
        extra_files={"conf/base/azureml.yml": json.dumps(config)},
    )
    monkeypatch.chdir(project.path)
    for name, value in quiet_kedro_env().items():
        monkeypatch.setenv(name, value)
    metadata = bootstrap_project(project.path)

    def run(*args: str):
        return CliRunner().invoke(commands, ["azureml", *args], obj=metadata)

    run.project = project  # type: ignore[attr-defined]
    return run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--max-parallel", "2"], "--max-parallel apply to --local only"),
        (["run", "--cold"], "--cold apply to --local only"),
        (["run", "--local", "--wait", "--dry-run"], "--wait, --dry-run apply to a submission"),
        (["run", "-j", "train", "-w", "nowhere", "--dry-run"], "unknown workspace `nowhere`"),
        (["schedule", "create", "-j", "other"], "job `other` has no schedule"),
        (["schedule", "-j", "other", "--dry-run"], "job `other` has no schedule"),
        (["run", "-j", "train", "--aml-env", "not a/valid:env"], "--aml-env"),
        (["run", "-j", "train", "--on-job-scheduled", "json"], "is not `module:function`"),
    ],
)
def test_usage_errors_say_what_is_wrong(invoke, args, message):
    result = invoke(*args)

    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_schedule_without_subcommand_shows_its_subcommands(invoke):
    result = invoke("schedule")

    assert result.exit_code in (0, 2)
    for name in ("create", "list", "disable", "delete"):
        assert name in result.output


def test_schedule_with_job_options_means_schedule_create(invoke):
    result = invoke("schedule", "-j", "train", "--dry-run", "-w", "missing")

    assert result.exit_code == 0, result.output
    assert "workspace ws-nowhere" in result.output
    assert f"schedule: {invoke.project.package}-train" in result.output
    assert "Dry run: nothing was sent to Azure." in result.output


@pytest.mark.parametrize("command", ["run", "schedule"])
def test_dry_run_refuses_the_local_environment_as_the_submission_does(invoke, command):
    result = invoke(command, "-j", "train", "--dry-run", "-e", "local")

    assert result.exit_code == 1, result.output
    assert "conf/local is never uploaded to Azure ML" in result.output
    assert "Dry run: nothing was sent" not in result.output and "steps (" not in result.output
    assert "Traceback" not in result.output


def test_dry_run_of_a_job_without_schedule_says_so(invoke):
    result = invoke("run", "-j", "other", "--dry-run")

    assert result.exit_code == 0, result.output
    assert "schedule: none" in result.output
    assert (invoke.project.path / ".azureml-local" / "compiled" / "other.yml").is_file()


def test_dry_run_shows_the_next_three_firings_of_the_schedule(invoke):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    result = invoke("run", "-j", "train", "--dry-run")

    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if "next firings:" in line]
    times, zone = line.split("next firings: ")[1].rsplit(" (", 1)
    assert zone == "Romance Standard Time)"
    firings = [datetime.fromisoformat(time) for time in times.split(", ")]
    now = datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None)
    assert len(firings) == 3
    assert all((time.hour, time.minute) == (6, 0) for time in firings)  # `0 6 * * *`
    assert now < firings[0] <= now + timedelta(days=1)
    assert [b - a for a, b in itertools.pairwise(firings)] == [timedelta(days=1)] * 2


def test_schedule_dry_run_shows_the_next_firings_too(invoke):
    result = invoke("schedule", "-j", "train", "--dry-run", "-w", "missing")

    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if "next firings:" in line]
    assert line.endswith(" 06:00 (Romance Standard Time)")
    assert line.count(" 06:00") == 3


def _preview_with_schedule(make_project, monkeypatch, schedule):
    from kedro.framework.startup import bootstrap_project

    from kedro_azureml_deploy.project import open_project

    nodes, catalog = spaceflights_nodes()
    config = azureml_config("https://127.0.0.1:9/", {"train": {"schedule": schedule}}, schedules={})
    files = make_project(
        package=f"fire_{uuid.uuid4().hex[:10]}",
        nodes=nodes,
        catalog=catalog,
        settings=SETTINGS,
        extra_files={"conf/base/azureml.yml": json.dumps(config)},
    )
    monkeypatch.chdir(files.path)
    for name, value in quiet_kedro_env().items():
        monkeypatch.setenv(name, value)
    bootstrap_project(files.path)
    return preview_submission(open_project(files.path, env="base"), "train", CompileOptions())


def test_dry_run_firings_follow_a_recurrence_pattern_and_stop_at_its_end(make_project, monkeypatch):
    from datetime import datetime

    weekly = {
        "recurrence": {
            "frequency": "week",
            "time_zone": "UTC",
            "end_time": "2099-01-15T00:00:00",
            "schedule": {"hours": [6], "minutes": [30], "week_days": ["monday", "thursday"]},
        }
    }
    preview = _preview_with_schedule(make_project, monkeypatch, weekly)

    text = preview.describe(now=datetime(2099, 1, 1, 12, 0))  # a Thursday
    assert "    next firings: 2099-01-05 06:30, 2099-01-08 06:30, 2099-01-12 06:30 (UTC)" in text
    text = preview.describe(now=datetime(2099, 1, 8, 12, 0))  # 2099-01-15 06:30 is past the end
    assert "    next firings: 2099-01-12 06:30 (UTC)" in text
    text = preview.describe(now=datetime(2099, 1, 12, 12, 0))
    assert "    next firings: none, the schedule has ended" in text


def test_dry_run_says_when_azure_ml_alone_knows_the_firings(make_project, monkeypatch):
    every_two_days = {"recurrence": {"frequency": "day", "interval": 2}}  # from its creation
    preview = _preview_with_schedule(make_project, monkeypatch, every_two_days)

    assert (
        "    next firings: worked out by Azure ML when it creates the schedule (they depend on "
        "when it starts)"
    ) in preview.describe()


def test_plan_opens_no_socket(make_project, monkeypatch):
    from kedro.framework.startup import bootstrap_project

    from kedro_azureml_deploy.project import open_project

    nodes, catalog = spaceflights_nodes()
    jobs = {"train": {"schedule": "nightly"}}
    config = azureml_config("https://127.0.0.1:9/", jobs, schedules=SCHEDULES)
    files = make_project(
        package=f"plan_{uuid.uuid4().hex[:10]}",
        nodes=nodes,
        catalog=catalog,
        settings=SETTINGS,
        extra_files={"conf/base/azureml.yml": json.dumps(config)},
    )
    monkeypatch.chdir(files.path)
    for name, value in quiet_kedro_env().items():
        monkeypatch.setenv(name, value)
    bootstrap_project(files.path)
    project = open_project(files.path, env="base")

    def no_network(*args, **kwargs):
        raise AssertionError(f"a dry run opened a connection: {args}")

    with monkeypatch.context() as patch:
        patch.setattr(socket.socket, "connect", no_network)
        patch.setattr(socket.socket, "connect_ex", no_network)
        patch.setattr(socket, "create_connection", no_network)
        plan = preview_submission(
            project, "train", CompileOptions(), output=files.path / "plan.yml"
        )

    assert "train: compute gpu (gpu-cluster)" in plan.describe()
    assert plan.schedule_name == f"{files.package}-train"
    assert (files.path / "plan.yml").is_file()


@pytest.fixture
def signed_in(monkeypatch):
    """Every credential the commands build is the test credential (the commands take none)."""
    from azure_fake.credentials import FakeTokenCredential

    monkeypatch.setattr(
        "kedro_azureml_deploy.azure.credentials.build_credential",
        lambda cloud=None, *, interactive=False, **_settings: FakeTokenCredential(),
    )


def invoke_in(project_path, *args: str):
    from click.testing import CliRunner
    from kedro.framework.startup import bootstrap_project

    from kedro_azureml_runtime.cli import commands

    metadata = bootstrap_project(project_path)
    return CliRunner().invoke(commands, ["azureml", *args], obj=metadata)


@pytest.mark.slow
def test_run_exit_code_and_summary_when_a_job_fails(fake_azure, azure_project, signed_in):
    jobs = {"good": {}, "bad": {}}
    created = azure_project(fake_azure.base_url, jobs)
    fake_azure.job_statuses = ["Running", "Failed"]

    result = invoke_in(created.path, "run", "-j", "good", "-j", "bad", "--wait")

    assert result.exit_code == 1
    assert "Submitted job 'good' as Azure ML job" in result.output
    assert "Error: 2 of 2 job(s) failed:" in result.output
    assert "  - bad: Azure ML job " in result.output and "ended Failed" in result.output


@pytest.mark.slow
def test_schedule_commands_create_list_disable_delete(fake_azure, azure_project, signed_in):
    created = azure_project(
        fake_azure.base_url, {"train": {"schedule": "nightly"}}, schedules=SCHEDULES
    )
    name = f"{created.files.package}-train"

    assert invoke_in(created.path, "schedule", "-j", "train").exit_code == 0
    listed = invoke_in(created.path, "schedule", "list")
    assert listed.exit_code == 0 and f"{name}  job train  enabled" in listed.output
    assert invoke_in(created.path, "schedule", "disable", name).exit_code == 0
    assert "disabled" in invoke_in(created.path, "schedule", "list").output
    deleted = invoke_in(created.path, "schedule", "delete", name)
    assert deleted.exit_code == 0 and f"Deleted schedule {name}." in deleted.output
    assert "has no schedule" in invoke_in(created.path, "schedule", "list").output


@pytest.mark.slow
def test_run_interrupted_by_ctrl_c_prints_one_line_of_what_exists(
    fake_azure, azure_project, signed_in, ctrl_c
):
    import signal

    created = azure_project(fake_azure.base_url)
    fake_azure.hang(
        method="PUT",
        path=r"/jobs/[^/]+$",
        seconds=30,
        on_request=lambda _request: os.kill(os.getpid(), signal.SIGINT),
    )

    result = invoke_in(created.path, "run", "-j", "train")

    assert result.exit_code == 1
    assert "Aborted!" not in result.output
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert line.startswith("Error: interrupted submitting job 'train' while waiting for Azure ML")
    assert "its code was uploaded" in line and "was sent but not answered" in line


def test_run_with_an_invalid_timeout_prints_one_line_and_sends_nothing(
    fake_azure, azure_project, signed_in, monkeypatch
):
    created = azure_project(fake_azure.base_url)
    monkeypatch.setenv("KEDRO_AZUREML_READ_TIMEOUT", "0")

    result = invoke_in(created.path, "run", "-j", "train")

    assert result.exit_code == 1
    (line,) = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert line.startswith("Error: KEDRO_AZUREML_READ_TIMEOUT='0' is not a number of seconds")
    assert fake_azure.requests == []


def test_dry_run_shows_the_source_tags_and_notifications_it_would_send(make_project, monkeypatch):
    from kedro.framework.startup import bootstrap_project

    from kedro_azureml_deploy.project import open_project

    nodes, catalog = spaceflights_nodes()
    notifications = {"emails": ["team@example.com"], "on": ["failed", "completed"]}
    config = azureml_config("https://127.0.0.1:9/", {"train": {"notifications": notifications}})
    files = make_project(
        package=f"notify_{uuid.uuid4().hex[:10]}",
        nodes=nodes,
        catalog=catalog,
        settings=SETTINGS,
        extra_files={"conf/base/azureml.yml": json.dumps(config)},
    )
    monkeypatch.chdir(files.path)
    for name, value in quiet_kedro_env().items():
        monkeypatch.setenv(name, value)
    bootstrap_project(files.path)

    text = preview_submission(
        open_project(files.path, env="base"), "train", CompileOptions()
    ).describe()

    assert "  notifications: email team@example.com when a run ends failed/completed" in text
    assert "kedro_env=base" in text
