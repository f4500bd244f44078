"""The Azure credential that submissions and schedules sign in with, and the check that it works.

The credential is built explicitly: ``DefaultAzureCredential``, which tries in turn the service
principal environment variables (``AZURE_CLIENT_ID``, ``AZURE_TENANT_ID``, ``AZURE_CLIENT_SECRET``),
workload identity, a managed identity, the Azure CLI (``az login``), Azure PowerShell and the
Azure Developer CLI, and a browser sign-in only when asked (``--interactive``). Before anything is
uploaded, :func:`require_tokens` asks it for the tokens the submission will need, so a missing
sign-in is one clear message instead of an error halfway through an upload.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING

from kedro_azureml_deploy.errors import SubmitError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from azure.core.credentials import TokenCredential

    from kedro_azureml_deploy.azure.network import NetworkSettings
    from kedro_azureml_deploy.config import CloudConfig

#: How to sign in, for every message about a failed sign-in.
HOW_TO_SIGN_IN = (
    "run `az login` (Azure CLI); or set the service principal variables "
    "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET; or run where a managed identity "
    "is assigned (AZURE_CLIENT_ID picks a user-assigned one); or pass --interactive to sign in "
    "with a browser"
)

#: Resource Manager and Azure ML resource of the named clouds (as azure-ai-ml's cloud table).
_NAMED_CLOUD_RESOURCES = {
    "AzureCloud": ("https://management.azure.com", "https://ml.azure.com"),
    "AzureChinaCloud": ("https://management.chinacloudapi.cn", "https://ml.azure.cn"),
    "AzureUSGovernment": ("https://management.usgovcloudapi.net", "https://ml.azure.us"),
}


def build_credential(
    cloud: CloudConfig | None = None,
    *,
    interactive: bool = False,
    network: NetworkSettings | None = None,
) -> TokenCredential:
    """The credential to reach Azure ML in ``cloud`` (the public cloud when ``None``).

    Args:
        cloud: the workspace's ``cloud`` setting; a sovereign cloud or a custom authority sets
            the authority the credential signs in with.
        interactive: also try a sign-in in a browser when nothing else works.
        network: the timeouts and retries of the sign-in requests (to Microsoft Entra ID or a
            managed identity endpoint); the defaults of ``azure.network`` when ``None``.

    Raises:
        SubmitError: the environment configures a credential that cannot exist (for example
            ``AZURE_CLIENT_ID`` set to an empty string).
    """
    from azure.identity import DefaultAzureCredential

    from kedro_azureml_deploy.azure.network import NetworkSettings

    kwargs = cloud.credential_kwargs() if cloud is not None else {}
    kwargs.update((network or NetworkSettings.from_environment()).client_kwargs())
    try:
        return DefaultAzureCredential(
            exclude_interactive_browser_credential=not interactive, **kwargs
        )
    except ValueError as exc:
        raise SubmitError(
            f"cannot build the Azure credential: {exc}. Check the AZURE_* environment variables "
            f"(unset the empty ones), or {HOW_TO_SIGN_IN}."
        ) from exc


def token_scopes(cloud: CloudConfig | None) -> tuple[str, str]:
    """The scopes a submission needs tokens for: Azure Resource Manager, and Azure ML (pipeline
    jobs carry a token for the Azure ML resource)."""
    if cloud is not None and cloud.resource_manager_endpoint is not None:
        endpoint = cloud.resource_manager_endpoint.rstrip("/")
        resource_manager = azure_ml = endpoint
    else:
        resource_manager, azure_ml = _NAMED_CLOUD_RESOURCES[
            (cloud.name if cloud is not None else None) or "AzureCloud"
        ]
    return f"{resource_manager}/.default", f"{azure_ml}/.default"


def require_tokens(credential: TokenCredential, cloud: CloudConfig | None = None) -> None:
    """Get the tokens a submission needs from ``credential``, before anything is uploaded.

    Raises:
        SubmitError: no token: one message saying how to sign in (``--verbose`` shows what each
            way of signing in answered).
    """
    from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

    where = _cloud_description(cloud)
    for scope in dict.fromkeys(token_scopes(cloud)):  # a custom cloud's two scopes are one
        try:
            with _quiet_identity_logs():
                credential.get_token(scope)
        except (ClientAuthenticationError, ServiceRequestError) as exc:
            raise SubmitError(
                f"could not sign in to Azure ({where}): no credential gave a token for {scope}. "
                f"To sign in, {HOW_TO_SIGN_IN}."
            ) from exc


def _cloud_description(cloud: CloudConfig | None) -> str:
    if cloud is None or cloud.name == "AzureCloud":
        return "public Azure cloud"
    if cloud.name is not None:
        return cloud.name
    return f"custom cloud {cloud.resource_manager_endpoint}"


@contextmanager
def _quiet_identity_logs() -> Iterator[None]:
    """azure-identity logs a long warning for each failed sign-in; the error says it once."""
    logger = logging.getLogger("azure.identity")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
