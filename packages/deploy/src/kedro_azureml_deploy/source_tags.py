"""The tags that tie a submitted or scheduled job to its source: git commit, branch, dirty flag,
Kedro environment, the project's version and kedro-azureml's.

They are read from the project (git, ``pyproject.toml``) by the commands that send a job, not by
the compiler, so ``compile`` stays a pure function of its inputs. No tag holds a local path.
Git is asked with its own command line (``git rev-parse``, ``git status --porcelain``): dulwich
or GitPython would add a dependency for three read-only questions that git answers directly.
"""

from __future__ import annotations

import contextlib
import subprocess
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

GIT_COMMIT_TAG = "git_commit"
GIT_BRANCH_TAG = "git_branch"
GIT_DIRTY_TAG = "git_dirty"
KEDRO_ENV_TAG = "kedro_env"
PROJECT_VERSION_TAG = "project_version"
TOOL_VERSION_TAG = "kedro_azureml_version"


def source_tags(project_path: Path, env: str) -> dict[str, str]:
    """The source tags of a job of the project at ``project_path`` run with Kedro ``env``.

    Git tags are left out when the project is not in a git work tree (or git is not installed);
    ``git_branch`` is ``HEAD`` on a detached head; ``git_dirty`` is ``true`` when a tracked or
    untracked file differs from the commit (ignored files do not count).
    """
    tags: dict[str, str] = {KEDRO_ENV_TAG: env}
    commit = _git(project_path, "rev-parse", "HEAD")
    if commit:
        tags[GIT_COMMIT_TAG] = commit
        tags[GIT_BRANCH_TAG] = _git(project_path, "rev-parse", "--abbrev-ref", "HEAD") or "HEAD"
        status = _git(project_path, "status", "--porcelain")
        tags[GIT_DIRTY_TAG] = "true" if status else "false"
    project_version = _project_version(project_path)
    if project_version:
        tags[PROJECT_VERSION_TAG] = project_version
    with contextlib.suppress(PackageNotFoundError):  # installed, since it runs
        tags[TOOL_VERSION_TAG] = version("kedro-azureml-deploy")
    return dict(sorted(tags.items()))


def _git(project_path: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=project_path,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _project_version(project_path: Path) -> str | None:
    """``[project] version`` of the project's ``pyproject.toml``."""
    try:
        with (project_path / "pyproject.toml").open("rb") as stream:
            value = tomllib.load(stream).get("project", {}).get("version")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return str(value) if value else None
