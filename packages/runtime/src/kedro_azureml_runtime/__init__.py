"""kedro-azureml-runtime: everything that runs inside an Azure ML step of a Kedro pipeline.

A step image installs this package and the user's project, nothing else from kedro-azureml. It
provides ``kedro azureml execute`` (a full ``KedroSession`` for one or more nodes), the
``AzurePipelinesRunner``, the ``AzureMLPipelineDataset`` and ``AzureMLAssetDataset`` datasets, the
hooks registered through entry points, and ``@distributed_job``.

Importing this package is cheap: it never imports ``azure.ai.ml``.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kedro-azureml-runtime")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
