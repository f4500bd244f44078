"""``kedro azureml`` with both packages installed, in a real Kedro project."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from kedro_azureml_runtime.cli import COMMANDS_ENTRY_POINT_GROUP, DEPLOY_COMMANDS
from project_factory import KedroProject, NodeSpec


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> KedroProject:
    path = tmp_path_factory.mktemp("group") / "p"
    return KedroProject(path, nodes=[NodeSpec("first", "identity", [], ["out"])]).write()


def test_runtime_registers_the_only_azureml_group_with_kedro():
    groups = [ep for ep in entry_points(group="kedro.project_commands") if ep.name == "azureml"]
    assert [ep.value for ep in groups] == ["kedro_azureml_runtime.cli:commands"]


def test_runtime_knows_exactly_the_commands_the_deploy_package_contributes():
    contributed = {
        ep.name
        for ep in entry_points(group=COMMANDS_ENTRY_POINT_GROUP)
        if ep.dist.name == "kedro-azureml-deploy"
    }
    assert contributed == set(DEPLOY_COMMANDS)


def test_help_lists_every_command_and_no_install_hint(project):
    result = project.kedro("azureml", "--help")
    assert result.returncode == 0, result.stderr
    for name in ("execute", *DEPLOY_COMMANDS):
        assert f"\n  {name} " in result.stdout
    assert "install kedro-azureml-deploy" not in result.stdout


@pytest.mark.parametrize("command", ["execute", *DEPLOY_COMMANDS])
def test_every_command_is_reachable(project, command):
    result = project.kedro("azureml", command, "--help")
    assert result.returncode == 0, result.stderr
    assert f"kedro azureml {command}" in result.stdout


def test_info_reports_matching_versions(project):
    result = project.kedro("azureml", "info")
    assert result.returncode == 0, result.stderr
    lines = dict(
        line.split(maxsplit=1)
        for line in result.stdout.splitlines()
        if line.startswith(("kedro-azureml", "azure-ai-ml"))
    )
    assert lines["kedro-azureml-runtime"] == lines["kedro-azureml-deploy"]
    assert lines["azure-ai-ml"] != "not installed"


@pytest.mark.parametrize("reverse", [False, True])
def test_group_is_the_same_whatever_order_kedro_loads_plugins_in(project, monkeypatch, reverse):
    from kedro.framework.cli import utils
    from kedro.framework.cli.cli import KedroCLI

    original = utils._get_entry_points

    def ordered(name: str):
        found = list(original(name))
        return list(reversed(found)) if reverse else found

    monkeypatch.setattr(utils, "_get_entry_points", ordered)
    monkeypatch.chdir(project.path)
    result = CliRunner().invoke(KedroCLI(project_path=Path(project.path)), ["azureml", "--help"])

    assert result.exit_code == 0, result.output
    for name in ("execute", *DEPLOY_COMMANDS):
        assert f"\n  {name} " in result.output


def test_unknown_subcommand_gives_clicks_message_without_traceback(project):
    result = project.kedro("azureml", "compil")
    assert result.returncode != 0
    assert "No such command 'compil'" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
