"""The opened project and the jobs a command works on, and paths as the user reads them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedro_azureml_deploy.compiler import CompileOptions
    from kedro_azureml_deploy.project import KedroProject


def open_jobs(
    metadata: Any, jobs: tuple[str, ...], options: CompileOptions
) -> tuple[KedroProject, list[str]]:
    """The opened project and the names of the jobs asked for (the only job when none is).

    The catalog is made now, so a catalog error is reported before any work.

    Raises:
        ConfigError: ``azureml.yml`` is missing or invalid, or a job does not exist.
    """
    from kedro_azureml_deploy.project import open_project

    project = open_project(metadata.project_path, env=options.env, params=options.params)
    names = [project.config.job(name)[0] for name in (jobs or (None,))]
    project.catalog  # noqa: B018
    return project, names


def display_path(path: Path) -> str:
    """``path`` relative to the current folder when it is under it, else as it is."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
