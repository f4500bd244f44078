"""``environment``: the software steps run in, an Azure ML environment or a container image."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from kedro_azureml_deploy.config.strict_model import StrictModel

_ENVIRONMENT_REFERENCE = re.compile(
    r"(?:azureml:)?(?P<reference>[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}(?::[A-Za-z0-9_.-]+|@latest))"
)
_DOMAIN_COMPONENT = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,})?"
)


def environment_reference(value: str) -> str:
    """``value`` without an ``azureml:`` prefix, once it is ``<name>@latest`` or
    ``<name>:<version>``."""
    match = _ENVIRONMENT_REFERENCE.fullmatch(value)
    if match is None:
        raise ValueError(
            f"`{value}` is not an Azure ML environment reference: write `<name>@latest` or "
            "`<name>:<version>`, e.g. `kedro-env@latest` or `kedro-env:3`"
        )
    return match["reference"]


def _image_reference(value: str) -> str:
    if not _IMAGE_REFERENCE.fullmatch(value):
        raise ValueError(
            f"`{value}` is not a container image reference such as "
            "`myregistry.azurecr.io/my-project:1.2.0`"
        )
    return value


class EnvironmentConfig(StrictModel):
    """The software a step runs in: an Azure ML environment (`name`) or a container image
    (`image`), exactly one of them. `environment.__default__` serves every node that no tag
    routes elsewhere (unless the job names another default)."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["name"]}, {"required": ["image"]}]}
    )

    name: Annotated[str, AfterValidator(environment_reference)] | None = Field(
        default=None,
        description="An Azure ML environment of the workspace, `<name>@latest` or "
        "`<name>:<version>` (an `azureml:` prefix is accepted and dropped). Code upload mode "
        "only: such an environment does not contain the project's code.",
    )
    image: Annotated[str, AfterValidator(_image_reference)] | None = Field(
        default=None,
        description="A container image, e.g. `myregistry.azurecr.io/my-project:1.2.0`. In image "
        "mode it must contain the project's code at `execution.working_directory`.",
    )
    tags: list[str] = Field(
        default=[],
        description="Kedro node tags routed to this environment. A tag may be claimed by one "
        "environment entry only.",
    )

    @model_validator(mode="after")
    def _name_or_image(self) -> EnvironmentConfig:
        if (self.name is None) == (self.image is None):
            raise ValueError(
                "give exactly one of `name` (an Azure ML environment such as `kedro-env@latest`) "
                "and `image` (a container image)"
            )
        return self
