"""Importing the packages and loading the command group never imports the Azure SDK; a step's
``execute`` does not either, even where azure-ai-ml is installed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from project_factory import KedroProject, NodeSpec, quiet_kedro_env

REPORT = (
    "import atexit, json, sys\n"
    "atexit.register(lambda: print('MODULES=' + json.dumps(sorted(m for m in sys.modules "
    "if m == 'azure' or m.startswith('azure.')))))\n"
)


def _azure_modules(code: str, cwd) -> list[str]:
    import os

    result = subprocess.run(
        [sys.executable, "-c", REPORT + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **quiet_kedro_env()},
        check=False,
    )
    marker = [line for line in result.stdout.splitlines() if line.startswith("MODULES=")]
    assert marker, f"no report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    return json.loads(marker[-1].removeprefix("MODULES="))


def test_the_azure_sdk_is_installed_here_so_the_checks_below_can_fail():
    import importlib.util

    assert importlib.util.find_spec("azure.ai.ml") is not None


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> KedroProject:
    path = tmp_path_factory.mktemp("imports") / "p"
    return KedroProject(
        path, nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])]
    ).write()


def test_importing_both_packages_imports_no_azure_module(tmp_path):
    code = "import kedro_azureml_runtime, kedro_azureml_deploy, kedro_azureml_deploy.cli\n"
    assert _azure_modules(code, tmp_path) == []


@pytest.mark.parametrize(
    "args", [["--help"], ["azureml", "--help"], ["azureml", "execute", "--help"]]
)
def test_loading_the_command_group_imports_no_azure_module(project, args):
    code = (
        "import sys\n"
        "from kedro.framework.cli.cli import main\n"
        f"sys.argv = ['kedro', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    assert _azure_modules(code, project.path) == []


@pytest.mark.parametrize("args", [["--help"], ["azureml", "--help"], ["azureml", "compile"]])
def test_kedro_outside_a_project_imports_no_azure_module(tmp_path, args):
    code = (
        "import sys\n"
        "from kedro.framework.cli.cli import main\n"
        f"sys.argv = ['kedro', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
    )
    assert _azure_modules(code, tmp_path) == []


def test_execute_of_a_real_step_imports_no_azure_ai_ml(project, tmp_path):
    out = tmp_path / "out"
    code = (
        "import sys\n"
        "from kedro.framework.cli.cli import main\n"
        f"sys.argv = ['kedro', 'azureml', 'execute', '-n', 'first', '--az-output', 'out', {str(out)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert not exc.code, exc.code\n"
    )
    assert _azure_modules(code, project.path) == []
    assert (out / "data.pickle").is_file()


def test_the_replay_of_a_compiled_file_imports_neither_the_compiler_nor_the_config_models(tmp_path):
    """``kedro azureml replay`` reads a compiled file: it has no use for the compiler or pydantic,
    which cost it about a second of start-up before each replay."""
    code = (
        "import json, sys\n"
        "import kedro_azureml_deploy.replay.job_replay\n"
        "heavy = ('pydantic', 'kedro_azureml_deploy.config', 'kedro_azureml_deploy.compiler.job')\n"
        "print('HEAVY=' + json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))\n"
        "from kedro_azureml_deploy.compiler import CompileOptions, compile_job\n"
        "assert callable(compile_job) and CompileOptions.__name__ == 'CompileOptions'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert "HEAVY=[]" in result.stdout.splitlines(), result.stdout
