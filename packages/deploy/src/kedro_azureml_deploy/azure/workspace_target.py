"""Which Azure ML workspace a job goes to: an entry of ``workspace`` in ``azureml.yml``.

Pure: nothing here talks to Azure or imports its SDK, so the offline dry run uses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kedro_azureml_deploy.errors import ConfigError

if TYPE_CHECKING:
    from kedro_azureml_deploy.config import AzureMLConfig, CloudConfig, JobConfig, WorkspaceConfig


@dataclass(frozen=True)
class WorkspaceTarget:
    """An entry of ``workspace`` in ``azureml.yml``.

    Attributes:
        entry: its key (``__default__``, or the name ``-w`` gave).
        config: its settings.
    """

    entry: str
    config: WorkspaceConfig

    @property
    def cloud(self) -> CloudConfig | None:
        return self.config.cloud

    def describe(self) -> str:
        """``workspace ws (resource group rg, subscription 0000…)``."""
        return (
            f"workspace {self.config.name} (resource group {self.config.resource_group}, "
            f"subscription {self.config.subscription_id})"
        )

    def not_found(self) -> str:
        """What to say when Azure answers that the workspace does not exist."""
        return (
            f"workspace {self.config.name} not found in resource group "
            f"{self.config.resource_group} (subscription {self.config.subscription_id}): check "
            f"workspace.{self.entry} in azureml.yml"
        )


def workspace_target(
    config: AzureMLConfig, job: JobConfig | None, override: str | None = None
) -> WorkspaceTarget:
    """The workspace a job goes to: ``override`` (``-w``) when given, else the job's.

    Raises:
        ConfigError: ``override`` is not an entry of ``workspace``.
    """
    entry = override or (job.workspace if job is not None else "__default__")
    if entry not in config.workspace:
        from kedro_azureml_deploy.config.problems import did_you_mean, quoted_list

        hint = did_you_mean(entry, config.workspace)
        raise ConfigError(
            f"unknown workspace `{entry}`{hint or '.'} azureml.yml defines "
            f"{quoted_list(config.workspace)} under `workspace`"
        )
    return WorkspaceTarget(entry=entry, config=config.workspace[entry])
