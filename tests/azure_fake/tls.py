"""Fixtures that make the Azure SDK trust the loopback fake: import them into a ``conftest.py``."""

from __future__ import annotations

import pytest

from azure_fake.certificate import Certificate, self_signed_certificate
from project_factory import quiet_kedro_env


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return self_signed_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trust_fake(tls_certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> Certificate:
    """Make the Azure SDK (requests) trust the fake's certificate, and keep Kedro quiet."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_certificate.cert_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_certificate.cert_file))
    for name, value in quiet_kedro_env().items():
        monkeypatch.setenv(name, value)
    # MLClient records the cloud it was made for in this process's environment, which the
    # `kedro` subprocesses of later tests would inherit: start from the public cloud, and put
    # the variable back as it was afterwards.
    monkeypatch.setenv("AZUREML_CURRENT_CLOUD", "AzureCloud")
    return tls_certificate
