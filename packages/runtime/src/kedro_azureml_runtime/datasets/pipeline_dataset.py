"""``AzureMLPipelineDataset``: a Kedro dataset whose files cross Azure ML step boundaries."""

from __future__ import annotations

import logging
from copy import deepcopy
from pathlib import PurePath, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError, Version

from kedro_azureml_runtime.distributed import is_distributed_master

logger = logging.getLogger(__name__)

#: The modes of ``output_mode``: the Azure ML output modes that give a step a folder to write.
OUTPUT_MODES = ("rw_mount", "upload")

# Kedro's context turns every relative ``filepath`` in the catalog, nested ones included, into
# ``{project_path}/{filepath}`` before datasets are built. The runtime's hook records each project
# path here when a context is created, so the wrapped path can be taken back to what the user wrote.
_project_paths: set[PurePosixPath] = set()


def remember_project_path(path: str | PurePath) -> None:
    """Record the root of a Kedro project whose catalog paths Kedro made absolute."""
    _project_paths.add(PurePosixPath(PurePath(path).as_posix()))


def _as_written(filepath: str) -> tuple[PurePosixPath | None, str]:
    """``(project_path, relative)`` when Kedro prefixed ``filepath`` with a known project path."""
    path = PurePosixPath(filepath)
    for project in sorted(_project_paths, key=lambda p: len(p.parts), reverse=True):
        if path.is_relative_to(project):
            return project, str(path.relative_to(project))
    return None, filepath


class AzureMLPipelineDataset(AbstractDataset):
    """Wraps any Kedro dataset so its data travels between steps through an Azure ML output.

    Locally it behaves exactly like the wrapped dataset, reading and writing
    ``{root_dir}/{filepath}``. In a step, ``AzurePipelinesRunner`` points ``root_dir`` at the
    folder Azure ML mounted for this dataset, so the producing step writes into its output and the
    consuming step reads from its input.

    Example ``conf/base/catalog.yml`` entry::

        model_input_table:
          type: kedro_azureml_runtime.datasets.AzureMLPipelineDataset
          dataset:
            type: pandas.ParquetDataset
            filepath: model_input_table.parquet

    ``output_mode`` says how Azure ML moves what the producing step writes to storage:
    ``rw_mount`` (Azure ML's default: files are written through a mount as they are saved) or
    ``upload`` (files are written to the step's local disk and uploaded when the step ends,
    faster for many small files or for datasets that rewrite files). The local replay treats
    every mode the same way: the step writes into an empty folder.

    ``versioned: true`` next to ``type`` versions the wrapped dataset with the run's save version,
    and ``--load-versions`` picks the version to load, as for any Kedro dataset. In a step the
    versions live under the mount: the producing step saves one, the consuming step loads it.
    """

    def __init__(
        self,
        dataset: str | type[AbstractDataset] | dict[str, Any],
        root_dir: str = "data",
        filepath_arg: str = "filepath",
        metadata: dict[str, Any] | None = None,
        version: Version | None = None,
        output_mode: str | None = None,
    ) -> None:
        """Create the dataset.

        Args:
            dataset: the wrapped dataset, as a type name or class, or a config dict with ``type``
                and its arguments (as in the catalog). Its ``filepath_arg`` entry is relative to
                ``root_dir``.
            root_dir: the folder the wrapped dataset's path is relative to; ``data`` locally, the
                mount in a step.
            filepath_arg: the wrapped dataset's path argument (``path`` for
                ``partitions.PartitionedDataset``).
            metadata: free-form metadata, ignored by Kedro.
            version: set by Kedro's catalog when the entry says ``versioned: true``; passed on to
                the wrapped dataset.
            output_mode: how Azure ML stores the producing step's output, one of
                ``OUTPUT_MODES``; Azure ML's default (``rw_mount``) when ``None``.
        """
        config = {"type": dataset} if isinstance(dataset, str | type) else dict(dataset)
        if "type" not in config:
            raise DatasetError(
                f"AzureMLPipelineDataset needs a `type` for its dataset, got {config}."
            )
        if filepath_arg not in config:
            raise DatasetError(
                f"AzureMLPipelineDataset's dataset has no `{filepath_arg}`: give it one, or set "
                "`filepath_arg` to the argument that holds its path (`path` for "
                "partitions.PartitionedDataset)."
            )
        if output_mode is not None and output_mode not in OUTPUT_MODES:
            raise DatasetError(
                f"AzureMLPipelineDataset output_mode {output_mode!r} is not one of "
                f"{', '.join(OUTPUT_MODES)}: use rw_mount (write through a mount) or upload "
                "(write locally, upload when the step ends)."
            )
        self.output_mode = output_mode
        self._dataset_config = config
        self._filepath_arg = filepath_arg
        self._root_dir = root_dir
        self._dataset: AbstractDataset | None = None
        self._version = version
        self.metadata = metadata

    @property
    def root_dir(self) -> str:
        """The folder the wrapped dataset's path is relative to."""
        return self._root_dir

    @root_dir.setter
    def root_dir(self, value: str) -> None:
        self._root_dir = value
        self._dataset = None

    def mount(self, path: str) -> None:
        """Read and write under ``path``, the folder Azure ML mounted for this dataset."""
        self.root_dir = path

    @property
    def filepath(self) -> str:
        """The wrapped dataset's path, relative to ``root_dir`` (as written in the catalog)."""
        return _as_written(str(self._dataset_config[self._filepath_arg]))[1]

    @property
    def local_root(self) -> PurePosixPath:
        """``root_dir``, anchored at the project root when Kedro anchored the catalog there."""
        project, _ = _as_written(str(self._dataset_config[self._filepath_arg]))
        root = PurePosixPath(self.root_dir)
        return project / root if project is not None and not root.is_absolute() else root

    @property
    def path(self) -> str:
        """Where the wrapped dataset reads and writes: ``{root_dir}/{filepath}``."""
        return str(self.local_root / self.filepath)

    @property
    def dataset(self) -> AbstractDataset:
        """The wrapped dataset, built for the current ``root_dir``."""
        if self._dataset is None:
            config = deepcopy(self._dataset_config)
            config[self._filepath_arg] = self.path
            load, save = (self._version.load, self._version.save) if self._version else (None, None)
            if self._version is not None:
                config["versioned"] = True
            try:
                self._dataset = AbstractDataset.from_config(
                    self._wrapped_name(), config, load, save
                )
            except DatasetError as exc:
                if config.get("versioned") and "version" in str(exc):
                    raise DatasetError(
                        f"{config['type']} (wrapped in {type(self).__name__} at {self.filepath}) "
                        "cannot be versioned: remove `versioned: true`, or wrap a dataset type "
                        "that supports versioning."
                    ) from exc
                raise
        return self._dataset

    def _wrapped_name(self) -> str:
        return f"{type(self).__name__}({self.filepath})"

    def load(self) -> Any:
        return self.dataset.load()

    def save(self, data: Any) -> None:
        if not is_distributed_master():
            logger.info("Not the master process of a distributed step: %s is not saved.", self)
            return
        self.dataset.save(data)

    def _exists(self) -> bool:
        return self.dataset.exists()

    def _release(self) -> None:
        if self._dataset is not None:
            self._dataset.release()

    def _describe(self) -> dict[str, Any]:
        return {
            "dataset": self._dataset_config.get("type"),
            "root_dir": self.root_dir,
            "filepath": self.filepath,
        }
