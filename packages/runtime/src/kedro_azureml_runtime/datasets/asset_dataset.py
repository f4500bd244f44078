"""``AzureMLAssetDataset``: a Kedro dataset backed by an Azure ML data asset."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol

from kedro.io import AbstractDataset, DatasetError

from kedro_azureml_runtime.datasets.pipeline_dataset import AzureMLPipelineDataset

logger = logging.getLogger(__name__)

AssetType = Literal["uri_folder", "uri_file"]

#: The version an asset gets when a node of the same local run produces it.
LOCAL_VERSION = "local"


class AssetDownloader(Protocol):
    """What the local-run hook hands to asset datasets so they can fill their local cache."""

    def latest_version(self, name: str) -> str:
        """The newest version of data asset ``name``."""

    def download(self, name: str, version: str, target: Path) -> None:
        """Download version ``version`` of data asset ``name`` into the folder ``target``."""


class AzureMLAssetDataset(AzureMLPipelineDataset):
    """An Azure ML data asset (``uri_folder`` or ``uri_file``) read or written by a Kedro dataset.

    In a step, Azure ML mounts the asset and ``AzurePipelinesRunner`` points this dataset at the
    mount. In a local ``kedro run``, an asset that the pipeline reads is downloaded once into
    ``{root_dir}/{azureml_dataset}/{version}/`` and read from that cache afterwards; an asset a node
    of the same run produces is written under version ``local`` and never touches Azure.

    Example ``conf/base/catalog.yml`` entry::

        raw_customers:
          type: kedro_azureml_runtime.datasets.AzureMLAssetDataset
          azureml_dataset: raw-customers
          azureml_version: "3"
          dataset:
            type: pandas.CSVDataset
            filepath: customers.csv
    """

    def __init__(
        self,
        azureml_dataset: str,
        dataset: str | type[AbstractDataset] | dict[str, Any],
        root_dir: str = "data",
        filepath_arg: str = "filepath",
        azureml_type: AssetType = "uri_folder",
        azureml_version: str | int | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            azureml_dataset: the data asset's name in the workspace.
            dataset: the wrapped dataset (see ``AzureMLPipelineDataset``); its path is the file or
                folder inside the asset.
            root_dir: the local cache folder (``data`` by default).
            filepath_arg: the wrapped dataset's path argument.
            azureml_type: ``uri_folder`` (default) or ``uri_file``.
            azureml_version: the asset version to read; the latest one when omitted.
            metadata: free-form metadata, ignored by Kedro.
        """
        super().__init__(dataset, root_dir=root_dir, filepath_arg=filepath_arg, metadata=metadata)
        if azureml_type not in ("uri_folder", "uri_file"):
            raise DatasetError(
                f"azureml_type of asset {azureml_dataset!r} must be uri_folder or uri_file, "
                f"got {azureml_type!r}."
            )
        self.azureml_dataset = azureml_dataset
        self.azureml_type: AssetType = azureml_type
        self.azureml_version = None if azureml_version is None else str(azureml_version)
        self._mounted = False
        self._local_version: str | None = None
        self._downloader: AssetDownloader | None = None

    def mount(self, path: str) -> None:
        self._mounted = True
        super().mount(path)

    def use_local_version(self) -> None:
        """A node of this local run produces the asset: keep it under version ``local``."""
        self._local_version = LOCAL_VERSION
        self._dataset = None

    def use_downloader(self, downloader: AssetDownloader) -> None:
        """Fill the local cache with ``downloader`` when the asset is first read."""
        self._downloader = downloader
        self._dataset = None

    @property
    def path(self) -> str:
        if self._mounted:
            # Azure ML mounts a uri_file input as the file itself, a uri_folder as a folder.
            if self.azureml_type == "uri_file":
                return self.root_dir
            return str(PurePosixPath(self.root_dir) / self.filepath)
        cache = self.local_root / self.azureml_dataset / self._version_for_local_run()
        if self.azureml_type == "uri_file":
            return str(cache / PurePosixPath(self.filepath).name)
        return str(cache / self.filepath)

    def _version_for_local_run(self) -> str:
        if self._local_version is None:
            self._local_version = self._fill_cache()
        return self._local_version

    def _fill_cache(self) -> str:
        root = Path(self.local_root) / self.azureml_dataset
        if self.azureml_version and (root / self.azureml_version).is_dir():
            return self.azureml_version
        if self._downloader is None:
            if self.azureml_version is None and (root / LOCAL_VERSION).is_dir():
                return LOCAL_VERSION
            raise DatasetError(
                f"Azure ML data asset {self.azureml_dataset!r} "
                f"(version {self.azureml_version or 'latest'}) is not in the local cache {root}. "
                "It is downloaded by kedro-azureml's local-run hook during `kedro run`, which "
                "reads the workspace from conf/<env>/azureml.yml: run the pipeline with "
                "`kedro run`, or place the files under that folder yourself."
            )
        version = self.azureml_version or self._downloader.latest_version(self.azureml_dataset)
        target = root / version
        if not target.is_dir():
            partial = root / f"{version}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            logger.info("Downloading Azure ML data asset %s:%s", self.azureml_dataset, version)
            self._downloader.download(self.azureml_dataset, version, partial)
            partial.rename(target)
        return version

    def _describe(self) -> dict[str, Any]:
        return {
            **super()._describe(),
            "azureml_dataset": self.azureml_dataset,
            "azureml_type": self.azureml_type,
            "azureml_version": self.azureml_version,
        }
