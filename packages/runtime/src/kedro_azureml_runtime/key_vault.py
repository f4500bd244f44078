"""Secrets from Azure Key Vault in Kedro config: the ``azureml.keyvault`` resolver.

The template's ``settings.py`` registers it with Kedro's config loader::

    from kedro_azureml_runtime.key_vault import KEY_VAULT_RESOLVER, key_vault_secret

    CONFIG_LOADER_ARGS = {"custom_resolvers": {KEY_VAULT_RESOLVER: key_vault_secret}}

and a catalog entry reads a secret where it needs it, in its inline ``credentials``::

    warehouse:
      type: pandas.SQLQueryDataset
      credentials:
        con: ${azureml.keyvault:my-vault,warehouse-url}

The secret is read when Kedro resolves the config (in each step, in ``kedro run``), with
``DefaultAzureCredential``: in an Azure ML step that is the job's identity (a user-assigned one by
its client id, ``AZURE_CLIENT_ID``), on a laptop ``az login``. It is read once per process and
secret, and is never written to a file.

Importing this module is cheap (no ``azure`` import): azure-identity and azure-keyvault-secrets,
the ``keyvault`` extra of kedro-azureml-runtime, are imported when the first secret is read.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from kedro_azureml_runtime.errors import KeyVaultError

#: The resolver's name in Kedro config: ``${azureml.keyvault:<vault>,<secret>[,<version>]}``.
KEY_VAULT_RESOLVER = "azureml.keyvault"
#: The DNS suffix of a vault given by name (Azure's public cloud); other clouds give the URL.
VAULT_DNS_SUFFIX = "vault.azure.net"

_VAULT_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,22}[A-Za-z0-9]$")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9-]{1,127}$")
_lock = threading.Lock()
_secrets: dict[tuple[str, str, str], str] = {}
_clients: dict[str, Any] = {}
_credential: list[Any] = []  # one DefaultAzureCredential per process, made on first use
_placeholders: ContextVar[bool] = ContextVar("kedro_azureml_key_vault_placeholders", default=False)


def key_vault_secret(vault: str, secret: str, version: str | None = None) -> str:
    """The value of secret ``secret`` of Key Vault ``vault`` (its latest version, or ``version``).

    The resolver behind ``${azureml.keyvault:<vault>,<secret>[,<version>]}``.

    Args:
        vault: the vault's name (``my-vault``, for ``https://my-vault.vault.azure.net``) or its
            URL (``https://...``, for another cloud).
        secret: the secret's name.
        version: a version of the secret; the latest when left out.

    Raises:
        KeyVaultError: the extra is not installed, no credential signs in, the identity may not
            read the secret, the secret does not exist, or the vault cannot be reached.
    """
    url = vault_url(vault)
    secret = str(secret).strip()
    version = str(version).strip() if version not in (None, "") else ""
    if not _SECRET_NAME.match(secret):
        raise KeyVaultError(
            f"`${{azureml.keyvault:{vault},{secret}}}`: {secret!r} is not a Key Vault secret "
            "name (1-127 letters, digits and -): give the secret's name as the second argument."
        )
    if _placeholders.get():
        return placeholder(url, secret, version)
    key = (url, secret, version)
    with _lock:
        if key not in _secrets:
            _secrets[key] = _read_secret(url, secret, version)
        return _secrets[key]


def vault_url(vault: str) -> str:
    """The URL of Key Vault ``vault``, a name (public cloud) or a URL, with a trailing ``/``."""
    vault = str(vault).strip()
    if vault.startswith("https://"):
        return vault.rstrip("/") + "/"
    if _VAULT_NAME.match(vault) and "--" not in vault:
        return f"https://{vault.lower()}.{VAULT_DNS_SUFFIX}/"
    raise KeyVaultError(
        f"`${{azureml.keyvault:{vault},...}}`: {vault!r} is neither a Key Vault name (3-24 "
        "letters, digits and -) nor an https:// URL: give the vault's name or its URL (the vault's "
        "Overview page, 'Vault URI') as the first argument."
    )


def placeholder(url: str, secret: str, version: str = "") -> str:
    """What the resolver answers instead of a secret inside ``secrets_left_unread``."""
    return f"<Key Vault secret {secret}{'/' + version if version else ''} of {url}>"


@contextmanager
def secrets_left_unread() -> Iterator[None]:
    """While inside, the resolver reads no secret and answers ``placeholder(...)`` instead.

    For code that opens a project's catalog to inspect it, never to load data (compiling a job):
    it needs neither a credential nor the network.
    """
    token = _placeholders.set(True)
    try:
        yield
    finally:
        _placeholders.reset(token)


def forget_secrets() -> None:
    """Drop the secrets, clients and credential read so far (tests, or after an identity change)."""
    with _lock:
        _secrets.clear()
        _clients.clear()
        _credential.clear()


def _read_secret(url: str, secret: str, version: str) -> str:
    try:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ResourceNotFoundError,
            ServiceRequestError,
        )
        from azure.identity import DefaultAzureCredential
        from azure.keyvault.secrets import SecretClient
    except ImportError as exc:
        raise KeyVaultError(
            f"reading secret {secret!r} of Key Vault {url} needs azure-identity and "
            f"azure-keyvault-secrets ({exc.name or exc} is missing): add "
            "kedro-azureml-runtime[keyvault] to the project's dependencies (the step image "
            "installs them too)."
        ) from None

    where = f"secret {secret!r}{f' (version {version})' if version else ''} of Key Vault {url}"
    if url not in _clients:
        if not _credential:
            _credential.append(DefaultAzureCredential())
        _clients[url] = SecretClient(vault_url=url, credential=_credential[0])
    try:
        value = _clients[url].get_secret(secret, version or None).value
    except ClientAuthenticationError as exc:
        if _answered_by_vault(exc, url):  # the vault refused the token
            raise KeyVaultError(_forbidden(where, url)) from None
        raise KeyVaultError(
            f"cannot read {where}: no credential signed in ({_first_line(exc)}). In an Azure ML "
            "step, give the job an identity (jobs.<job>.identity in azureml.yml; a user-assigned "
            "one by its client id); on your machine, run `az login`."
        ) from None
    except ResourceNotFoundError:
        raise KeyVaultError(
            f"cannot read {where}: the vault has no such secret. Check the name in "
            f"`${{azureml.keyvault:...}}`, or create it: `az keyvault secret set --vault-name "
            f"<vault> --name {secret} --value ...`."
        ) from None
    except HttpResponseError as exc:
        if exc.status_code == 403:
            raise KeyVaultError(_forbidden(where, url)) from None
        raise KeyVaultError(
            f"cannot read {where}: Key Vault answered {exc.status_code} ({_first_line(exc)})."
        ) from None
    except ServiceRequestError as exc:
        raise KeyVaultError(
            f"cannot reach Key Vault {url} to read secret {secret!r} ({_first_line(exc)}): check "
            "the vault's name or URL, and that the compute's network reaches it (private "
            "endpoint, firewall)."
        ) from None
    if value is None:
        raise KeyVaultError(f"cannot read {where}: the secret has no value. Set one.")
    return value


def _forbidden(where: str, url: str) -> str:
    client_id = os.environ.get("AZURE_CLIENT_ID")
    who = f"the identity with client id {client_id}" if client_id else "the signed-in identity"
    return (
        f"cannot read {where}: forbidden for {who}. Grant it the role 'Key Vault Secrets User' "
        f"on the vault (`az role assignment create --role 'Key Vault Secrets User' --assignee "
        f"<principal> --scope <vault resource id>`), or an access policy allowing Get on secrets."
    )


def _answered_by_vault(exc: Exception, url: str) -> bool:
    response = getattr(exc, "response", None)
    request = getattr(response, "request", None)
    return str(getattr(request, "url", "")).startswith(url)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
