"""The published artefacts: wheels build without workspace sources, and the runtime wheel alone
runs a step's command in a fresh venv (what a step image holds)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from project_factory import KedroProject, NodeSpec, run_kedro

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _uv(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    uv = shutil.which("uv")
    assert uv, "uv is needed to build the packages"
    env = {
        k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    }
    result = subprocess.run(
        [uv, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 0, f"uv {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _uv("build", "--all-packages", "--no-sources", "--out-dir", str(dist), cwd=ROOT)
    return dist


def test_build_produces_a_wheel_and_sdist_per_package(wheels):
    names = sorted(path.name for path in wheels.iterdir() if path.suffix in (".whl", ".gz"))
    assert [n.split("-")[0] for n in names] == [
        "kedro_azureml_deploy",
        "kedro_azureml_deploy",
        "kedro_azureml_runtime",
        "kedro_azureml_runtime",
    ]


def test_deploy_wheel_ships_the_kedro_starter_and_registers_it(wheels):
    starter = ROOT / "packages/deploy/src/kedro_azureml_deploy/adoption/starter"
    in_tree = {
        path.relative_to(starter.parents[2]).as_posix()
        for path in starter.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    (deploy_wheel,) = wheels.glob("kedro_azureml_deploy-*.whl")
    with zipfile.ZipFile(deploy_wheel) as wheel:
        names = set(wheel.namelist())
        (entry_points,) = (name for name in names if name.endswith(".dist-info/entry_points.txt"))
        registered = wheel.read(entry_points).decode()

    # cookiecutter.json, prompts.yml, the hook and the folder cookiecutter renders
    assert len(in_tree) == 4 and in_tree <= names
    assert "[kedro.starters]\nazureml = kedro_azureml_deploy.adoption.starters:STARTERS" in (
        registered
    )


def test_runtime_wheel_alone_runs_execute_in_a_fresh_venv(wheels, tmp_path):
    venv = tmp_path / "step-venv"
    _uv("venv", "--quiet", str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    (runtime_wheel,) = wheels.glob("kedro_azureml_runtime-*.whl")
    _uv("pip", "install", "--quiet", "--python", str(python), str(runtime_wheel), cwd=tmp_path)

    freeze = _uv("pip", "freeze", "--python", str(python), cwd=tmp_path).stdout
    installed = {line.split("==")[0].split(" @ ")[0].lower() for line in freeze.splitlines()}
    assert "kedro-azureml-runtime" in installed
    assert not {name for name in installed if name.startswith("azure")}
    assert "kedro-azureml-deploy" not in installed

    project = KedroProject(
        tmp_path / "p", nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])]
    ).write()
    help_result = project.kedro("azureml", "execute", "--help", python=python)
    assert help_result.returncode == 0, help_result.stderr
    assert "--az-output" in help_result.stdout

    step = project.kedro(
        "azureml",
        "execute",
        "-n",
        "first",
        "--az-output",
        "out",
        str(tmp_path / "o"),
        python=python,
    )
    assert step.returncode == 0, step.stderr
    assert (tmp_path / "o" / "data.pickle").is_file()

    hint = run_kedro(project.path, "azureml", "info", python=python)
    assert hint.returncode != 0 and "kedro-azureml-deploy" in hint.stderr
