"""``compute``: the Azure ML compute clusters steps run on, and which node tags go where."""

from __future__ import annotations

from pydantic import Field

from kedro_azureml_deploy.config.strict_model import StrictModel


class ComputeConfig(StrictModel):
    """An Azure ML compute cluster. `compute.__default__` runs every node that no tag routes
    elsewhere (unless the job names another default)."""

    cluster_name: str = Field(
        min_length=1, description="The name of the compute cluster in the workspace."
    )
    tags: list[str] = Field(
        default=[],
        description="Kedro node tags routed to this compute: a node with one of these tags runs "
        "here. A tag may be claimed by one compute entry only.",
    )
