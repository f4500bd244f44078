"""Kedro projects for the submit tests: a spaceflights-like pipeline and an ``azureml.yml`` whose
workspaces live in a custom cloud (the fake's endpoint)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from project_factory import KedroProject, NodeSpec, pipeline_dataset

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
RESOURCE_GROUP = "rg-demo"
WORKSPACE = "ws-demo"

#: settings.py of the test projects: kedro-mlflow (installed for the MLflow tests) registers its
#: hooks in every project, and they need an mlflow.yml these projects do not have.
SETTINGS = 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro_mlflow", "kedro-mlflow")\n'


@dataclass
class AzureProject:
    """A Kedro project on disk whose ``azureml.yml`` points at the fake, opened for deployment.

    Attributes:
        files: the project written by the factory (``files.kedro(...)`` runs the CLI).
        project: the project opened by ``open_project`` (what the deploy functions take).
    """

    files: KedroProject
    project: Any

    @property
    def path(self) -> Path:
        return self.files.path


def spaceflights_nodes() -> tuple[list[NodeSpec], dict[str, object]]:
    nodes = [
        NodeSpec("preprocess", "identity", ["params:seed"], ["preprocessed"]),
        NodeSpec("features", "add_one", ["preprocessed"], ["model_input"], tags=["features"]),
        NodeSpec("train", "add_one", ["model_input"], ["model"], tags=["gpu"]),
        NodeSpec("evaluate", "join", ["model", "model_input"], ["metrics"]),
    ]
    catalog = {
        "model_input": pipeline_dataset("model_input.pkl"),
        "metrics": pipeline_dataset("metrics.pkl"),
    }
    return nodes, catalog


def azureml_config(
    endpoint: str, jobs: dict[str, Any], *, workspace_name: str = WORKSPACE, **sections: Any
) -> dict[str, Any]:
    """An ``azureml.yml`` whose workspaces live in the custom cloud at ``endpoint``."""
    cloud = {"resource_manager_endpoint": endpoint}
    return {
        "workspace": {
            "__default__": {
                "subscription_id": SUBSCRIPTION,
                "resource_group": RESOURCE_GROUP,
                "name": workspace_name,
                "cloud": cloud,
            },
            "missing": {
                "subscription_id": SUBSCRIPTION,
                "resource_group": RESOURCE_GROUP,
                "name": "ws-nowhere",
                "cloud": cloud,
            },
        },
        "compute": {
            "__default__": {"cluster_name": "cpu-cluster"},
            "gpu": {"cluster_name": "gpu-cluster", "tags": ["gpu"]},
        },
        "environment": {
            "__default__": {"name": "kedro-env@latest"},
            "slim": {"image": "python:3.11-slim", "tags": ["features"]},
        },
        **sections,
        "jobs": jobs,
    }
