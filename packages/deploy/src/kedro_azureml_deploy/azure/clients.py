"""The signed-in ``MLClient`` of each workspace a command talks to."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.core.credentials import TokenCredential

    from kedro_azureml_deploy.azure.network import NetworkSettings
    from kedro_azureml_deploy.azure.request_log import RequestLog
    from kedro_azureml_deploy.azure.workspace_target import WorkspaceTarget

#: azure-ai-ml loggers that warn about things a user of this plugin cannot act on (experimental
#: classes the SDK uses itself).
_NOISY_SDK_LOGGERS = ("azure.ai.ml._utils._experimental",)


def workspace_client(
    target: WorkspaceTarget,
    credential: TokenCredential,
    network: NetworkSettings | None = None,
    requests: RequestLog | None = None,
) -> MLClient:
    """An ``MLClient`` for ``target``, in its cloud, after checking the workspace exists.

    Args:
        target: the workspace.
        credential: the signed-in credential.
        network: the timeouts and retries of every request (MLClient hands them to each of its
            clients); from the environment when ``None``.
        requests: where each request is recorded (first policy of every client's pipeline).

    Raises:
        SubmitError: Azure cannot be reached, refuses the credential, or has no such workspace.
    """
    from azure.ai.ml import MLClient

    from kedro_azureml_deploy import __version__
    from kedro_azureml_deploy.azure.errors import azure_call
    from kedro_azureml_deploy.azure.network import NetworkSettings
    from kedro_azureml_deploy.azure.request_log import RequestLog

    network = network or NetworkSettings.from_environment()
    requests = requests if requests is not None else RequestLog()
    quiet_sdk_warnings()
    cloud = target.cloud
    cloud_kwargs = cloud.ml_client_kwargs() if cloud is not None else {"cloud": "AzureCloud"}
    client = MLClient(
        credential,
        subscription_id=target.config.subscription_id,
        resource_group_name=target.config.resource_group,
        workspace_name=target.config.name,
        show_progress=sys.stderr.isatty(),
        user_agent=f"kedro-azureml/{__version__}",
        per_call_policies=[requests.policy()],
        **network.client_kwargs(),
        **cloud_kwargs,
    )
    action = f"reading {target.describe()}"
    with azure_call(action, target, workspace_lookup=True, requests=requests, network=network):
        client.workspaces.get(target.config.name)
    return client


def quiet_sdk_warnings() -> None:
    """Silence azure-ai-ml's warnings about its own experimental classes."""
    for name in _NOISY_SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


class WorkspaceClients:
    """Signed-in ``MLClient``s, one per workspace entry, made on first use.

    The credential is checked once per cloud of ``targets`` when this is created, before
    anything is uploaded (see ``azure.credentials.require_tokens``).

    Args:
        targets: the workspaces that will be used.
        credential: the credential for every cloud; by default ``DefaultAzureCredential`` for
            each cloud (see ``azure.credentials.build_credential``).
        interactive: let the default credential sign in with a browser.
        network: the timeouts and retries of every request; from the environment
            (``KEDRO_AZUREML_*``, see ``azure.network``) when ``None``.

    Attributes:
        network: the timeouts and retries every client uses.
        requests: every request the clients sent, with its answer.

    Raises:
        SubmitError: signing in fails, or a ``KEDRO_AZUREML_*`` setting is invalid.
    """

    def __init__(
        self,
        targets: Iterable[WorkspaceTarget],
        *,
        credential: TokenCredential | None = None,
        interactive: bool = False,
        network: NetworkSettings | None = None,
    ) -> None:
        from kedro_azureml_deploy.azure.credentials import build_credential, require_tokens
        from kedro_azureml_deploy.azure.network import NetworkSettings
        from kedro_azureml_deploy.azure.request_log import RequestLog

        self.network = network or NetworkSettings.from_environment()
        self.requests = RequestLog()
        self._credentials: dict[str, TokenCredential] = {}
        for target in targets:
            key = _cloud_key(target)
            if key not in self._credentials:
                signed_in = credential or build_credential(
                    target.cloud, interactive=interactive, network=self.network
                )
                require_tokens(signed_in, target.cloud)
                self._credentials[key] = signed_in
        self._clients: dict[str, MLClient] = {}

    def __call__(self, target: WorkspaceTarget) -> MLClient:
        """The client of ``target`` (which must be one of the targets given at creation).

        Raises:
            SubmitError: Azure cannot be reached, refuses the credential, or has no such
                workspace.
        """
        if target.entry not in self._clients:
            credential = self._credentials[_cloud_key(target)]
            self._clients[target.entry] = workspace_client(
                target, credential, self.network, self.requests
            )
        return self._clients[target.entry]


def _cloud_key(target: WorkspaceTarget) -> str:
    cloud = target.cloud
    return cloud.model_dump_json() if cloud is not None else ""
