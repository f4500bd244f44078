"""kedro-azureml-deploy: compile Kedro pipelines into Azure ML pipeline jobs, replay them locally,
submit and schedule them.

It contributes its commands to the ``kedro azureml`` group that kedro-azureml-runtime registers
with Kedro, and runs on laptops and CI, never inside a step. Importing it is cheap: ``azure.ai.ml``
and ``azure.identity`` are imported by the commands that talk to Azure, when they run.
"""

__all__ = ["__version__"]


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed distribution when first asked for: importing the
    package stays free of metadata lookups (Kedro imports its ``kedro.init`` plugin for every
    ``kedro`` command)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("kedro-azureml-deploy")
    except PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
        found = "0.0.0"
    globals()["__version__"] = found
    return found
