"""Fixtures of the Key Vault tests: the fake vault and identity endpoint, and a step's environment
that reaches them as an Azure ML step reaches Key Vault. Import them into a ``conftest.py``
(with ``tls_certificate`` and ``trust_fake`` of ``tls.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from azure_fake.azure_ml_api import FakeAzureML
from azure_fake.certificate import Certificate
from azure_fake.key_vault import MSI_SECRET, TOKEN_PATH, ConnectProxy, FakeKeyVault


@pytest.fixture
def key_vault(trust_fake: Certificate) -> Iterator[tuple[FakeAzureML, ConnectProxy]]:
    """The fake Key Vault and identity endpoint, served by ``FakeAzureML``, with the proxy that
    takes ``https://<vault>.vault.azure.net`` to it."""
    fake = FakeAzureML(trust_fake, key_vault=FakeKeyVault())
    with fake:
        proxy = ConnectProxy(fake.port)
        try:
            yield fake, proxy
        finally:
            proxy.stop()


@pytest.fixture
def vault(key_vault: tuple[FakeAzureML, ConnectProxy]) -> FakeKeyVault:
    assert key_vault[0].key_vault is not None
    return key_vault[0].key_vault


@pytest.fixture
def step_env(
    key_vault: tuple[FakeAzureML, ConnectProxy], trust_fake: Certificate
) -> dict[str, str]:
    """What an Azure ML step with a managed identity has: ``MSI_ENDPOINT`` and ``MSI_SECRET``
    (azure-identity's Azure ML source), and here the proxy to the fake vault and its CA."""
    fake, proxy = key_vault
    return {
        "MSI_ENDPOINT": f"{fake.base_url.rstrip('/')}{TOKEN_PATH}",
        "MSI_SECRET": MSI_SECRET,
        "HTTPS_PROXY": proxy.url,
        "NO_PROXY": "127.0.0.1,localhost",
        "REQUESTS_CA_BUNDLE": str(trust_fake.cert_file),
        "SSL_CERT_FILE": str(trust_fake.cert_file),
    }
