"""The example pipeline: fit a straight line to noisy points and score it.

Each node becomes one Azure ML step; the datasets between them are
`AzureMLPipelineDataset`s (conf/base/catalog.yml), so they travel from step to step.
Replace it with your own pipelines.
"""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
