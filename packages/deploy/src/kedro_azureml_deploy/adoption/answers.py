"""What ``kedro azureml init`` answers the template's questions with: facts read from the project,
and the Azure settings the user gives."""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from kedro_azureml_deploy.errors import AdoptionError

ANSWERS_FILE = ".copier-answers.yml"
#: The Python versions the template offers (its ``python_version`` choices).
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")


@dataclass(frozen=True)
class AzureAnswers:
    """The template's questions about Azure, as ``init`` options give them (``None``: the
    template's placeholder, to fill in ``conf/base/azureml.yml`` later)."""

    execution_mode: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace: str | None = None
    compute_cluster: str | None = None
    container_registry: str | None = None
    image_name: str | None = None

    def or_else(self, other: AzureAnswers) -> AzureAnswers:
        """These answers, with ``other``'s where these have none."""
        return AzureAnswers(
            **{
                name: getattr(self, name) or getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )

    def as_data(self) -> dict[str, str]:
        """The template's answers (questions left out keep the template's placeholders)."""
        mode = self.execution_mode or ("docker_image" if self.container_registry else "code_upload")
        data = {"execution_mode": mode}
        data.update(
            {
                question: getattr(self, attr)
                for attr, question in QUESTIONS.items()
                if getattr(self, attr)
            }
        )
        return data

    def without(self, question: str) -> AzureAnswers:
        """These answers without the one to ``question``."""
        attr = next(attr for attr, name in QUESTIONS.items() if name == question)
        return replace(self, **{attr: None})


#: The template's question answered by each ``AzureAnswers`` field.
QUESTIONS = {
    "subscription_id": "azure_subscription_id",
    "resource_group": "azure_resource_group",
    "workspace": "azure_workspace",
    "compute_cluster": "azure_compute_cluster",
    "container_registry": "container_registry",
    "image_name": "image_name",
}


@dataclass(frozen=True)
class ProjectFacts:
    """What ``init`` reads from the project to answer the template's questions."""

    path: Path
    project_name: str
    package_name: str
    kedro_init_version: str
    python_version: str
    dependencies_from: str

    def answers(self, azure: AzureAnswers) -> dict[str, Any]:
        return {
            "adopt": True,
            "project_name": self.project_name,
            "package_name": self.package_name,
            "kedro_init_version": self.kedro_init_version,
            "python_version": self.python_version,
            "dependencies_from": self.dependencies_from,
            "example_pipeline": False,
            "use_mlflow": (self.path / "conf" / "base" / "mlflow.yml").is_file(),
            "ci_provider": "none",
            **azure.as_data(),
        }


def read_project(project_path: Path, *, force: bool = False) -> ProjectFacts:
    """The facts ``init`` needs about the Kedro project at ``project_path`` (Kedro 1.x itself
    refuses to start a project made with an older Kedro).

    Raises:
        AdoptionError: a copier template already manages the project (an adopted project is
            adopted again with ``force``).
    """
    from kedro.framework.startup import _get_project_metadata

    metadata = _get_project_metadata(project_path)
    _refuse_managed_project(project_path, force=force)
    return ProjectFacts(
        path=project_path,
        project_name=metadata.project_name,
        package_name=metadata.package_name,
        kedro_init_version=str(metadata.kedro_init_version),
        python_version=_python_version(project_path),
        dependencies_from=_dependencies_from(project_path),
    )


def _refuse_managed_project(project_path: Path, *, force: bool) -> None:
    answers_path = project_path / ANSWERS_FILE
    if not answers_path.is_file():
        return
    try:
        answers = yaml.safe_load(read_text(answers_path)) or {}
    except yaml.YAMLError:
        answers = {}
    if not isinstance(answers, dict):
        answers = {}
    if force and answers.get("adopt"):
        return
    source = answers.get("_src_path", "a copier template")
    release = answers.get("_commit", "?")
    what = "already adopted" if answers.get("adopt") else "already made"
    raise AdoptionError(
        f"the project was {what} from {source} ({release}, see {ANSWERS_FILE}): bring the "
        "template's improvements in with `copier update --trust`"
        + (" (or adopt it again, from scratch, with --force)." if answers.get("adopt") else ".")
    )


def _python_version(project_path: Path) -> str:
    """The project's ``.python-version`` when it names a version the template offers, else the
    running interpreter's (the closest offered version)."""
    pinned = read_text(project_path / ".python-version").strip().splitlines()
    if pinned:
        major_minor = ".".join(pinned[0].strip().split(".")[:2])
        if major_minor in PYTHON_VERSIONS:
            return major_minor
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running in PYTHON_VERSIONS:
        return running
    return PYTHON_VERSIONS[-1] if sys.version_info >= (3, 13) else PYTHON_VERSIONS[0]


def _dependencies_from(project_path: Path) -> str:
    """``uv.lock`` when the project has a lock file, else ``requirements.txt`` when it has one
    (Kedro's own template), else ``uv.lock`` (``uv lock`` makes it from pyproject.toml)."""
    if (project_path / "uv.lock").is_file():
        return "uv.lock"
    if (project_path / "requirements.txt").is_file():
        return "requirements.txt"
    return "uv.lock"


def read_text(path: Path) -> str:
    """``path``'s text, or ``""`` when it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
