"""``AzurePipelinesRunner``: Kedro's sequential runner, with datasets pointed at Azure ML mounts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro.runner import SequentialRunner

from kedro_azureml_runtime.datasets import AzureMLIntermediateDataset, AzureMLPipelineDataset
from kedro_azureml_runtime.errors import ExecuteError

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline
    from pluggy import PluginManager


class AzurePipelinesRunner(SequentialRunner):
    """Runs the nodes of one Azure ML step.

    Before the run, every ``AzureMLPipelineDataset`` and ``AzureMLAssetDataset`` named in
    ``inputs`` or ``outputs`` reads and writes its mounted folder, and every dataset so named that
    the catalog does not declare becomes a pickle file in its mount, so undeclared intermediates
    still cross steps.
    """

    def __init__(
        self,
        inputs: Mapping[str, str] | None = None,
        outputs: Mapping[str, str] | None = None,
        is_async: bool = False,
    ) -> None:
        """Args:
        inputs: dataset name to the folder Azure ML mounted for it as an input.
        outputs: dataset name to the folder Azure ML mounted for it as an output.
        is_async: load and save in threads, as Kedro's ``--async``.
        """
        super().__init__(is_async=is_async)
        self.inputs = dict(inputs or {})
        self.outputs = dict(outputs or {})

    def run(
        self,
        pipeline: Pipeline,
        catalog: CatalogProtocol,
        hook_manager: PluginManager | None = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
    ) -> dict[str, Any]:
        self.mount_datasets(catalog)
        return super().run(
            pipeline,
            catalog,
            hook_manager,
            run_id=run_id,
            only_missing_outputs=only_missing_outputs,
        )

    def mount_datasets(self, catalog: CatalogProtocol) -> None:
        """Point the catalog's datasets at their mounts (see the class docstring)."""
        for name, folder in {**self.inputs, **self.outputs}.items():
            if name not in catalog:
                catalog[name] = AzureMLIntermediateDataset(folder)
                continue
            dataset = catalog.get(name)
            if not isinstance(dataset, AzureMLPipelineDataset):
                raise ExecuteError(
                    f"dataset {name!r} is a {type(dataset).__name__} and cannot be read from or "
                    "written to an Azure ML mount: declare it as an AzureMLPipelineDataset (or "
                    "AzureMLAssetDataset) in the catalog, or remove it from the catalog."
                )
            dataset.mount(folder)
            _check_inside_mount(name, dataset, folder)


def _check_inside_mount(name: str, dataset: AzureMLPipelineDataset, folder: str) -> None:
    """A step may write only into its output folders, and read only its input folders: a plugin
    dataset whose path leaves its mount (``../``, an absolute path) is refused before any node
    runs."""
    mount = Path(folder).resolve()
    target = Path(dataset.path).resolve()
    if target == mount or target.is_relative_to(mount):
        return
    raise ExecuteError(
        f"dataset {name!r}: its path {dataset.filepath!r} leads outside the folder Azure ML "
        f"mounted for it ({folder}); a step reads and writes only inside its mounts. Give it a "
        "filepath relative to the mount, without `..` and not absolute, in the catalog."
    )
