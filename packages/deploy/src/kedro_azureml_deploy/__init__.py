"""kedro-azureml-deploy: compile Kedro pipelines into Azure ML pipeline jobs, replay them locally,
submit and schedule them.

It contributes its commands to the ``kedro azureml`` group that kedro-azureml-runtime registers
with Kedro, and runs on laptops and CI, never inside a step. Importing it is cheap: ``azure.ai.ml``
and ``azure.identity`` are imported by the commands that talk to Azure, when they run.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kedro-azureml-deploy")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that is not installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
