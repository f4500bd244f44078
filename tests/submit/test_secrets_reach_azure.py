"""Nothing secret, and nothing outside the project, reaches Azure: real submissions with the real
``MLClient`` through the fake Azure REST API, then what landed in Azurite is read back.

The keys planted here are built at run time, so no secret-looking text is committed.
"""

from __future__ import annotations

import pytest

from kedro_azureml_deploy.azure.submission import submit_job
from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.errors import KedroAzureMLError

AWS_KEY_ID = "AKIA" + "Q3RZ7XWN4M2KTB5P"
PRIVATE_KEY = "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3Blbn" + "NzaC1rZXktdjEAAAAA\n"


def uploaded(azurite, fake) -> dict[str, bytes]:
    """Each uploaded file, relative to the snapshot folder (``LocalUpload/<id>/<folder>/...``),
    with its content as Azurite holds it."""
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = client.get_container_client(fake.storage.container)
    return {
        name.split("/", 3)[3]: container.download_blob(name).readall()
        for name in azurite.blob_names(fake.storage.container)
    }


@pytest.mark.slow
def test_key_folders_token_caches_and_key_files_never_reach_azure_whatever_amlignore_says(
    fake_azure, azure_project, credential, azurite
):
    keys = {
        ".ssh/id_ed25519": PRIVATE_KEY,
        ".azure/msal_token_cache.json": '{"AccessToken": {}}',
        ".aws/credentials": "[default]\n",
        "id_rsa": PRIVATE_KEY,
        "server.pem": PRIVATE_KEY,
        "certs/client.pfx": "x",
        ".netrc": "machine example.com",
    }
    amlignore = "".join(f"!{name}\n" for name in keys) + "!.ssh/\n!.azure/\n"
    created = azure_project(fake_azure.base_url, extra_files={**keys, ".amlignore": amlignore})

    submit_job(created.project, "train", CompileOptions(), credential=credential)

    files = uploaded(azurite, fake_azure)
    assert "pyproject.toml" in files
    assert not set(keys) & set(files)
    assert not [name for name in files if name.startswith((".ssh/", ".azure/", ".aws/"))]
    assert not [content for content in files.values() if b"PRIVATE KEY" in content]


@pytest.mark.slow
def test_a_secret_in_tracked_code_stops_the_submission_before_anything_is_uploaded(
    fake_azure, azure_project, credential, azurite
):
    created = azure_project(fake_azure.base_url)
    nodes = created.path / "src" / created.files.package / "pipelines" / "nodes.py"
    nodes.write_text(nodes.read_text() + f"\nAWS_KEY_ID = {AWS_KEY_ID!r}\n")
    line = nodes.read_text().count("\n")

    with pytest.raises(KedroAzureMLError) as error:
        submit_job(created.project, "train", CompileOptions(), credential=credential)

    message = str(error.value)
    assert f"error: src/{created.files.package}/pipelines/nodes.py:{line}: " in message
    assert "AWS Access Key" in message and "# pragma: allowlist secret" in message
    assert azurite.blob_names(fake_azure.storage.container) == []
    assert fake_azure.requests_to("PUT", r"/jobs/") == []


@pytest.mark.slow
def test_an_allowlisted_false_positive_is_uploaded(fake_azure, azure_project, credential, azurite):
    example = f"EXAMPLE_KEY_ID = {AWS_KEY_ID!r}  # pragma: allowlist secret\n"
    created = azure_project(fake_azure.base_url, extra_files={"docs_example.py": example})

    submit_job(created.project, "train", CompileOptions(), credential=credential)

    assert uploaded(azurite, fake_azure)["docs_example.py"] == example.encode()


@pytest.mark.slow
def test_links_out_of_the_project_never_reach_azure_and_loops_do_not_stop_a_submission(
    fake_azure, azure_project, credential, azurite, tmp_path_factory
):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "passwd").write_text("root:x:0:0:outside the project\n")
    (outside / "shared").mkdir()
    (outside / "shared" / "lib.py").write_text("OUTSIDE = True\n")
    created = azure_project(fake_azure.base_url, extra_files={"shared/util.py": "INSIDE = 1\n"})
    src = created.path / "src"
    (src / "passwd").symlink_to(outside / "passwd")
    (src / "shared").symlink_to(outside / "shared", target_is_directory=True)
    (src / "loop").symlink_to("..", target_is_directory=True)
    (src / "dangling.py").symlink_to(created.path / "nowhere.py")
    (src / "util.py").symlink_to(created.path / "shared" / "util.py")

    submit_job(created.project, "train", CompileOptions(), credential=credential)

    files = uploaded(azurite, fake_azure)
    assert files["src/util.py"] == b"INSIDE = 1\n", "a link inside ships as its file's content"
    assert not [name for name in files if name.startswith(("src/passwd", "src/shared", "src/loop"))]
    assert "src/dangling.py" not in files
    assert not [content for content in files.values() if b"outside the project" in content]
    assert not [content for content in files.values() if b"OUTSIDE" in content]
