"""``compute``: where steps run (a compute cluster, or serverless compute), and which node tags
go where."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StrictInt, model_validator

from kedro_azureml_deploy.config.names import COMPUTE_NAME_PATTERN, compute_name
from kedro_azureml_deploy.config.strict_model import StrictModel

#: The shape of an Azure VM size, as serverless compute takes it: ``Standard_DS3_v2``,
#: ``Standard_NC24ads_A100_v4`` (Azure compares sizes without regard to case).
INSTANCE_TYPE_PATTERN = r"^[Ss][Tt][Aa][Nn][Dd][Aa][Rr][Dd]_[A-Za-z0-9]+(_[A-Za-z0-9]+)*$"


def vm_size(value: str) -> str:
    if not re.fullmatch(INSTANCE_TYPE_PATTERN, value):
        raise ValueError(
            f"`{value}` is not an Azure VM size: give one such as `Standard_DS3_v2` or "
            "`Standard_NC6s_v3` (`az vm list-sizes --location <region> -o table` lists them)"
        )
    return value


class ComputeConfig(StrictModel):
    """Where steps run: an Azure ML compute cluster (`cluster_name`), or serverless compute
    (`instance_type`, no cluster to manage). `compute.__default__` runs every node that no tag
    routes elsewhere (unless the job names another default)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "oneOf": [{"required": ["cluster_name"]}, {"required": ["instance_type"]}],
            "dependentRequired": {"instance_count": ["instance_type"]},
        },
    )

    cluster_name: Annotated[str, AfterValidator(compute_name)] | None = Field(
        default=None,
        description="The name of the compute cluster in the workspace: 2 to 24 letters, digits "
        "and `-`, starting with a letter. Leave it out and give `instance_type` for serverless "
        "compute.",
        json_schema_extra={"pattern": COMPUTE_NAME_PATTERN},
    )
    instance_type: Annotated[str, AfterValidator(vm_size)] | None = Field(
        default=None,
        description="Serverless compute: the Azure VM size each step runs on, such as "
        "`Standard_DS3_v2`; Azure ML starts the machines for the step and releases them after. "
        "Give it instead of `cluster_name`.",
        json_schema_extra={"pattern": INSTANCE_TYPE_PATTERN},
    )
    instance_count: StrictInt | None = Field(
        default=None,
        ge=1,
        description="Serverless compute: how many machines of `instance_type` each step gets; "
        "1 when left out (a distributed node asks for its own count).",
    )
    tags: list[str] = Field(
        default=[],
        description="Kedro node tags routed to this compute: a node with one of these tags runs "
        "here. A tag may be claimed by one compute entry only.",
    )

    @model_validator(mode="after")
    def _cluster_or_serverless(self) -> ComputeConfig:
        if self.cluster_name is not None and self.instance_type is not None:
            raise ValueError(
                "give `cluster_name` (a compute cluster) or `instance_type` (serverless "
                "compute), not both"
            )
        if self.cluster_name is None and self.instance_type is None:
            raise ValueError(
                "give `cluster_name` (a compute cluster of the workspace) or `instance_type` "
                "(serverless compute, such as `Standard_DS3_v2`)"
            )
        if self.instance_count is not None and self.instance_type is None:
            raise ValueError(
                "`instance_count` is for serverless compute: give `instance_type` too, or "
                "leave `instance_count` out (a cluster's size is set on the cluster)"
            )
        return self

    @property
    def serverless(self) -> bool:
        """Whether steps run on serverless compute rather than a cluster."""
        return self.instance_type is not None
