"""Pytest fixtures shared by every suite (loaded with ``-p project_fixtures`` from pyproject.toml)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from project_factory import KedroProject

#: Where replays keep the step environments they build (``replay.step_environment``).
STEP_ENVS_VARIABLE = "KEDRO_AZUREML_STEP_ENVS"


@pytest.fixture(scope="session", autouse=True)
def shared_step_environments(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One cache of step environments for the whole session, shared by the xdist workers (their
    base folders share a parent), so the suite builds each environment once and never writes to
    the user's cache; the replay locks it while building."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder = base / "step-envs"
    folder.mkdir(exist_ok=True)
    previous = os.environ.get(STEP_ENVS_VARIABLE)
    os.environ[STEP_ENVS_VARIABLE] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop(STEP_ENVS_VARIABLE, None)
    else:
        os.environ[STEP_ENVS_VARIABLE] = previous


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., KedroProject]:
    """Write a real Kedro project under ``tmp_path`` (see ``project_factory.KedroProject``)."""
    counter = iter(range(1000))

    def make(**kwargs: object) -> KedroProject:
        return KedroProject(tmp_path / f"project_{next(counter)}", **kwargs).write()  # type: ignore[arg-type]

    return make


@pytest.fixture
def mounts(tmp_path: Path) -> Path:
    """A folder standing in for Azure ML's mount root."""
    path = tmp_path / "mnt"
    path.mkdir()
    return path
