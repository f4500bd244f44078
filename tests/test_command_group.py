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


def _deploy_commands() -> list[tuple[str, object]]:
    """Every command of the deploy package, subcommands of groups included, by path."""
    import click

    found: list[tuple[str, object]] = []
    pending = [
        (ep.name, ep.load())
        for ep in entry_points(group=COMMANDS_ENTRY_POINT_GROUP)
        if ep.dist.name == "kedro-azureml-deploy"
    ]
    while pending:
        path, command = pending.pop()
        found.append((path, command))
        if isinstance(command, click.Group):
            pending += [(f"{path} {name}", sub) for name, sub in command.commands.items()]
    return found


def test_every_deploy_command_fails_through_one_path_and_has_verbose():
    from kedro_azureml_deploy.cli.command import DeployErrors

    for path, command in _deploy_commands():
        assert isinstance(command, DeployErrors), f"`{path}` does not use DeployCommand"
        options = {name for param in command.params for name in param.opts}
        assert "--verbose" in options, f"`{path}` has no --verbose"


def test_env_is_defined_once_with_one_help(project):
    """Every command with -e/--env has the same option (the one of cli.options)."""
    helps = set()
    for _path, command in _deploy_commands():
        for param in command.params:
            if "--env" in param.opts:
                helps.add((tuple(param.opts), param.help, param.default))
    assert len(helps) == 1, helps


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["azureml", "compile", "--nope"], "No such option '--nope'"),
        (["azureml", "run", "--max-parallel", "0"], "Invalid value for '--max-parallel'"),
        (["azureml", "run", "--resume", "x"], "--resume apply to --local only"),
        (["azureml", "schedule", "frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_are_one_line_with_the_help_to_read(project, args, message):
    result = project.kedro(*args)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors[-1].startswith("Error: ") and message in errors[-1], result.stderr
    assert "Usage:" not in result.stderr and "Traceback" not in result.stderr
    assert f"(see `kedro {' '.join(args[:2])} --help`)." in errors[-1]


def test_upstream_deprecation_notices_do_not_bury_the_result(tmp_path):
    from project_factory import azureml_yml

    project = KedroProject(
        tmp_path / "p",
        nodes=[NodeSpec("first", "identity", [], ["out"])],
        extra_files={"conf/base/azureml.yml": azureml_yml({"default": {}})},
    ).write()

    result = project.kedro("azureml", "compile", "-j", "nope")

    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "register_new_resolver" not in output
    assert "deprecated" not in output
    compiled = project.kedro("azureml", "compile", "-j", "default")
    assert compiled.returncode == 0, compiled.stderr
    assert "No typed parameter requirements" not in compiled.stdout + compiled.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("Error: unknown job `nope`")
