"""A job's name never takes a file written after it out of the project, even when a config built
in code skipped the name rules of azureml.yml."""

from __future__ import annotations

import pytest

from kedro_azureml_deploy.errors import ConfigError
from kedro_azureml_deploy.project_jobs import default_output_path, path_inside_project


def test_compile_and_local_runs_write_inside_the_project(tmp_path):
    project = tmp_path / "project"

    assert default_output_path(project, "train") == (
        project / ".azureml-local" / "compiled" / "train.yml"
    )


@pytest.mark.parametrize(
    ("where", "name"),
    [
        (default_output_path, "../../../x"),
        (default_output_path, "a/../../../../x"),
        (default_output_path, "/etc/cron.d/x"),
    ],
)
def test_a_job_name_leaving_the_project_is_refused_in_one_line(tmp_path, name, where):
    project = tmp_path / "deep" / "er" / "project"
    project.mkdir(parents=True)

    with pytest.raises(ConfigError) as raised:
        where(project, name)

    message = str(raised.value)
    assert message.startswith(f"job `{name}`: its YAML would be written to `")
    assert message.endswith(
        "outside the project; rename the job in azureml.yml with letters, digits, `_` and `-` only"
    )
    assert "\n" not in message
    assert str(tmp_path) not in message
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["deep", "er", "project"]


def test_the_project_folder_itself_is_no_file_to_write(tmp_path):
    with pytest.raises(ConfigError, match="outside the project"):
        path_inside_project(tmp_path, ".", "x")


def test_a_name_with_dots_that_stays_inside_the_project_is_left_to_azureml_yml(tmp_path):
    # `../x` only steps up out of `compiled/`: the file stays in the project, and the name rules
    # of azureml.yml refuse the job anyway.
    assert default_output_path(tmp_path, "../x") == tmp_path / ".azureml-local" / "x.yml"
