"""Fixtures of the azureml.yml tests: example files, and real Kedro config folders and loaders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kedro_azureml_deploy.config import AzureMLConfig, load_config

HERE = Path(__file__).parent
FULL_EXAMPLE = HERE / "valid" / "full.yml"
MINIMAL_YAML = """\
workspace:
  __default__:
    subscription_id: 00000000-0000-0000-0000-000000000000
    resource_group: ml-rg
    name: ml-workspace
compute:
  __default__:
    cluster_name: cpu-cluster
environment:
  __default__:
    name: kedro-env@latest
jobs:
  train: {}
"""


def _read_yaml(text: str) -> Any:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.create(text), resolve=False)


@pytest.fixture
def read_yaml() -> Callable[[str], Any]:
    """Load YAML text as Kedro's config loader does (OmegaConf: timestamps stay strings)."""
    return _read_yaml


@pytest.fixture
def full_example() -> dict[str, Any]:
    """``valid/full.yml``: every feature of azureml.yml at once."""
    return _read_yaml(FULL_EXAMPLE.read_text())


@pytest.fixture
def minimal_yaml() -> str:
    """The text of the smallest valid azureml.yml, with one job, ``train``."""
    return MINIMAL_YAML


@pytest.fixture
def train_job_yaml() -> Callable[..., str]:
    """The text of the minimal azureml.yml whose ``train`` job has the given keys, e.g.
    ``train_job_yaml("retries: 2", "timeout: 1h")``; ``before`` goes above ``workspace``."""

    def with_keys(*lines: str, before: str = "") -> str:
        keys = "".join(f"    {line}\n" for line in lines)
        return before + MINIMAL_YAML.replace("  train: {}\n", f"  train:\n{keys}")

    return with_keys


@pytest.fixture
def minimal() -> dict[str, Any]:
    """The smallest valid azureml.yml, with one job, ``train``, loaded."""
    return _read_yaml(MINIMAL_YAML)


@pytest.fixture
def conf(tmp_path: Path) -> Path:
    """An empty Kedro ``conf`` folder with ``base`` and ``local``, inside a project folder."""
    conf = tmp_path / "project" / "conf"
    (conf / "base").mkdir(parents=True)
    (conf / "local").mkdir()
    return conf


@pytest.fixture
def load(conf: Path) -> Callable[..., AzureMLConfig]:
    """Load ``conf``'s azureml.yml with a real ``OmegaConfigLoader``, as a project does."""
    from kedro.config import OmegaConfigLoader

    def load_with(env: str | None = None, **loader_args: Any) -> AzureMLConfig:
        loader = OmegaConfigLoader(
            conf_source=str(conf), base_env="base", default_run_env="local", env=env, **loader_args
        )
        return load_config(loader, conf_source=conf, env=env)

    return load_with
