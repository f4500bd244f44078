"""The ``mode`` of a step's outputs: what an ``AzureMLPipelineDataset``'s ``output_mode`` says
(``rw_mount``, ``upload``), left to Azure ML's default (``rw_mount``) when it says nothing."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline.node import Node


def output_modes(nodes: Iterable[Node], catalog: CatalogProtocol) -> dict[str, str]:
    """Dataset name to the output mode its ``AzureMLPipelineDataset`` asks for, for the datasets
    the nodes write."""
    from kedro_azureml_runtime.datasets import AzureMLPipelineDataset

    modes: dict[str, str] = {}
    for node in nodes:
        for name in node.outputs:
            if name in modes or name.startswith("params:") or name not in catalog:
                continue
            dataset = catalog.get(name)
            if isinstance(dataset, AzureMLPipelineDataset) and dataset.output_mode is not None:
                modes[name] = dataset.output_mode
    return modes


def set_output_modes(
    outputs: dict[str, Any],
    nodes: Iterable[Node],
    ports: Mapping[str, str],
    modes: Mapping[str, str],
) -> None:
    """Set the ``mode`` of each of a step's ``outputs`` (port to output) whose dataset asks for
    one in ``modes`` (see ``output_modes``); ``ports`` maps datasets to their ports."""
    for node in nodes:
        for name in node.outputs:
            port = ports.get(name)
            if name in modes and port in outputs:
                outputs[port]["mode"] = modes[name]
