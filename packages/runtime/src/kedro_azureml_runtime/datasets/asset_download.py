"""Downloading Azure ML data assets for local runs, on developer machines only.

``azure-ai-ml`` and ``azure-identity`` are imported when a download actually happens, never when a
step runs: step images do not have them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from kedro_azureml_runtime.errors import AzureMLRuntimeError


@dataclass(frozen=True)
class WorkspaceRef:
    """The Azure ML workspace that holds the data assets."""

    subscription_id: str
    resource_group: str
    name: str


class AzureMLAssetDownloader:
    """Resolves and downloads data assets of one workspace with ``azure-ai-ml``."""

    def __init__(self, workspace: WorkspaceRef) -> None:
        self.workspace = workspace

    @cached_property
    def _client(self) -> Any:
        try:
            from azure.ai.ml import MLClient
            from azure.identity import DefaultAzureCredential
        except ImportError as exc:
            raise AzureMLRuntimeError(
                "Reading an Azure ML data asset in a local run downloads it with azure-ai-ml, "
                "which is not installed here: add kedro-azureml-deploy to your dev dependencies "
                "(`uv add --dev kedro-azureml-deploy`)."
            ) from exc
        return MLClient(
            DefaultAzureCredential(exclude_interactive_browser_credential=True),
            subscription_id=self.workspace.subscription_id,
            resource_group_name=self.workspace.resource_group,
            workspace_name=self.workspace.name,
        )

    def latest_version(self, name: str) -> str:
        return str(self._client.data.get(name, label="latest").version)

    def download(self, name: str, version: str, target: Path) -> None:
        from azure.ai.ml._artifacts._artifact_utilities import download_artifact_from_aml_uri

        asset = self._client.data.get(name, version=version)
        target.mkdir(parents=True, exist_ok=True)
        download_artifact_from_aml_uri(
            uri=asset.path, destination=str(target), datastore_operation=self._client.datastores
        )
