"""A loopback fake of the Azure Key Vault secrets data plane and of Azure ML's identity endpoint.

Both are served by ``FakeAzureML``'s HTTPS server (``FakeAzureML(key_vault=FakeKeyVault())``):

- **Key Vault**, for requests whose ``Host`` is ``<vault>.vault.azure.net``: ``GET
  /secrets/{name}[/{version}]?api-version=...``. Without a bearer token it answers ``401`` with
  the challenge Key Vault sends (``WWW-Authenticate: Bearer authorization="<tenant authority>",
  resource="https://vault.azure.net"``); with a token the identity endpoint handed out for that
  resource, the secret; ``404 SecretNotFound`` for an unknown one, ``403 Forbidden`` for a
  secret ``forbid`` names.
- **The managed identity endpoint** of an Azure ML compute (``MSI_ENDPOINT``/``MSI_SECRET``, what
  azure-identity's ``DefaultAzureCredential`` reads in a step): ``GET /msi/token?resource=...
  [&clientid=...]`` with the ``secret`` header, answering a token for that resource; ``400`` when
  ``no_identity`` is set, as a compute without that identity answers.

Why a real vault host name: ``SecretClient`` checks that the challenge's resource
(``vault.azure.net``) is the domain of the vault URL (``verify_challenge_resource``), and no
loopback address ends with ``.vault.azure.net``. So clients are given the real form of URL,
``https://<vault>.vault.azure.net/``, through ``ConnectProxy`` (``HTTPS_PROXY``), which tunnels
every ``CONNECT`` to the fake, whose certificate also names ``*.vault.azure.net``. No DNS, no
``/etc/hosts`` entry, and the SDK's challenge verification stays on.
"""

from __future__ import annotations

import base64
import json
import select
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

VAULT_DOMAIN = "vault.azure.net"
VAULT_RESOURCE = f"https://{VAULT_DOMAIN}"
TENANT_ID = "00000000-0000-0000-0000-000000000000"
TOKEN_PATH = "/msi/token"
#: The ``MSI_SECRET`` the fake's identity endpoint expects (Azure ML sets one per job).
MSI_SECRET = "fake-msi-secret"


@dataclass(frozen=True)
class IssuedToken:
    """A token the identity endpoint handed out: for which resource, and which identity."""

    resource: str
    client_id: str | None


@dataclass
class FakeKeyVault:
    """Secrets of fake vaults, and the tokens handed out to read them.

    Attributes:
        secrets: vault name to secret name to its versions (oldest first), as ``(version, value)``.
        forbidden: ``(vault, secret)`` pairs answered ``403`` (an identity without the role).
        no_identity: the identity endpoint answers ``400`` (no identity assigned to the compute).
        tokens: the tokens handed out, by token.
        token_requests: the query of each request to the identity endpoint.
        secret_requests: ``(vault, path, authorized)`` of each request to a vault.
    """

    secrets: dict[str, dict[str, list[tuple[str, str]]]] = field(default_factory=dict)
    forbidden: set[tuple[str, str]] = field(default_factory=set)
    no_identity: bool = False
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    secret_requests: list[tuple[str, str, bool]] = field(default_factory=list)

    def set_secret(self, vault: str, name: str, value: str) -> str:
        """Add a new version ``value`` of secret ``name`` in ``vault``; the version."""
        version = uuid.uuid4().hex
        self.secrets.setdefault(vault, {}).setdefault(name, []).append((version, value))
        return version

    def forbid(self, vault: str, name: str) -> None:
        """Answer ``403 Forbidden`` to reads of ``name`` in ``vault``."""
        self.forbidden.add((vault, name))

    def serves(self, host: str, path: str) -> bool:
        return host.split(":")[0].lower().endswith(f".{VAULT_DOMAIN}") or path == TOKEN_PATH

    def handle(
        self, host: str, path: str, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if path == TOKEN_PATH:
            return self._token(query, headers)
        return self._secret(
            host.split(":")[0].lower().removesuffix(f".{VAULT_DOMAIN}"), path, headers
        )

    # ------------------------------------------------------------- the identity endpoint

    def _token(
        self, query: dict[str, list[str]], headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        self.token_requests.append(query)
        if headers.get("secret") != MSI_SECRET:
            return 401, {"error": "unauthorized", "error_description": "bad MSI secret"}, {}
        client_id = (query.get("clientid") or query.get("client_id") or [None])[0]
        if self.no_identity:
            return (
                400,
                {
                    "error": "invalid_request",
                    "error_description": "Identity not found: no managed identity is assigned "
                    "to this compute" + (f" with client id {client_id}" if client_id else ""),
                },
                {},
            )
        resource = (query.get("resource") or [""])[0].removesuffix("/.default").rstrip("/")
        expires_on = int(time.time()) + 3600
        token = _jwt({"aud": resource, "appid": client_id or "system", "exp": expires_on})
        self.tokens[token] = IssuedToken(resource=resource, client_id=client_id)
        body = {
            "access_token": token,
            "expires_on": expires_on,
            "resource": resource,
            "token_type": "Bearer",
            "client_id": client_id or "system-assigned",
        }
        return 200, body, {}

    # ------------------------------------------------------------- Key Vault

    def _secret(
        self, vault: str, path: str, headers: dict[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        authorization = headers.get("authorization", "")
        token = authorization.removeprefix("Bearer ").strip()
        issued = self.tokens.get(token)
        authorized = issued is not None and issued.resource == VAULT_RESOURCE
        self.secret_requests.append((vault, path, authorized))
        if not authorized:
            challenge = (
                f'Bearer authorization="https://login.microsoftonline.com/{TENANT_ID}", '
                f'resource="{VAULT_RESOURCE}"'
            )
            message = "AKV10000: Request is missing a Bearer or PoP token."
            return (
                401,
                {"error": {"code": "Unauthorized", "message": message}},
                {"WWW-Authenticate": challenge},
            )
        parts = [part for part in path.strip("/").split("/") if part]
        if len(parts) not in (2, 3) or parts[0] != "secrets":
            return 400, {"error": {"code": "BadParameter", "message": f"not faked: {path}"}}, {}
        name, version = parts[1], (parts[2] if len(parts) == 3 else None)
        if (vault, name) in self.forbidden:
            message = (
                "Caller is not authorized to perform action on resource. If role assignments "
                "were recently changed, please wait several minutes for role assignments to "
                "become effective. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'"
            )
            body = {
                "error": {
                    "code": "Forbidden",
                    "message": message,
                    "innererror": {"code": "ForbiddenByRbac"},
                }
            }
            return 403, body, {}
        versions = self.secrets.get(vault, {}).get(name, [])
        found = [v for v in versions if version in (None, v[0])]
        if not found:
            shown = f"{name}/{version}" if version else name
            message = (
                f"A secret with (name/id) {shown} was not found in this key vault. If you recently "
                "deleted this secret you may be able to recover it using the correct recovery "
                "command."
            )
            return 404, {"error": {"code": "SecretNotFound", "message": message}}, {}
        found_version, value = found[-1]
        now = int(time.time())
        body = {
            "value": value,
            "id": f"https://{vault}.{VAULT_DOMAIN}/secrets/{name}/{found_version}",
            "attributes": {
                "enabled": True,
                "created": now,
                "updated": now,
                "recoveryLevel": "Recoverable+Purgeable",
            },
            "tags": {},
        }
        return 200, body, {}


def _jwt(claims: dict[str, Any]) -> str:
    def segment(data: dict[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    claims = {"iss": f"https://sts.windows.net/{TENANT_ID}/", "tid": TENANT_ID, **claims}
    return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(claims)}.bm90LXNpZ25lZA"


class ConnectProxy:
    """An HTTP proxy on 127.0.0.1 that tunnels every ``CONNECT host:port`` to ``target_port``.

    Clients given ``HTTPS_PROXY=<url>`` reach ``https://<anything>/`` at the fake, keeping the
    host name they asked for in TLS (SNI) and in ``Host``.

    Attributes:
        targets: the ``host:port`` of each ``CONNECT``, in order.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.targets: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def stop(self) -> None:
        self._stopped.set()
        self._listener.close()

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._tunnel, args=(client,), daemon=True).start()

    def _tunnel(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            request_line = head.split(b"\r\n", 1)[0].decode(errors="replace").split()
            if len(request_line) < 2 or request_line[0].upper() != "CONNECT":
                client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                return
            self.targets.append(request_line[1])
            with socket.create_connection(("127.0.0.1", self.target_port)) as upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _pipe(client, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    sockets = [a, b]
    while True:
        readable, _, _ = select.select(sockets, [], [], 30)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (b if sock is a else a).sendall(data)
