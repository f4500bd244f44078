"""Which versions of kedro-azureml and its main dependencies are installed, and whether they fit."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTIONS = (
    "kedro-azureml-deploy",
    "kedro-azureml-runtime",
    "kedro",
    "azure-ai-ml",
    "azure-identity",
    "pydantic",
)


def installed_versions() -> dict[str, str | None]:
    """The installed version of each distribution in ``DISTRIBUTIONS``, ``None`` when absent."""
    versions: dict[str, str | None] = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return versions


def version_problems(versions: dict[str, str | None]) -> list[str]:
    """What is wrong with ``versions``: the two kedro-azureml packages must be the same release."""
    deploy, runtime = versions.get("kedro-azureml-deploy"), versions.get("kedro-azureml-runtime")
    if deploy and runtime and deploy != runtime:
        return [
            f"kedro-azureml-runtime {runtime} does not match kedro-azureml-deploy {deploy}: "
            f"install kedro-azureml-runtime=={deploy}, the version compiled steps expect."
        ]
    return []
