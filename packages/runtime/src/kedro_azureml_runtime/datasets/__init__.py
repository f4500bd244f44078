"""Datasets that carry data between Azure ML steps."""

from kedro_azureml_runtime.datasets.asset_dataset import AzureMLAssetDataset
from kedro_azureml_runtime.datasets.intermediate_dataset import AzureMLIntermediateDataset
from kedro_azureml_runtime.datasets.pipeline_dataset import AzureMLPipelineDataset

__all__ = ["AzureMLAssetDataset", "AzureMLIntermediateDataset", "AzureMLPipelineDataset"]
