"""Bad input to ``replay_job``: one clear ``ReplayError`` each, and nothing created or deleted."""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_azureml_deploy.replay import ReplayError, replay_job


@pytest.fixture
def project(tmp_path) -> Path:
    path = tmp_path / "project"
    (path / "conf").mkdir(parents=True)
    return path


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "does not exist: compile the job first"),
        ("jobs: {a: [1, 2}\n", "is not valid YAML (line 1"),
        (
            "type: command\ncommand: kedro run\n",
            "is not an Azure ML pipeline job (`type: command`)",
        ),
        ("$schema: x\ndisplay_name: y\n", "is not an Azure ML pipeline job (no `type: pipeline`)"),
    ],
    ids=["missing", "corrupt", "command-job", "no-type"],
)
def test_a_job_file_that_cannot_be_replayed_is_one_clear_error(project, content, needle):
    job_file = project / "azureml-train.yml"
    if content is not None:
        job_file.write_text(content)
    before = sorted(project.rglob("*"))

    with pytest.raises(ReplayError) as error:
        replay_job(job_file, project_path=project)

    message = str(error.value)
    assert needle in message and str(job_file) in message
    assert "\n" not in message
    assert sorted(project.rglob("*")) == before


def valid_job(project: Path) -> Path:
    job_file = project / "azureml-train.yml"
    job_file.write_text("type: pipeline\njobs:\n  a: {type: command, command: 'true', code: .}\n")
    return job_file


def test_a_python_that_does_not_exist_is_refused(project, tmp_path):
    with pytest.raises(ReplayError, match=r"--python .*no such interpreter or environment"):
        replay_job(valid_job(project), project_path=project, python=tmp_path / "nope" / "python")
    assert not (project / ".azureml-local").exists()


def test_a_python_environment_without_kedro_is_refused(project, tmp_path):
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    with pytest.raises(ReplayError, match="has no `kedro`; install kedro-azureml-runtime"):
        replay_job(valid_job(project), project_path=project, python=tmp_path / "venv")


def test_max_parallel_must_allow_a_step(project):
    with pytest.raises(ReplayError, match="max_parallel is 0"):
        replay_job(valid_job(project), project_path=project, max_parallel=0)
