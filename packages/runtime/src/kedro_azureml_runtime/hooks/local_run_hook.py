"""Prepares ``AzureMLAssetDataset``s for local runs, and does nothing in projects that do not use them.

``kedro run`` keeps working in any project and any environment without ``azureml.yml``: the file is
read only when an asset has to be downloaded.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from kedro_azureml_runtime.datasets.asset_dataset import AzureMLAssetDataset
from kedro_azureml_runtime.datasets.asset_download import AzureMLAssetDownloader, WorkspaceRef
from kedro_azureml_runtime.datasets.pipeline_dataset import remember_project_path
from kedro_azureml_runtime.errors import AzureMLRuntimeError

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)

#: Where Kedro's config loader finds ``azureml.yml`` (also used by the deploy package).
AZUREML_CONFIG_KEY = "azureml"
AZUREML_CONFIG_PATTERNS = ["azureml*", "azureml*/**", "**/azureml*"]


class LazyWorkspaceDownloader:
    """An asset downloader for the ``__default__`` workspace of ``azureml.yml``, read on first use."""

    def __init__(self, context: KedroContext) -> None:
        self._context = context
        self._downloader: AzureMLAssetDownloader | None = None

    def _get(self) -> AzureMLAssetDownloader:
        if self._downloader is None:
            self._downloader = AzureMLAssetDownloader(default_workspace(self._context))
        return self._downloader

    def latest_version(self, name: str) -> str:
        return self._get().latest_version(name)

    def download(self, name: str, version: str, target: Any) -> None:
        self._get().download(name, version, target)


def default_workspace(context: KedroContext) -> WorkspaceRef:
    """The ``workspace.__default__`` entry of the project's ``azureml.yml``."""
    loader = context.config_loader
    patterns = getattr(loader, "config_patterns", None)
    if patterns is not None and AZUREML_CONFIG_KEY not in patterns:
        patterns[AZUREML_CONFIG_KEY] = AZUREML_CONFIG_PATTERNS
    from kedro.config import MissingConfigException

    try:
        config = loader[AZUREML_CONFIG_KEY] or {}
    except (KeyError, MissingConfigException):
        config = {}
    workspace = (config.get("workspace") or {}).get("__default__") or {}
    missing = [
        key for key in ("subscription_id", "resource_group", "name") if not workspace.get(key)
    ]
    if missing:
        raise AzureMLRuntimeError(
            f"Downloading Azure ML data assets needs workspace.__default__ with {', '.join(missing)} "
            f"in conf/{context.env}/azureml.yml (or conf/base/azureml.yml)."
        )
    return WorkspaceRef(
        str(workspace["subscription_id"]), str(workspace["resource_group"]), str(workspace["name"])
    )


class AzureMLLocalRunHook:
    """Anchors plugin datasets at the project root, and gives each ``AzureMLAssetDataset`` of a
    local run its role.

    An asset a node of the run produces is written under version ``local``; an asset the run only
    reads is downloaded into the local cache on first use. ``AzurePipelinesRunner`` mounts assets
    inside steps afterwards, which overrides both.
    """

    def __init__(self) -> None:
        self._context: KedroContext | None = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        self._context = context
        remember_project_path(context.project_path)

    @hook_impl
    def before_pipeline_run(
        self, run_params: dict[str, Any], pipeline: Pipeline, catalog: CatalogProtocol
    ) -> None:
        produced = pipeline.all_outputs()
        downloader = LazyWorkspaceDownloader(self._context) if self._context else None
        for name in sorted(pipeline.datasets()):
            if name not in catalog:
                continue
            dataset = catalog.get(name)
            if not isinstance(dataset, AzureMLAssetDataset):
                continue
            if name in produced:
                dataset.use_local_version()
            elif downloader is not None:
                dataset.use_downloader(downloader)


local_run_hook = AzureMLLocalRunHook()

__all__ = ["AzureMLLocalRunHook", "AzureMLRuntimeError", "local_run_hook"]
