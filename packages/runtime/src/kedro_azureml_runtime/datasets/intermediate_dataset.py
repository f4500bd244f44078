"""The dataset a step uses for an intermediate the project's catalog does not declare."""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from kedro_azureml_runtime.distributed import is_distributed_master

logger = logging.getLogger(__name__)


class AzureMLIntermediateDataset(AbstractDataset):
    """A pickle file in a mounted folder, for undeclared intermediates that cross steps.

    In a single ``kedro run`` such a dataset would be a ``MemoryDataset``; across steps it has to
    be stored, so ``AzurePipelinesRunner`` replaces it with this one.
    """

    FILENAME = "data.pickle"

    def __init__(self, folder: str) -> None:
        """Args:
        folder: the mounted folder that holds the pickle file.
        """
        self._path = Path(folder) / self.FILENAME

    def load(self) -> Any:
        if not self._path.is_file():
            raise DatasetError(
                f"{self._path} does not exist: the step that produces this intermediate wrote "
                "nothing into its output."
            )
        with self._path.open("rb") as stream:
            return pickle.load(stream)

    def save(self, data: Any) -> None:
        if not is_distributed_master():
            logger.info("Not the master process of a distributed step: %s is not saved.", self)
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("wb") as stream:
            pickle.dump(data, stream, protocol=pickle.HIGHEST_PROTOCOL)

    def _exists(self) -> bool:
        return self._path.is_file()

    def _describe(self) -> dict[str, Any]:
        return {"path": str(self._path)}
