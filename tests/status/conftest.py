"""Fixtures of the status and logs tests: the fake Azure REST API over HTTPS holding a pipeline
job with child jobs and logs, and the real ``MLClient`` of its workspace. No storage is needed:
nothing is uploaded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from azure_fake import tls
from azure_fake.azure_ml_api import FakeAzureML
from azure_fake.certificate import Certificate
from azure_fake.credentials import FakeTokenCredential
from azure_fake.projects import RESOURCE_GROUP, SUBSCRIPTION, WORKSPACE
from kedro_azureml_deploy.azure.clients import workspace_client
from kedro_azureml_deploy.azure.workspace_target import WorkspaceTarget
from kedro_azureml_deploy.config.workspace import WorkspaceConfig

# The fixtures that make the Azure SDK trust the fake, shared with the other suites.
tls_certificate = tls.tls_certificate
trust_fake = tls.trust_fake


@pytest.fixture
def fake_azure(trust_fake: Certificate) -> Iterator[FakeAzureML]:
    fake = FakeAzureML(trust_fake, workspaces=((SUBSCRIPTION, RESOURCE_GROUP, WORKSPACE),))
    with fake:
        yield fake


@pytest.fixture
def target(fake_azure: FakeAzureML) -> WorkspaceTarget:
    config = WorkspaceConfig(
        subscription_id=SUBSCRIPTION,
        resource_group=RESOURCE_GROUP,
        name=WORKSPACE,
        cloud={"resource_manager_endpoint": fake_azure.base_url},
    )
    return WorkspaceTarget(entry="__default__", config=config)


@pytest.fixture
def ml_client(target: WorkspaceTarget):
    return workspace_client(target, FakeTokenCredential())
