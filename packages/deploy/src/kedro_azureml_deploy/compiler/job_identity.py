"""``jobs.<job>.identity`` as the pipeline job says it: an ``identity`` of the job and of each
step (azure-ai-ml's ``ManagedIdentityConfiguration`` or ``UserIdentityConfiguration``, in YAML),
and ``AZURE_CLIENT_ID`` in each step for a user-assigned identity, which ``DefaultAzureCredential``
needs to choose it among the compute's identities (Azure/azure-sdk-for-python#31071)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedro_azureml_deploy.config.identity import UserAssignedIdentityConfig

#: The variable ``DefaultAzureCredential`` reads a managed identity's client id from.
CLIENT_ID_VARIABLE = "AZURE_CLIENT_ID"


def identity_spec(identity: str | UserAssignedIdentityConfig | None) -> dict[str, Any] | None:
    """The ``identity`` of the job and its steps; ``None`` keeps Azure ML's default."""
    if identity is None:
        return None
    if isinstance(identity, str):
        return {"type": identity}
    return {"type": "managed", "client_id": identity.client_id}


def identity_variables(identity: str | UserAssignedIdentityConfig | None) -> dict[str, str]:
    """The environment variables each step gets for ``identity``."""
    if identity is None or isinstance(identity, str):
        return {}
    return {CLIENT_ID_VARIABLE: identity.client_id}
