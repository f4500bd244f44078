"""``kedro azureml`` with only the runtime installed: ``execute`` works, deploy commands say how to
get them."""

from __future__ import annotations

import pytest

from kedro_azureml_runtime.cli import DEPLOY_COMMANDS, DEPLOY_DISTRIBUTION
from project_factory import KedroProject, NodeSpec, run_kedro


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "p"
    return KedroProject(path, nodes=[NodeSpec("first", "identity", [], ["out"])]).write()


def test_help_lists_execute_and_names_the_deploy_package(project):
    result = project.kedro("azureml", "--help")
    assert result.returncode == 0, result.stderr
    assert "execute" in result.stdout
    assert DEPLOY_DISTRIBUTION in result.stdout
    for name in DEPLOY_COMMANDS:
        assert f"\n  {name} " not in result.stdout  # not listed as if it were available


@pytest.mark.parametrize("command", DEPLOY_COMMANDS)
def test_deploy_command_prints_one_install_line_and_fails(project, command):
    result = project.kedro("azureml", command, "--some-option", "value")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert DEPLOY_DISTRIBUTION in errors[0] and "install" in errors[0]
    assert "Traceback" not in result.stderr


def test_execute_help_works(project):
    result = project.kedro("azureml", "execute", "--help")
    assert result.returncode == 0
    for option in ("--env", "--pipeline", "--node", "--az-input", "--az-output", "--params"):
        assert option in result.stdout


def test_unknown_subcommand_gives_clicks_message_without_traceback(project):
    result = project.kedro("azureml", "frobnicate")
    assert result.returncode != 0
    assert "No such command 'frobnicate'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_outside_a_project_azureml_says_it_needs_one(tmp_path):
    help_text = run_kedro(tmp_path, "azureml", "--help")
    command = run_kedro(tmp_path, "azureml", "execute", "--node", "n")

    assert help_text.returncode == 0, help_text.stderr
    assert "needs a Kedro project" in help_text.stdout and "\n  execute " in help_text.stdout
    assert command.returncode == 1
    assert command.stderr.startswith("Error: kedro azureml needs a Kedro project: run it from")
    assert "Traceback" not in help_text.stderr + command.stderr
