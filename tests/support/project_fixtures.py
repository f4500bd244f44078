"""Pytest fixtures shared by every suite (loaded with ``-p project_fixtures`` from pyproject.toml)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from project_factory import KedroProject


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
