"""``${azureml.keyvault:...}`` in a step: ``kedro azureml execute`` reads catalog credentials from
the loopback Key Vault with the real ``SecretClient`` and ``DefaultAzureCredential``, signing in
with the compute's managed identity as in an Azure ML step."""

from __future__ import annotations

import pickle

import pytest
from key_vault_projects import secret_project

CLIENT_ID = "aaaaaaaa-1111-2222-3333-444444444444"


def _copied(folder):
    with (folder / "data.pickle").open("rb") as stream:
        return pickle.load(stream)


def test_a_step_gets_a_catalog_secret_from_key_vault_with_its_user_assigned_identity(
    tmp_path, vault, key_vault, step_env
):
    vault.set_secret("fakevault", "db-password", "old")
    vault.set_secret("fakevault", "db-password", "s3cret")
    project = secret_project(tmp_path / "p", "${azureml.keyvault:fakevault,db-password}")

    result = project.execute(
        "copy_credentials",
        outputs={"copied": tmp_path / "out"},
        env={**step_env, "AZURE_CLIENT_ID": CLIENT_ID},
    )

    assert result.returncode == 0, result.stderr
    assert _copied(tmp_path / "out") == {"password": "s3cret"}
    # The challenge round trip: the first read has no token and gets Key Vault's 401 challenge,
    # the second carries the token the identity endpoint gave for the challenge's resource.
    assert vault.secret_requests == [
        ("fakevault", "/secrets/db-password/", False),
        ("fakevault", "/secrets/db-password/", True),
    ]
    [token_request] = vault.token_requests
    assert token_request["resource"] == ["https://vault.azure.net"]
    assert token_request["clientid"] == [CLIENT_ID]
    assert key_vault[1].targets == ["fakevault.vault.azure.net:443"]
    assert "s3cret" not in result.stdout + result.stderr


def test_a_vault_url_and_a_secret_version_are_read_as_given(tmp_path, vault, step_env):
    first = vault.set_secret("fakevault", "api-key", "first")
    vault.set_secret("fakevault", "api-key", "second")
    reference = f"${{azureml.keyvault:https://fakevault.vault.azure.net/,api-key,{first}}}"
    project = secret_project(tmp_path / "p", reference)

    result = project.execute("copy_credentials", outputs={"copied": tmp_path / "o"}, env=step_env)

    assert result.returncode == 0, result.stderr
    assert _copied(tmp_path / "o") == {"password": "first"}
    [token_request] = vault.token_requests
    assert "clientid" not in token_request  # no AZURE_CLIENT_ID: the system-assigned identity


def test_a_secret_read_twice_in_one_step_is_fetched_once(tmp_path, vault, step_env):
    vault.set_secret("fakevault", "db-password", "s3cret")
    project = secret_project(tmp_path / "p", "${azureml.keyvault:fakevault,db-password}")
    catalog = (project.path / "conf/base/catalog.yml").read_text()
    (project.path / "conf/base/catalog.yml").write_text(
        catalog.replace(
            '"credentials": {',
            '"credentials": {"again": "${azureml.keyvault:fakevault,db-password}", ',
        )
    )

    result = project.execute("copy_credentials", outputs={"copied": tmp_path / "o"}, env=step_env)

    assert result.returncode == 0, result.stderr
    assert _copied(tmp_path / "o") == {"password": "s3cret", "again": "s3cret"}
    assert [authorized for *_, authorized in vault.secret_requests] == [False, True]


@pytest.mark.parametrize(
    ("situation", "expected"),
    [
        (
            "forbidden",
            "Error: cannot read secret 'db-password' of Key Vault "
            "https://fakevault.vault.azure.net/: forbidden for the identity with client id "
            f"{CLIENT_ID}. Grant it the role 'Key Vault Secrets User' on the vault",
        ),
        (
            "missing",
            "Error: cannot read secret 'db-password' of Key Vault "
            "https://fakevault.vault.azure.net/: the vault has no such secret.",
        ),
        (
            "no_identity",
            "Error: cannot read secret 'db-password' of Key Vault "
            "https://fakevault.vault.azure.net/: no credential signed in (",
        ),
    ],
)
def test_a_secret_that_cannot_be_read_stops_the_step_with_one_line(
    tmp_path, vault, step_env, situation, expected
):
    if situation != "missing":
        vault.set_secret("fakevault", "db-password", "s3cret")
    if situation == "forbidden":
        vault.forbid("fakevault", "db-password")
    vault.no_identity = situation == "no_identity"
    project = secret_project(tmp_path / "p", "${azureml.keyvault:fakevault,db-password}")

    result = project.execute(
        "copy_credentials",
        outputs={"copied": tmp_path / "o"},
        env={**step_env, "AZURE_CLIENT_ID": CLIENT_ID},
    )

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(expected), result.stderr
    assert not (tmp_path / "o" / "data.pickle").exists()


def test_execute_imports_azure_only_to_read_a_secret_and_never_azure_ai_ml(
    tmp_path, vault, step_env
):
    vault.set_secret("fakevault", "db-password", "s3cret")
    with_secret = secret_project(tmp_path / "a", "${azureml.keyvault:fakevault,db-password}")
    without_secret = secret_project(tmp_path / "b", "plain", package="plain_demo")
    imports = {}
    for name, project in (("with", with_secret), ("without", without_secret)):
        result = project.execute(
            "copy_credentials",
            outputs={"copied": tmp_path / name},
            env={**step_env, "PYTHONPROFILEIMPORTTIME": "1"},
        )
        assert result.returncode == 0, result.stderr
        imports[name] = {
            line.rsplit("|", 1)[-1].strip()
            for line in result.stderr.splitlines()
            if line.startswith("import time:")
        }

    assert "azure.keyvault.secrets" in imports["with"]
    assert not {m for m in imports["with"] if m.startswith("azure.ai.ml")}
    assert not {m for m in imports["without"] if m.split(".")[0] == "azure"}
