"""``workspace``: the Azure ML workspaces jobs are submitted to, and the cloud each one lives in."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema, model_validator

from kedro_azureml_deploy.config.problems import ConfigProblems, Problem
from kedro_azureml_deploy.config.strict_model import StrictModel

#: Authority hosts of the named clouds (``azure.identity.AzureAuthorityHosts``). The public cloud's
#: is every credential's default, so it needs no setting.
_AUTHORITY_HOSTS = {
    "AzureChinaCloud": "login.chinacloudapi.cn",
    "AzureUSGovernment": "login.microsoftonline.us",
}
_PUBLIC_AUTHORITY = "https://login.microsoftonline.com/"
_PUBLIC_STORAGE_SUFFIX = "core.windows.net"
_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"`{value}` is not an https URL such as `https://management.example.com/`")
    return value.rstrip("/") + "/"


def _subscription_id(value: str) -> str:
    if not _GUID.fullmatch(value):
        raise ValueError(
            f"`{value}` is not a subscription id: expected a GUID such as "
            "`00000000-0000-0000-0000-000000000000` (`az account show --query id` prints yours)"
        )
    return value


HttpsUrl = Annotated[
    str,
    AfterValidator(_https_url),
    WithJsonSchema({"type": "string", "format": "uri", "pattern": "^https://"}),
]


class CloudConfig(StrictModel):
    """The Azure cloud a workspace lives in: a public or sovereign cloud by `name`, or a custom
    cloud by its Azure Resource Manager endpoint. Leave `cloud` out for the public Azure cloud."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [{"required": ["name"]}, {"required": ["resource_manager_endpoint"]}]
        }
    )

    name: Literal["AzureCloud", "AzureChinaCloud", "AzureUSGovernment"] | None = Field(
        default=None,
        description="A named Azure cloud: `AzureCloud` (public), `AzureChinaCloud` or "
        "`AzureUSGovernment`. Give either `name` or `resource_manager_endpoint`.",
    )
    resource_manager_endpoint: HttpsUrl | None = Field(
        default=None,
        description="The Azure Resource Manager URL of a custom cloud, e.g. "
        "`https://management.example.com/`. Every Azure ML control-plane call goes there.",
    )
    authority_host: HttpsUrl | None = Field(
        default=None,
        description="Custom cloud only: the Microsoft Entra ID authority credentials sign in "
        "with. Defaults to the public cloud's, `https://login.microsoftonline.com/`.",
    )
    storage_endpoint: str | None = Field(
        default=None,
        description="Custom cloud only: the DNS suffix of its storage accounts, e.g. "
        "`core.windows.net` (the default).",
    )
    registry_discovery_endpoint: HttpsUrl | None = Field(
        default=None,
        description="Custom cloud only: the URL that locates Azure ML registries. Defaults to "
        "`resource_manager_endpoint`.",
    )

    @model_validator(mode="after")
    def _named_or_custom(self) -> CloudConfig:
        custom_keys = ("authority_host", "storage_endpoint", "registry_discovery_endpoint")
        if self.name is not None and self.resource_manager_endpoint is not None:
            raise ValueError(
                "give either `name` (a named cloud) or `resource_manager_endpoint` (a custom "
                "cloud), not both"
            )
        if self.name is None and self.resource_manager_endpoint is None:
            raise ValueError(
                "give `name` (AzureCloud, AzureChinaCloud or AzureUSGovernment) or the "
                "`resource_manager_endpoint` of a custom cloud, or remove `cloud` for the public "
                "cloud"
            )
        if self.name is not None:
            problems = [
                Problem((key,), f"`{key}` applies to a custom cloud only; remove it")
                for key in custom_keys
                if getattr(self, key) is not None
            ]
            if problems:
                raise ConfigProblems(problems)
        return self

    def ml_client_kwargs(self) -> dict[str, Any]:
        """The keyword arguments that make ``azure.ai.ml.MLClient`` talk to this cloud.

        A named cloud is ``{"cloud": name}``. A custom cloud is registered with azure-ai-ml through
        ``cloud_metadata``: its Resource Manager endpoint serves the control plane, the portal and
        the Azure ML resource id; the other endpoints take their defaults unless set. Any https
        base URL works, including a loopback ``https://127.0.0.1:8443/`` (how the tests point a
        real ``MLClient`` at a fake of the Azure REST API). The custom cloud's name is derived
        from its endpoints, because azure-ai-ml keeps the first registration of a name for the
        whole process: two different endpoints never share one.
        """
        if self.resource_manager_endpoint is None:
            return {"cloud": self.name}
        endpoint = self.resource_manager_endpoint
        metadata = {
            "azure_portal": endpoint,
            "resource_manager": endpoint,
            "active_directory": self.authority_host or _PUBLIC_AUTHORITY,
            "aml_resource_id": endpoint,
            "storage_endpoint": self.storage_endpoint or _PUBLIC_STORAGE_SUFFIX,
            "registry_discovery_endpoint": self.registry_discovery_endpoint or endpoint,
        }
        digest = hashlib.sha256(json.dumps(metadata, sort_keys=True).encode()).hexdigest()
        return {"cloud": f"KedroAzureMLCustomCloud-{digest[:12]}", "cloud_metadata": metadata}

    def credential_kwargs(self) -> dict[str, str]:
        """The keyword arguments an ``azure.identity`` credential needs to sign in to this cloud:
        ``{"authority": ...}`` for a sovereign cloud or a custom authority, ``{}`` otherwise."""
        authority = _AUTHORITY_HOSTS.get(self.name or "") or self.authority_host
        return {"authority": authority} if authority else {}


class WorkspaceConfig(StrictModel):
    """An Azure ML workspace. `workspace.__default__` is the one jobs use unless they name
    another."""

    subscription_id: Annotated[
        str,
        AfterValidator(_subscription_id),
        WithJsonSchema({"type": "string", "pattern": f"^{_GUID.pattern}$"}),
    ] = Field(description="The id (a GUID) of the Azure subscription that holds the workspace.")
    resource_group: str = Field(
        min_length=1, description="The resource group that holds the workspace."
    )
    name: str = Field(min_length=1, description="The workspace's name.")
    cloud: CloudConfig | None = Field(
        default=None,
        description="The Azure cloud of the workspace; the public cloud when left out.",
    )
