"""Azure ML job features reach the submitted request bodies (real ``MLClient`` against the fake).

Each test submits a job of the spaceflights-like project and asserts on the job's PUT body the
fake recorded; the compiled job also loads back with ``load_job``.
"""

from __future__ import annotations

import subprocess

import pytest

from kedro_azureml_deploy.azure.submission import submit_job
from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.versions import installed_versions


def _git(path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def sent_job(fake) -> dict:
    return fake.bodies("PUT", r"/jobs/[^/]+$")[-1]["properties"]


@pytest.mark.slow
def test_submitted_job_is_tagged_with_its_git_commit_branch_dirty_flag_env_and_versions(
    fake_azure, azure_project, credential
):
    created = azure_project(fake_azure.base_url, {"train": {"tags": {"team": "ml"}}})
    path = created.project.path
    _git(path, "init", "-q", "-b", "feature/tags")
    _git(path, "add", "-A")
    _git(path, "commit", "-q", "-m", "first")
    commit = _git(path, "rev-parse", "HEAD")

    submit_job(created.project, "train", CompileOptions(), credential=credential)
    (path / "notes.txt").write_text("changed\n", encoding="utf-8")
    submit_job(created.project, "train", CompileOptions(), credential=credential)

    clean, dirty = (
        body["properties"]["tags"] for body in fake_azure.bodies("PUT", r"/jobs/[^/]+$")
    )
    assert clean["git_commit"] == commit
    assert clean["git_branch"] == "feature/tags"
    assert clean["git_dirty"] == "false"
    assert dirty["git_dirty"] == "true"
    assert clean["kedro_env"] == "base"
    assert clean["kedro_azureml_version"] == installed_versions()["kedro-azureml-deploy"]
    assert clean["team"] == "ml"  # the job's own tags stay
    assert not any(str(path) in value for value in clean.values())


@pytest.mark.slow
def test_a_project_outside_git_is_tagged_without_git_tags(fake_azure, azure_project, credential):
    project = azure_project(fake_azure.base_url).project

    submit_job(project, "train", CompileOptions(), credential=credential)

    tags = sent_job(fake_azure)["tags"]
    assert tags["kedro_env"] == "base"
    assert not {"git_commit", "git_branch", "git_dirty"} & set(tags)


@pytest.mark.slow
def test_each_step_is_displayed_by_its_kedro_node_name(fake_azure, azure_project, credential):
    project = azure_project(fake_azure.base_url).project

    submit_job(project, "train", CompileOptions(), credential=credential)

    steps = sent_job(fake_azure)["jobs"]
    assert {name: step["display_name"] for name, step in steps.items()} == {
        name: name for name in ("preprocess", "features", "train", "evaluate")
    }


@pytest.mark.slow
def test_serverless_steps_are_sent_with_their_instance_type_and_no_cluster(
    fake_azure, azure_project, credential
):
    compute = {
        "__default__": {"instance_type": "Standard_DS3_v2"},
        "gpu": {"instance_type": "Standard_NC6s_v3", "instance_count": 2, "tags": ["gpu"]},
    }
    project = azure_project(fake_azure.base_url, compute=compute).project

    submit_job(project, "train", CompileOptions(), credential=credential)

    job = sent_job(fake_azure)
    # azure-ai-ml 1.35 sends the default `serverless` as the workspace's compute of that name
    assert job["settings"]["default_compute"].endswith("/computes/serverless")
    steps = job["jobs"]
    assert not any(step.get("computeId") for step in steps.values())
    assert steps["train"]["resources"]["instance_type"] == "Standard_NC6s_v3"
    assert steps["train"]["resources"]["instance_count"] == 2
    assert steps["preprocess"]["resources"]["instance_type"] == "Standard_DS3_v2"
    assert not fake_azure.requests_to("GET", r"/computes/")  # no cluster is looked up


@pytest.mark.slow
def test_a_user_assigned_identity_is_sent_on_the_job_and_each_step_with_azure_client_id(
    fake_azure, azure_project, credential
):
    client_id = "00000000-0000-0000-0000-0000000000c1"
    jobs = {"train": {"identity": {"client_id": client_id}}}
    project = azure_project(fake_azure.base_url, jobs).project

    submit_job(project, "train", CompileOptions(), credential=credential)

    job = sent_job(fake_azure)
    # the REST body: camelCase on the job, snake_case in its steps, as azure-ai-ml 1.35 sends them
    assert job["identity"]["identityType"] == "Managed"
    assert job["identity"]["clientId"] == client_id
    for step in job["jobs"].values():
        assert step["identity"]["identity_type"] == "Managed"
        assert step["identity"]["client_id"] == client_id
        assert step["environment_variables"]["AZURE_CLIENT_ID"] == client_id


@pytest.mark.slow
def test_user_identity_is_sent_on_the_job_and_each_step(fake_azure, azure_project, credential):
    project = azure_project(fake_azure.base_url, {"train": {"identity": "user_identity"}}).project

    submit_job(project, "train", CompileOptions(), credential=credential)

    job = sent_job(fake_azure)
    assert job["identity"] == {"identityType": "UserIdentity"}
    assert {step["identity"]["identity_type"] for step in job["jobs"].values()} == {"UserIdentity"}


@pytest.mark.slow
def test_a_pipeline_datasets_output_mode_is_sent_on_its_producers_output(
    fake_azure, azure_project, credential
):
    catalog = (
        "model_input:\n"
        "  type: kedro_azureml_runtime.datasets.AzureMLPipelineDataset\n"
        "  output_mode: upload\n"
        "  dataset:\n"
        "    type: pickle.PickleDataset\n"
        "    filepath: model_input.pkl\n"
    )
    project = azure_project(
        fake_azure.base_url, extra_files={"conf/prod/catalog.yml": catalog}, env="prod"
    ).project

    submit_job(project, "train", CompileOptions(env="prod"), credential=credential)

    steps = sent_job(fake_azure)["jobs"]
    assert steps["features"]["outputs"]["model_input"]["mode"] == "Upload"
    assert "mode" not in steps["preprocess"]["outputs"].get("preprocessed", {})


@pytest.mark.slow
def test_notifications_reach_the_submitted_request_body(fake_azure, azure_project, credential):
    notifications = {
        "emails": ["team@example.com", "lead@example.com"],
        "on": ["failed", "completed"],
    }
    project = azure_project(
        fake_azure.base_url, {"train": {"notifications": notifications}}
    ).project

    submit_job(project, "train", CompileOptions(), credential=credential)

    assert sent_job(fake_azure)["notificationSetting"] == {
        "emails": ["team@example.com", "lead@example.com"],
        "emailOn": ["JobFailed", "JobCompleted"],
    }


@pytest.mark.slow
def test_a_job_without_notifications_sends_no_notification_setting(
    fake_azure, azure_project, credential
):
    project = azure_project(fake_azure.base_url).project

    submit_job(project, "train", CompileOptions(), credential=credential)

    assert "notificationSetting" not in sent_job(fake_azure)
