"""Helpers of the template tests: the template as copier sees it, rendered projects, commands.

Copier renders a template from a git commit. Rendering straight from this checkout would work
(copier 9 commits a dirty working tree into its temporary clone, see
``test_copy_from_checkout.py``), but it would also take in whatever else is changing in the
checkout. So the tests render from a snapshot: the root ``copier.yml`` and ``templates/`` as they
are on disk, committed into a scratch git repository and tagged with the packages' version, as a
release would be.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
#: What a release of the template is: the copier template, and the `azureml` Kedro starter that
#: `kedro new --starter <repository> --directory STARTER_DIRECTORY` finds in it.
STARTER_DIRECTORY = "packages/deploy/src/kedro_azureml_deploy/adoption/starter"
TEMPLATE_FILES = ("copier.yml", "templates", STARTER_DIRECTORY)
RELEASE = tomllib.loads((REPO_ROOT / "packages" / "runtime" / "pyproject.toml").read_text())[
    "project"
]["version"]

#: Answers over which the template is rendered: every question's choices appear at least once.
SCENARIOS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "docker_image": {
        "execution_mode": "docker_image",
        "container_registry": "contoso.azurecr.io",
        "image_name": "forecasting/sales",
        "ci_provider": "azure_devops",
    },
    "no_example": {"example_pipeline": False, "ci_provider": "none"},
    "mlflow": {"use_mlflow": True, "use_key_vault": True, "python_version": "3.12"},
    "named": {
        "project_name": "Sales Forecast 2",
        "python_version": "3.13",
        "azure_subscription_id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "azure_resource_group": "rg-forecast",
        "azure_workspace": "mlw-forecast",
        "azure_compute_cluster": "cpu-d4",
        "ci_provider": "azure_devops",
    },
}

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "template-tests@example.com",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "template-tests@example.com",
}


def git(cwd: Path, *args: str) -> str:
    """Run ``git ARGS`` in ``cwd`` with a fixed identity and no signing; its output."""
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}:\n{result.stderr}")
    return result.stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)


def snapshot_template(target: Path, tag: str | None = f"v{RELEASE}") -> Path:
    """A git repository at ``target`` holding the template files (and the Kedro starter) of this
    checkout, committed and tagged ``tag``."""
    target.mkdir(parents=True)
    for name in TEMPLATE_FILES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    git(target, "init", "--quiet", "--initial-branch=main")
    commit_all(target, "template snapshot")
    if tag:
        git(target, "tag", tag)
    return target


def run_copier(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the copier command line, as a user would."""
    result = subprocess.run(
        [sys.executable, "-m", "copier", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"copier {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def project_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for commands in a rendered project: its own ``.venv``, this interpreter's
    Python (never a download), no Kedro telemetry."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "KEDRO_ENV")
    }
    env.update(
        UV_PYTHON=getattr(sys, "_base_executable", sys.executable),
        UV_PYTHON_DOWNLOADS="never",
        KEDRO_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="1",
        NO_COLOR="1",
        COLUMNS="200",
    )
    env.update(extra or {})
    return env


def current_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


@dataclass(frozen=True)
class RenderedProject:
    """A project rendered by copier: its folder and the answers it was rendered with."""

    path: Path
    answers: Mapping[str, Any]

    @property
    def package(self) -> str:
        return str(self.answers["package_name"])

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text()

    def files(self) -> set[str]:
        return {
            path.relative_to(self.path).as_posix()
            for path in self.path.rglob("*")
            if path.is_file() and ".git" not in path.relative_to(self.path).parts
        }
