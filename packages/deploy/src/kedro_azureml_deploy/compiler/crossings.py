"""Datasets crossing step boundaries, and whether each can travel between Azure ML steps.

A dataset crosses when one node (step) produces it and another consumes it. It can travel when it
is an ``AzureMLPipelineDataset`` or ``AzureMLAssetDataset`` (the step mounts it), an intermediate
the catalog does not declare (the runner pickles it into a mount), or a dataset whose storage is
remote (every step reaches it on its own). A ``MemoryDataset``, or a dataset with a local file path,
would be lost with the producing step's container: the compiler's preflight reports it as an error
before anything is submitted (and ``doctor`` lists it with the fix).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kedro_azureml_runtime.datasets import AzureMLAssetDataset, AzureMLPipelineDataset

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol

LOCAL_PROTOCOLS = {"file", "local", ""}


class Travel(StrEnum):
    """How a dataset crosses from one step to the next."""

    PIPELINE_DATASET = "AzureMLPipelineDataset"
    ASSET = "AzureMLAssetDataset"
    INTERMEDIATE = "undeclared intermediate"
    REMOTE = "remote storage"


@dataclass(frozen=True)
class Crossing:
    """A dataset produced by one step and consumed by others."""

    dataset: str
    producer: str
    consumers: tuple[str, ...]
    travel: Travel | None
    problem: str | None = None

    def describe(self) -> str:
        consumers = ", ".join(self.consumers)
        return f"{self.dataset} (from {self.producer} to {consumers})"


def classify(name: str, catalog: CatalogProtocol) -> tuple[Travel | None, str | None]:
    """How dataset ``name`` travels between steps, or why it cannot (``(None, reason and fix)``)."""
    if name not in catalog:
        return Travel.INTERMEDIATE, None
    dataset = catalog.get(name)
    if isinstance(dataset, AzureMLAssetDataset):
        return Travel.ASSET, None
    if isinstance(dataset, AzureMLPipelineDataset):
        return Travel.PIPELINE_DATASET, None
    from kedro.io import MemoryDataset

    wrap = (
        "declare it as kedro_azureml_runtime.datasets.AzureMLPipelineDataset wrapping "
        "its current definition in the catalog"
    )
    if isinstance(dataset, MemoryDataset):
        return None, (
            "it is a MemoryDataset, which lives in the producing step's process only: "
            f"{wrap}, or delete its catalog entry so it travels as an undeclared intermediate"
        )
    location = local_path(dataset)
    if location is not None:
        return None, (
            f"it is a {type(dataset).__name__} with the local path {_shorten(location)}, written to "
            f"the producing step's disk and gone when that step ends: {wrap}, or store it "
            "remotely (for example abfs://…)"
        )
    return Travel.REMOTE, None


def local_path(dataset: Any) -> str | None:
    """The local file path ``dataset`` reads and writes, or ``None`` when its storage is remote or
    it has no path (a database table, an API)."""
    protocol = getattr(dataset, "_protocol", None)
    if isinstance(protocol, str) and protocol not in LOCAL_PROTOCOLS:
        return None
    for attribute in ("_filepath", "_path", "filepath", "path"):
        value = getattr(dataset, attribute, None)
        if isinstance(value, str | bytes) or hasattr(value, "as_posix"):
            text = str(value)
            return None if _is_remote(text) else text
    try:
        description = dataset._describe()
    except Exception:  # a dataset's own description must not break compilation
        return None
    for key in ("filepath", "path"):
        value = description.get(key) if isinstance(description, dict) else None
        if value is not None:
            return None if _is_remote(str(value)) else str(value)
    return None


def _is_remote(path: str) -> bool:
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.lower() not in LOCAL_PROTOCOLS


def _shorten(path: str) -> str:
    """A path as the user wrote it: Kedro anchors catalog paths at the project root."""
    from pathlib import PurePath

    parts = PurePath(path).parts
    if len(parts) > 3 and PurePath(path).is_absolute():
        return "…/" + "/".join(parts[-3:])
    return path
