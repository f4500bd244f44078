"""The workspace's shape: one version, the deploy package pinned to its own runtime, a slim runtime."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _pyproject(path: Path) -> dict:
    return tomllib.loads(path.read_text())


def _requirements(pyproject: dict) -> dict[str, Requirement]:
    return {(req := Requirement(text)).name: req for text in pyproject["project"]["dependencies"]}


def test_root_is_a_virtual_workspace_of_the_packages():
    root = _pyproject(ROOT / "pyproject.toml")
    assert "project" not in root
    assert root["tool"]["uv"]["workspace"]["members"] == ["packages/*"]
    assert (ROOT / "uv.lock").is_file()
    for folder in ("templates", "tests", "docs", "benchmarks"):
        assert (ROOT / folder).is_dir()


def test_both_packages_share_one_version_and_deploy_pins_that_runtime():
    runtime = _pyproject(ROOT / "packages/runtime/pyproject.toml")["project"]
    deploy = _pyproject(ROOT / "packages/deploy/pyproject.toml")["project"]

    assert runtime["name"] == "kedro-azureml-runtime"
    assert deploy["name"] == "kedro-azureml-deploy"
    assert runtime["version"] == deploy["version"]
    pin = _requirements({"project": deploy})["kedro-azureml-runtime"]
    assert str(pin.specifier) == f"=={runtime['version']}"


def test_runtime_depends_on_kedro_and_nothing_heavy():
    runtime = _pyproject(ROOT / "packages/runtime/pyproject.toml")
    requirements = _requirements(runtime)
    assert set(requirements) == {"kedro"}
    assert requirements["kedro"].specifier.contains("1.7.0")
    assert not requirements["kedro"].specifier.contains("2.0.0")
    assert runtime["project"]["requires-python"] == ">=3.11"


def test_deploy_depends_on_the_azure_sdk_and_pydantic_2():
    deploy = _requirements(_pyproject(ROOT / "packages/deploy/pyproject.toml"))
    assert {"kedro-azureml-runtime", "azure-ai-ml", "azure-identity", "pydantic"} <= set(deploy)
    assert deploy["pydantic"].specifier.contains("2.7.0")
    assert not deploy["pydantic"].specifier.contains("1.10.0")
