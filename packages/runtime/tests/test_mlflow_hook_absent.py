"""The runtime's MLflow hook costs nothing where MLflow is not used, and without mlflow installed
a step that asks for it still runs.

An ``mlflow`` package put first on ``PYTHONPATH`` stands in for "not installed": importing it
writes a marker file, then raises ``ImportError``. So these tests say whether the hook even tried,
in this suite's environment (no mlflow) or any other.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, distribution, entry_points
from pathlib import Path

import pytest

from project_factory import KedroProject, NodeSpec

#: What Azure ML sets in every step, MLflow project or not.
AZURE_ML_VARIABLES = {
    "MLFLOW_TRACKING_URI": "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/x",
    "MLFLOW_RUN_ID": "0123456789abcdef0123456789abcdef",
    "MLFLOW_EXPERIMENT_ID": "0123",
    "MLFLOW_EXPERIMENT_NAME": "train",
}


@pytest.fixture
def no_mlflow(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Environment variables that hide any installed mlflow, and the marker an import attempt
    writes."""
    folder = tmp_path / "no_mlflow" / "mlflow"
    folder.mkdir(parents=True)
    marker = tmp_path / "mlflow_import_attempted"
    (folder / "__init__.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "raise ImportError('No module named mlflow (stand-in)')\n"
    )
    return {"PYTHONPATH": str(folder.parent)}, marker


@pytest.fixture
def project(make_project) -> KedroProject:
    return make_project(nodes=[NodeSpec("train", "identity", ["params:seed"], ["model"])])


def test_mlflow_is_not_installed_in_the_runtime_suite():
    # By distribution: with tests/ on sys.path, tests/mlflow/ is an importable namespace package.
    with pytest.raises(PackageNotFoundError):
        distribution("mlflow")


def test_the_hook_is_registered_by_entry_point():
    hooks = {ep.name: ep.value for ep in entry_points(group="kedro.hooks")}

    assert hooks["azureml_mlflow"] == "kedro_azureml_runtime.hooks.mlflow_hook:mlflow_azureml_hook"


def test_importing_the_hook_module_imports_nothing_but_itself():
    code = (
        "import json, sys\n"
        "import kedro.framework.hooks, kedro_azureml_runtime.errors\n"
        "import kedro_azureml_runtime.step_contract  # the variables the compiler sets\n"
        "before = set(sys.modules)\n"
        "import kedro_azureml_runtime.hooks.mlflow_hook\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )

    assert json.loads(result.stdout.splitlines()[-1]) == [
        "kedro_azureml_runtime.hooks",
        "kedro_azureml_runtime.hooks.mlflow_hook",
    ]


def test_a_step_of_a_project_without_mlflow_never_tries_to_import_it(project, mounts, no_mlflow):
    env, marker = no_mlflow

    result = project.kedro(
        "azureml",
        "execute",
        "--node",
        "train",
        "--az-output",
        "model",
        str(mounts / "model"),
        env={**env, **AZURE_ML_VARIABLES, "KEDRO_AZUREML_MLFLOW_EXPERIMENT": ""},
    )

    assert result.returncode == 0, result.stderr
    assert (mounts / "model" / "data.pickle").is_file()
    assert not marker.exists()


def test_a_step_asking_for_mlflow_runs_without_it_and_says_so(project, mounts, no_mlflow):
    env, marker = no_mlflow

    result = project.kedro(
        "azureml",
        "execute",
        "--node",
        "train",
        "--az-output",
        "model",
        str(mounts / "model"),
        env={
            **env,
            **AZURE_ML_VARIABLES,
            "KEDRO_AZUREML_MLFLOW_EXPERIMENT": "train",
            "KEDRO_AZUREML_JOB_NAME": "train",
        },
    )

    assert result.returncode == 0, result.stderr
    assert marker.exists()
    assert (mounts / "model" / "data.pickle").is_file()
    output = " ".join((result.stdout + result.stderr).split())
    assert "mlflow is not installed: this step logs nothing to MLflow" in output
