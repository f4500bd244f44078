"""Configs written for the predecessors, kedro-azureml (getindata) and kedro-azureml-pipeline: the
answers they give, and the files that still import their packages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kedro_azureml_deploy.adoption.answers import AzureAnswers, read_text
from kedro_azureml_deploy.config.loader import predecessor_format


@dataclass(frozen=True)
class PredecessorConfig:
    """An ``azureml.yml`` written for kedro-azureml (getindata) or kedro-azureml-pipeline.

    Attributes:
        path: the file, relative to the project.
        plugin: which plugin's format it is in.
        azure: the answers it gives (workspace, default cluster, image).
    """

    path: str
    plugin: str
    azure: AzureAnswers


def find_predecessor_config(project_path: Path) -> PredecessorConfig | None:
    """The predecessor's ``azureml.yml`` in ``conf/base`` or ``conf/local``, if any."""
    for relpath in ("conf/base/azureml.yml", "conf/local/azureml.yml"):
        try:
            config = yaml.safe_load(read_text(project_path / relpath)) or {}
        except yaml.YAMLError:
            continue
        if not isinstance(config, dict):
            continue
        plugin = predecessor_format(config)
        if plugin == "kedro-azureml":
            azure = config["azure"]
            docker = config.get("docker") if isinstance(config.get("docker"), dict) else {}
            image = docker.get("image") if not azure.get("code_directory") else None
            return PredecessorConfig(
                relpath,
                plugin,
                _azure_answers(
                    workspace=azure,
                    workspace_name_key="workspace_name",
                    compute=azure.get("compute"),
                    image=image,
                ),
            )
        if plugin == "kedro-azureml-pipeline":
            execution = config["execution"]
            workspaces = (
                config.get("workspace") if isinstance(config.get("workspace"), dict) else {}
            )
            environment = execution.get("environment")
            image = environment if _looks_like_image(environment) else None
            return PredecessorConfig(
                relpath,
                plugin,
                _azure_answers(
                    workspace=workspaces.get("__default__"),
                    workspace_name_key="name",
                    compute=config.get("compute"),
                    image=image if not execution.get("code_directory") else None,
                ),
            )
    return None


#: A reference to a predecessor's package (``kedro_azureml.datasets``,
#: ``kedro_azureml_pipeline.hooks``), not to ours (``kedro_azureml_runtime``).
_PREDECESSOR_REFERENCE = re.compile(r"\bkedro_azureml(?:_pipeline)?(?!\w)")


def predecessor_references(project_path: Path) -> list[str]:
    """The project's source and configuration files that still refer to kedro-azureml's or
    kedro-azureml-pipeline's package, relative to the project."""
    candidates = [
        *(project_path / "src").rglob("*.py"),
        *(project_path / "conf").rglob("*.yml"),
        *(project_path / "conf").rglob("*.yaml"),
    ]
    return sorted(
        path.relative_to(project_path).as_posix()
        for path in candidates
        if path.is_file() and _PREDECESSOR_REFERENCE.search(read_text(path))
    )


def _azure_answers(
    *, workspace: Any, workspace_name_key: str, compute: Any, image: Any
) -> AzureAnswers:
    workspace = workspace if isinstance(workspace, dict) else {}
    default_compute = compute.get("__default__") if isinstance(compute, dict) else None
    cluster = default_compute.get("cluster_name") if isinstance(default_compute, dict) else None
    registry = image_name = None
    if isinstance(image, str) and "/" in image:
        registry, _, repository = image.partition("/")
        image_name = repository.split("@")[0].rsplit(":", 1)[0]

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) and value.strip() else None

    return AzureAnswers(
        execution_mode="docker_image" if registry else None,
        subscription_id=text(workspace.get("subscription_id")),
        resource_group=text(workspace.get("resource_group")),
        workspace=text(workspace.get(workspace_name_key)),
        compute_cluster=text(cluster),
        container_registry=text(registry),
        image_name=text(image_name),
    )


def _looks_like_image(reference: Any) -> bool:
    """A container image (``registry/name:tag``) rather than an environment (``name@latest``)."""
    return isinstance(reference, str) and "/" in reference and "@latest" not in reference
