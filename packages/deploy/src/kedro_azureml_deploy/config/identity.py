"""``jobs.<job>.identity``: the identity a job's steps act as when they reach storage, Key Vault
or other Azure services, so they need no keys."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Discriminator, Field, Tag

from kedro_azureml_deploy.config.strict_model import StrictModel

#: A Microsoft Entra client id: a GUID.
CLIENT_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

IdentityKind = Literal["managed", "user_identity"]


def client_guid(value: str) -> str:
    if not re.fullmatch(CLIENT_ID_PATTERN, value):
        raise ValueError(
            f"`{value}` is not a client id: give the GUID of the user-assigned managed identity "
            "(`az identity show --name <identity> --resource-group <group> --query clientId`)"
        )
    return value.lower()


class UserAssignedIdentityConfig(StrictModel):
    """A user-assigned managed identity, attached to the compute, by its client id."""

    client_id: Annotated[str, AfterValidator(client_guid)] = Field(
        description="The client id (a GUID) of the user-assigned managed identity. Each step also "
        "gets it as `AZURE_CLIENT_ID`, so `DefaultAzureCredential` inside the step picks this "
        "identity.",
        json_schema_extra={"pattern": CLIENT_ID_PATTERN},
    )


def _identity_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "kind"
    if isinstance(value, dict | UserAssignedIdentityConfig):
        return "user-assigned"
    return None


IdentityReference = Annotated[
    Annotated[IdentityKind, Tag("kind")]
    | Annotated[UserAssignedIdentityConfig, Tag("user-assigned")],
    Discriminator(
        _identity_kind,
        custom_error_type="identity_type",
        custom_error_message="expected `managed`, `user_identity`, or a mapping with `client_id` "
        "(a user-assigned managed identity)",
    ),
]
