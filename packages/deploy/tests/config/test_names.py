"""Names in azureml.yml and on the command line follow Azure ML's rules, checked when read."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from kedro_azureml_deploy.cli.options import ENV_VARS_OPTION
from kedro_azureml_deploy.config import names


@pytest.mark.parametrize("name", ["train", "Train_2", "nightly-eval", "0", "a" * 255])
def test_job_names_azure_ml_takes_are_kept(name):
    assert names.job_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["../../../x", "a/b", "a\\b", "..", ".hidden", "train job", "tränen", "-lead", "a" * 256, ""],
)
def test_job_names_that_are_no_file_or_azure_ml_name_are_refused(name):
    with pytest.raises(ValueError, match="is not a job name: use letters, digits"):
        names.job_name(name)


@pytest.mark.parametrize("name", ["cpu-cluster", "d4", "gpu-nc6", "big-gpu-cluster", "A" * 24])
def test_compute_names_azure_ml_takes_are_kept(name):
    assert names.compute_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "cpu cluster",  # a space
        "clüster",  # not ASCII
        "c" * 60,  # longer than 24
        "c" * 25,
        "c",  # shorter than 2
        "4cpu",  # starts with a digit
        "cpu_cluster",  # `_`
        "cpu-cluster-1",  # no letter after the last `-`
        "cpu-",
    ],
)
def test_compute_names_azure_ml_refuses_are_refused(name):
    with pytest.raises(ValueError, match="is not an Azure ML compute name"):
        names.compute_name(name)


def test_job_and_schedule_names_are_checked_when_the_file_is_read(minimal_yaml, read_yaml):
    from kedro_azureml_deploy.config import parse_config
    from kedro_azureml_deploy.errors import ConfigError

    text = minimal_yaml.replace("  train: {}", "  ../x: {}")
    text += "schedules:\n  bad/name:\n    cron:\n      expression: 0 6 * * *\n"
    with pytest.raises(ConfigError) as raised:
        parse_config(read_yaml(text))

    assert str(raised.value).splitlines() == [
        "azureml.yml: schedules.bad/name: `bad/name` is not a schedule name: use letters, "
        "digits, `_` and `-` (starting with a letter or digit), at most 255 characters",
        "azureml.yml: jobs.../x: `../x` is not a job name: use letters, digits, `_` and `-` "
        "(starting with a letter or digit), at most 255 characters",
    ]


@click.command()
@ENV_VARS_OPTION
def _show_env_vars(env_vars):
    click.echo(repr(env_vars))


def test_env_var_option_takes_shell_variable_names():
    result = CliRunner().invoke(_show_env_vars, ["--env-var", "GOOD_1=x=y", "--env-var", "_U="])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "{'GOOD_1': 'x=y', '_U': ''}"


@pytest.mark.parametrize("item", ["1BAD=x", "BAD-NAME=x", "ÉTÉ=x", "A B=x"])
def test_env_var_option_refuses_a_bad_name_in_one_usage_line(item):
    result = CliRunner().invoke(_show_env_vars, ["--env-var", item])

    assert result.exit_code == 2
    error = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert error == [
        f"Error: --env-var {item!r}: `{item.partition('=')[0]}` is not an environment variable "
        "name: use letters, digits and `_`, not starting with a digit."
    ]
    assert "Traceback" not in result.output
