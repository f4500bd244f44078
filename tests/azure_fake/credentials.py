"""Token credentials for tests: one that always signs in, one that never can."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError


def _segment(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class FakeTokenCredential:
    """Hands out unsigned JWTs whose ``aud`` is the resource of the requested scope.

    azure-ai-ml decodes the token it sends with a pipeline job and checks that ``aud`` is the
    cloud's Azure ML resource id (``https://ml.azure.com`` in the public cloud; the custom
    endpoint in the tests): deriving ``aud`` from the scope satisfies that for every cloud.

    Args:
        on_token: called with the scope of each token asked for, before it is handed out (a
            test records there what had happened by then).

    Attributes:
        scopes: every scope a token was asked for, in order.
    """

    def __init__(self, on_token: Callable[[str], None] | None = None) -> None:
        self.scopes: list[str] = []
        self.on_token = on_token

    def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        self.scopes.extend(scopes)
        if self.on_token is not None:
            for scope in scopes:
                self.on_token(scope)
        audience = scopes[0].removesuffix("/.default").removesuffix("/") if scopes else ""
        expires_on = int(time.time()) + 24 * 3600
        claims = {
            "aud": audience,
            "iss": "https://sts.windows.net/00000000-0000-0000-0000-000000000000/",
            "oid": "11111111-1111-1111-1111-111111111111",
            "tid": "00000000-0000-0000-0000-000000000000",
            "upn": "tester@example.com",
            "exp": expires_on,
        }
        signature = base64.urlsafe_b64encode(b"not-signed").rstrip(b"=").decode()
        token = f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims)}.{signature}"
        return AccessToken(token, expires_on)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessTokenInfo

        token = self.get_token(*scopes, **kwargs)
        return AccessTokenInfo(token.token, token.expires_on)


class FailingCredential:
    """A credential that cannot sign in, as ``DefaultAzureCredential`` without any sign-in."""

    def __init__(self) -> None:
        self.calls = 0

    def get_token(self, *_scopes: str, **_kwargs: Any) -> AccessToken:
        self.calls += 1
        raise ClientAuthenticationError(
            "DefaultAzureCredential failed to retrieve a token from the included credentials."
        )

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        return self.get_token(*scopes, **kwargs)
