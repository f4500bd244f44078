"""``kedro azureml`` outside a Kedro project says it needs one; inside, the project group wins.

Run with the real ``kedro`` in a subprocess: which group answers is decided by how Kedro's
``KedroCLI`` merges global and project command groups, so nothing less tells.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kedro_azureml_runtime.cli import DEPLOY_COMMANDS
from kedro_azureml_runtime.outside_project import NEEDS_PROJECT
from project_factory import KedroProject, NodeSpec, quiet_kedro_env, run_kedro

KEDRO = Path(sys.executable).parent / "kedro"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> KedroProject:
    path = tmp_path_factory.mktemp("inside") / "p"
    return KedroProject(path, nodes=[NodeSpec("first", "identity", [], ["out"])]).write()


@pytest.mark.parametrize(
    "args",
    [
        ["compile", "-j", "train"],
        ["run", "-j", "default", "--local"],
        ["doctor", "--no-such-option"],
        ["compile", "--help"],
        ["nope"],
        [],
    ],
)
def test_outside_a_project_every_command_says_it_needs_one(tmp_path, args):
    result = subprocess.run(
        [str(KEDRO), "azureml", *args],
        cwd=tmp_path,
        env={**os.environ, **quiet_kedro_env()},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.strip() == f"Error: {NEEDS_PROJECT}"
    assert "No such command" not in result.stdout + result.stderr


def test_outside_a_project_help_lists_the_commands_and_says_it_needs_one(tmp_path):
    result = run_kedro(tmp_path, "azureml", "--help")

    assert result.returncode == 0, result.stderr
    assert "needs a Kedro project" in result.stdout
    for name in ("execute", *DEPLOY_COMMANDS):
        assert f"\n  {name} " in result.stdout


def test_outside_a_project_kedro_help_names_azureml(tmp_path):
    result = run_kedro(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert "azureml  kedro azureml needs a Kedro project" in result.stdout


def test_inside_a_project_the_project_group_answers(project):
    help_text = run_kedro(project.path, "azureml", "--help")
    execute_help = run_kedro(project.path, "azureml", "execute", "--help")
    kedro_help = run_kedro(project.path, "--help")

    assert help_text.returncode == 0, help_text.stderr
    assert "needs a Kedro project" not in help_text.stdout
    assert "Run Kedro pipelines on Azure ML" in help_text.stdout
    assert execute_help.returncode == 0 and "--az-output" in execute_help.stdout
    assert "needs a Kedro project" not in kedro_help.stdout
    assert kedro_help.stdout.count("\n  azureml ") == 1


# kedro-telemetry (in Kedro's starters' requirements) masks each command line before it runs by
# asking ``KedroCLI.get_command(ctx=None, ...)``; with consent not refused it does so on every
# ``kedro azureml`` call, so a lookup without a context must not fail.
MASK_COMMAND = """
import json, sys
from pathlib import Path
from kedro.framework.cli.cli import KedroCLI
from kedro.utils import find_kedro_project
from kedro_telemetry.masking import _mask_kedro_cli

cli = KedroCLI(project_path=find_kedro_project(Path.cwd()) or Path.cwd())
print(json.dumps(_mask_kedro_cli(cli, command_args=sys.argv[1:])))
"""


@pytest.mark.parametrize("inside", [True, False], ids=["inside", "outside"])
def test_kedro_telemetry_masks_an_azureml_command_line_without_failing(project, tmp_path, inside):
    pytest.importorskip("kedro_telemetry")
    cwd = project.path if inside else tmp_path
    result = subprocess.run(
        [sys.executable, "-c", MASK_COMMAND, "azureml", "run", "-j", "default", "--local"],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **quiet_kedro_env()},
        check=False,
    )

    assert result.returncode == 0, result.stderr
    masked = result.stdout.splitlines()[-1]
    assert masked.startswith('["azureml", "run"') if inside else masked == '["*****"]'
