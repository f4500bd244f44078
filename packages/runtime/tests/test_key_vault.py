"""The ``azureml.keyvault`` resolver where a step runs without the ``keyvault`` extra, and its
arguments. Reading secrets through the real SDK is tested against the loopback Key Vault in
``tests/keyvault``."""

from __future__ import annotations

import pytest
from key_vault_projects import secret_project

from kedro_azureml_runtime.errors import KeyVaultError
from kedro_azureml_runtime.key_vault import (
    key_vault_secret,
    placeholder,
    secrets_left_unread,
    vault_url,
)


def test_a_step_without_the_extra_says_to_install_it_in_one_line(tmp_path):
    project = secret_project(tmp_path / "p", "${azureml.keyvault:my-vault,db-password}")

    result = project.execute("copy_credentials", outputs={"copied": tmp_path / "o"})

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: reading secret 'db-password' of Key Vault https://my-vault.vault.azure.net/ needs "
        "azure-identity and azure-keyvault-secrets (azure is missing): add "
        "kedro-azureml-runtime[keyvault] to the project's dependencies (the step image installs "
        "them too)."
    )


def test_a_step_whose_config_uses_no_secret_runs_without_the_extra(tmp_path):
    project = secret_project(tmp_path / "p", "not-a-secret")

    result = project.execute("copy_credentials", outputs={"copied": tmp_path / "o"})

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("vault", "url"),
    [
        ("my-vault", "https://my-vault.vault.azure.net/"),
        ("My-Vault", "https://my-vault.vault.azure.net/"),
        ("https://kv1.vault.azure.cn", "https://kv1.vault.azure.cn/"),
        ("https://kv1.vault.usgovcloudapi.net/", "https://kv1.vault.usgovcloudapi.net/"),
    ],
)
def test_a_vault_is_given_by_name_in_the_public_cloud_or_by_url(vault, url):
    assert vault_url(vault) == url


@pytest.mark.parametrize("vault", ["kv", "my_vault", "1vault", "a--b", "http://kv.example", ""])
def test_a_vault_that_is_neither_a_name_nor_an_https_url_is_refused(vault):
    with pytest.raises(KeyVaultError, match="is neither a Key Vault name"):
        vault_url(vault)


def test_a_secret_name_with_other_characters_is_refused_before_any_read():
    with pytest.raises(KeyVaultError, match="is not a Key Vault secret name"):
        key_vault_secret("my-vault", "db_password")


def test_inside_secrets_left_unread_the_resolver_answers_a_placeholder_without_reading():
    with secrets_left_unread():
        value = key_vault_secret("my-vault", "db-password", "v1")

    assert value == placeholder("https://my-vault.vault.azure.net/", "db-password", "v1")
    assert value == "<Key Vault secret db-password/v1 of https://my-vault.vault.azure.net/>"
    with pytest.raises(KeyVaultError, match="needs azure-identity"):  # outside, it reads
        key_vault_secret("my-vault", "db-password")
