"""``compute``: the Azure ML compute clusters steps run on, and which node tags go where."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from kedro_azureml_deploy.config.names import COMPUTE_NAME_PATTERN, compute_name
from kedro_azureml_deploy.config.strict_model import StrictModel


class ComputeConfig(StrictModel):
    """An Azure ML compute cluster. `compute.__default__` runs every node that no tag routes
    elsewhere (unless the job names another default)."""

    cluster_name: Annotated[str, AfterValidator(compute_name)] = Field(
        description="The name of the compute cluster in the workspace: 2 to 24 letters, digits "
        "and `-`, starting with a letter.",
        json_schema_extra={"pattern": COMPUTE_NAME_PATTERN},
    )
    tags: list[str] = Field(
        default=[],
        description="Kedro node tags routed to this compute: a node with one of these tags runs "
        "here. A tag may be claimed by one compute entry only.",
    )
