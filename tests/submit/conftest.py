"""Fixtures of the submit and schedule tests: the fake Azure REST API over HTTPS, Azurite, test
credentials, and real Kedro projects whose ``azureml.yml`` points at the fake.

The unmodified ``MLClient`` reaches the fake through the workspace's ``cloud`` setting (a custom
cloud whose Resource Manager endpoint is ``https://127.0.0.1:<port>/``); it trusts the fake's
self-signed certificate through ``REQUESTS_CA_BUNDLE``.
"""

from __future__ import annotations

import json
import signal
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from azure_fake import tls
from azure_fake.azure_ml_api import FakeAzureML, StorageAccount
from azure_fake.azurite import ACCOUNT_KEY, ACCOUNT_NAME, Azurite, StorageProxy, start_azurite
from azure_fake.certificate import Certificate
from azure_fake.credentials import FakeTokenCredential
from azure_fake.projects import (
    RESOURCE_GROUP,
    SETTINGS,
    SUBSCRIPTION,
    WORKSPACE,
    AzureProject,
    azureml_config,
    spaceflights_nodes,
)
from project_factory import KedroProject

# The fixtures that make the Azure SDK trust the fake, shared with the other suites.
tls_certificate = tls.tls_certificate
trust_fake = tls.trust_fake


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """Azurite's blob service for the session; the tests fail (never skip) without it."""
    try:
        process = start_azurite(tmp_path_factory.mktemp("azurite"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield process
    process.stop()


@pytest.fixture
def fake_azure(trust_fake: Certificate, azurite: Azurite) -> Iterator[FakeAzureML]:
    """The fake Azure REST API with workspace ``ws-demo``, its blob store a fresh container in
    Azurite, and environment ``kedro-env`` (version 3)."""
    yield from _fake_azure(trust_fake, azurite, azurite.blob_endpoint)


@pytest.fixture
def storage_proxy(azurite: Azurite) -> Iterator[StorageProxy]:
    """A TCP proxy in front of Azurite that a test switches to resetting, hanging or down."""
    proxy = StorageProxy(azurite.port)
    yield proxy
    proxy.stop()


@pytest.fixture
def fake_azure_behind_proxy(
    trust_fake: Certificate, azurite: Azurite, storage_proxy: StorageProxy
) -> Iterator[FakeAzureML]:
    """``fake_azure``, whose storage account is reached through ``storage_proxy``."""
    yield from _fake_azure(trust_fake, azurite, storage_proxy.blob_endpoint)


def _fake_azure(
    trust_fake: Certificate, azurite: Azurite, blob_endpoint: str
) -> Iterator[FakeAzureML]:
    storage = StorageAccount(
        blob_endpoint=blob_endpoint,
        account_name=ACCOUNT_NAME,
        account_key=ACCOUNT_KEY,
        container=f"azureml-blobstore-{uuid.uuid4().hex[:12]}",
    )
    azurite.create_container(storage.container)
    fake = FakeAzureML(
        trust_fake, storage=storage, workspaces=((SUBSCRIPTION, RESOURCE_GROUP, WORKSPACE),)
    )
    fake.add_environment("kedro-env", "3", image="myregistry.azurecr.io/kedro-env:3")
    with fake:
        yield fake
    azurite.delete_container(storage.container)


@pytest.fixture
def credential() -> FakeTokenCredential:
    return FakeTokenCredential()


@pytest.fixture
def azure_project(
    make_project: Callable[..., KedroProject], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., AzureProject]:
    """Write a spaceflights-like project (4 nodes) whose ``azureml.yml`` points at ``endpoint``,
    bootstrap it in this process and open it. Each project gets its own package name, so Kedro's
    module caches never mix two projects."""
    from kedro.framework.startup import bootstrap_project

    from kedro_azureml_deploy.project import open_project

    def make(
        endpoint: str,
        jobs: dict[str, Any] | None = None,
        *,
        extra_files: dict[str, str] | None = None,
        env: str = "base",
        **sections: Any,
    ) -> AzureProject:
        nodes, catalog = spaceflights_nodes()
        config = azureml_config(
            endpoint, jobs or {"train": {"experiment_name": "demo"}}, **sections
        )
        files = make_project(
            package=f"submit_{uuid.uuid4().hex[:10]}",
            settings=SETTINGS,
            nodes=nodes,
            catalog=catalog,
            extra_files={
                "conf/base/azureml.yml": json.dumps(config, indent=2),
                **(extra_files or {}),
            },
        )
        monkeypatch.chdir(files.path)
        bootstrap_project(files.path)
        return AzureProject(files=files, project=open_project(files.path, env=env))

    return make


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Ctrl+C (SIGINT) raises ``KeyboardInterrupt`` in this process, as in a terminal.

    A process started in the background by a shell without job control (``cmd &`` in a script,
    some CI runners) inherits SIGINT ignored, and Python then installs no handler for it: a test
    that sends itself SIGINT would wait for the hang to end instead of being interrupted.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
