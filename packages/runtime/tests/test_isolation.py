"""The runtime's suite runs where a step runs: without the deploy package and without azure-ai-ml."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

from project_factory import KedroProject, NodeSpec


def test_environment_has_neither_deploy_package_nor_azure_sdk():
    # If this fails, the runtime's suite is not isolated and cannot catch a stray import.
    assert importlib.util.find_spec("kedro_azureml_deploy") is None
    assert importlib.util.find_spec("azure") is None


def test_importing_runtime_modules_loads_no_azure_module():
    code = (
        "import json, sys\n"
        "import kedro_azureml_runtime, kedro_azureml_runtime.cli, kedro_azureml_runtime.datasets\n"
        "import kedro_azureml_runtime.hooks.local_run_hook, kedro_azureml_runtime.execute\n"
        "import kedro_azureml_runtime.distributed, kedro_azureml_runtime.key_vault\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('azure', 'kedro_azureml_deploy'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.splitlines()[-1]) == []


def test_execute_runs_a_step_without_the_deploy_package(tmp_path):
    project = KedroProject(
        tmp_path / "p", nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])]
    ).write()
    result = project.kedro(
        "azureml", "execute", "--node", "first", "--az-output", "out", str(tmp_path / "o")
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "o" / "data.pickle").is_file()
