"""The code snapshot a submission uploads, worked out on disk (no Azure involved)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from kedro_azureml_deploy.azure.code_upload import pipeline_job_with_snapshot
from kedro_azureml_deploy.errors import SubmitError
from kedro_azureml_deploy.snapshot.code_snapshot import code_snapshot


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


def names(snapshot) -> set[str]:
    return {str(path) for path in snapshot.files}


PROJECT = {
    "pyproject.toml": "[project]\n",
    "src/pkg/__init__.py": "",
    "src/pkg/data/__init__.py": "# a subpackage called data is code",
    "conf/base/catalog.yml": "{}",
    "conf/local/credentials.yml": "secret: 1",
    "conf/base/credentials.yml": "secret: 1",
    "conf/prod/credentials_azure.yaml": "secret: 1",
    ".env": "A=1",
    "src/.env.local": "A=1",
    "data/01_raw/x.csv": "1",
    ".venv/bin/python": "",
    ".git/HEAD": "ref",
    ".azureml-local/runs/1/run.json": "{}",
    "notebooks/a.ipynb": "{}",
    "debug.log": "",
}


def test_without_ignore_file_only_secrets_data_and_tooling_folders_are_left_out(tmp_path):
    snapshot = code_snapshot(write(tmp_path, PROJECT))

    assert names(snapshot) == {
        "pyproject.toml",
        "src/pkg/__init__.py",
        "src/pkg/data/__init__.py",
        "conf/base/catalog.yml",
        "notebooks/a.ipynb",
        "debug.log",
    }
    assert snapshot.ignore_file is None
    assert set(snapshot.left_out) == {
        "conf/local/",
        "data/",
        ".venv/",
        ".git/",
        ".azureml-local/",
        "conf/base/credentials.yml",
        "conf/prod/credentials_azure.yaml",
        ".env",
        "src/.env.local",
    }


def test_gitignore_applies_and_cannot_bring_secrets_back(tmp_path):
    write(tmp_path, {**PROJECT, ".gitignore": "notebooks/\n*.log\n!conf/local/\n!.env\n"})

    snapshot = code_snapshot(tmp_path)

    assert names(snapshot) == {
        ".gitignore",
        "pyproject.toml",
        "src/pkg/__init__.py",
        "src/pkg/data/__init__.py",
        "conf/base/catalog.yml",
    }
    assert snapshot.ignore_file == (tmp_path / ".gitignore").resolve()


def test_amlignore_wins_over_gitignore(tmp_path):
    write(tmp_path, {**PROJECT, ".gitignore": "src/\n", ".amlignore": "*.log\n"})

    snapshot = code_snapshot(tmp_path)

    assert "src/pkg/__init__.py" in names(snapshot)
    assert "debug.log" not in names(snapshot)
    assert snapshot.ignore_file == (tmp_path / ".amlignore").resolve()


def test_listing_matches_azure_ai_ml_own_upload_listing(tmp_path):
    from azure.ai.ml._utils._asset_utils import get_ignore_file, get_upload_files_from_folder

    files = {
        name: content
        for name, content in PROJECT.items()
        if not name.startswith(("conf/local", "data/", ".venv", ".git", ".azureml-local"))
        and "credentials" not in name
        and ".env" not in name
    }
    write(tmp_path, {**files, ".gitignore": "*.log\nnotebooks/\n# comment\n/src/pkg/data/\n"})

    ours = names(code_snapshot(tmp_path))
    theirs = {
        remote
        for _, remote in get_upload_files_from_folder(
            tmp_path, ignore_file=get_ignore_file(tmp_path)
        )
    }

    assert ours == theirs


def test_code_directory_is_relative_to_the_project_and_root_rules_stay_at_the_root(tmp_path):
    write(tmp_path, {**PROJECT, "src/data/keep.py": ""})

    snapshot = code_snapshot(tmp_path, "src")

    assert names(snapshot) == {"pkg/__init__.py", "pkg/data/__init__.py", "data/keep.py"}
    assert snapshot.left_out == (".env.local",)


def test_nothing_left_to_upload_is_an_error(tmp_path):
    write(tmp_path, {".env": "A=1", "data/x.csv": "1"})

    with pytest.raises(SubmitError, match="no file left to upload"):
        code_snapshot(tmp_path)


def test_missing_code_directory_is_an_error(tmp_path):
    with pytest.raises(SubmitError, match=r"execution\.code_directory"):
        code_snapshot(tmp_path, "nowhere")


def test_pipeline_job_steps_point_at_a_temporary_copy_of_the_snapshot(tmp_path):
    from kedro_azureml_deploy.compiler import CompiledJob

    write(tmp_path, PROJECT)
    spec = {
        "$schema": "https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json",
        "type": "pipeline",
        "experiment_name": "demo",
        "settings": {"default_compute": "azureml:cpu"},
        "jobs": {
            "a": {
                "type": "command",
                "command": "echo a",
                "code": ".",
                "environment": {"image": "python:3.11"},
            }
        },
    }
    compiled = CompiledJob(name="demo", spec=spec, steps=(), crossings=(), code_directory=".")

    with pipeline_job_with_snapshot(compiled, tmp_path) as (job, snapshot):
        code = Path(job.jobs["a"]._base_path, job.jobs["a"].code)  # where azure-ai-ml uploads from
        assert code.is_dir() and code.resolve() != tmp_path.resolve()
        copied = {
            PurePosixPath(p.relative_to(code).as_posix()) for p in code.rglob("*") if p.is_file()
        }
        assert copied == set(snapshot.files)
    assert not code.exists(), "the temporary snapshot is removed afterwards"
    assert spec["jobs"]["a"]["code"] == ".", "the compiled job is left as it was"


def test_a_virtual_environment_under_any_name_is_never_walked(tmp_path):
    files = {
        **PROJECT,
        ".venv-step/pyvenv.cfg": "home = /usr/bin\n",
        ".venv-step/lib/python3.11/site-packages/kedro/__init__.py": "",
        "tools/env/pyvenv.cfg": "home = /usr/bin\n",
    }

    snapshot = code_snapshot(write(tmp_path, files))

    assert not any(name.startswith((".venv-step/", "tools/env/")) for name in names(snapshot))
    assert {".venv-step/", "tools/env/"} <= set(snapshot.left_out)


# Secrets and keys. Fake keys are built at run time, so no secret-looking text is committed.
AWS_KEY_ID = "AKIA" + "Q3RZ7XWN4M2KTB5P"
PRIVATE_KEY = "-----BEGIN " + "OPENSSH PRIVATE KEY-----\nb3Blbn" + "NzaC1rZXktdjEAAAAA\n"
KEY_FILES = {
    ".ssh/id_ed25519": PRIVATE_KEY,
    "src/.ssh/known_hosts": "host",
    ".azure/msal_token_cache.json": "{}",
    ".aws/credentials": "[default]\n",
    "id_rsa": PRIVATE_KEY,
    "deploy/id_rsa.pub": "ssh-rsa AAAA",
    "src/server.pem": PRIVATE_KEY,
    "certs/Client.PFX": "x",
    "certs/signing.key": "x",
    "certs/bundle.p12": "x",
    ".netrc": "machine example.com",
    ".envrc": "export A=1",
}


def test_key_folders_token_caches_and_key_files_are_never_uploaded_whatever_amlignore_says(
    tmp_path,
):
    negations = "".join(f"!{name}\n" for name in KEY_FILES) + "!.ssh/\n!.azure/\n!.aws/\n"
    write(tmp_path, {**KEY_FILES, "src/pkg/__init__.py": "", ".amlignore": negations})

    snapshot = code_snapshot(tmp_path)

    assert names(snapshot) == {".amlignore", "src/pkg/__init__.py"}
    assert {".ssh/", "src/.ssh/", ".azure/", ".aws/", "certs/Client.PFX", ".netrc"} <= set(
        snapshot.left_out
    )
    assert "never uploaded: " in snapshot.describe()


def test_a_secret_in_a_tracked_python_file_is_found_by_content_with_its_line(tmp_path):
    write(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/settings_extra.py": f"REGION = 'eu'\nAWS_KEY = {AWS_KEY_ID!r}\n",
            "conf/base/secrets.yml": "note: nothing secret\n",
        },
    )

    scan = code_snapshot(tmp_path).secrets

    assert [(str(s.path), s.line, s.kind) for s in scan.secrets] == [
        ("src/pkg/settings_extra.py", 2, "AWS Access Key")
    ]
    assert scan.scanned == 3


def test_allowlist_pragma_lets_a_false_positive_through(tmp_path):
    line = f"AWS_KEY = {AWS_KEY_ID!r}  # pragma: allowlist secret\n"
    write(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/example.py": line})

    assert code_snapshot(tmp_path).secrets.secrets == ()


def test_secrets_baseline_at_the_project_root_lets_known_results_through_but_not_new_ones(
    tmp_path, monkeypatch
):
    import json

    from detect_secrets import SecretsCollection
    from detect_secrets.core.baseline import format_for_output
    from detect_secrets.settings import default_settings

    write(tmp_path, {"src/pkg/__init__.py": "", "src/pkg/known.py": f"KEY = {AWS_KEY_ID!r}\n"})
    with default_settings():  # what `detect-secrets scan > .secrets.baseline` writes
        known = SecretsCollection(root=str(tmp_path))
        known.scan_file("src/pkg/known.py")
        (tmp_path / ".secrets.baseline").write_text(json.dumps(format_for_output(known)))
    assert code_snapshot(tmp_path).secrets.secrets == ()

    new_key = "AKIA" + "M7PW2XQ9RT4KZB6N"
    write(tmp_path, {"src/pkg/new.py": f"KEY = {new_key!r}\n"})
    scan = code_snapshot(tmp_path).secrets

    assert [str(s.path) for s in scan.secrets] == ["src/pkg/new.py"]
    assert scan.baseline == tmp_path.resolve() / ".secrets.baseline"


def test_a_broken_secrets_baseline_is_reported(tmp_path):
    write(tmp_path, {"src/pkg/__init__.py": "", ".secrets.baseline": "{not json"})

    assert code_snapshot(tmp_path).secrets.baseline_problem is not None


def test_binary_files_are_skipped_and_large_files_are_listed_unscanned(tmp_path):
    from kedro_azureml_deploy.snapshot.secret_scan import MAX_SCANNED_BYTES

    write(tmp_path, {"src/pkg/__init__.py": ""})
    (tmp_path / "model.bin").write_bytes(b"\0\1" + AWS_KEY_ID.encode())
    (tmp_path / "big.txt").write_text(AWS_KEY_ID + "\n" + "x" * MAX_SCANNED_BYTES)

    scan = code_snapshot(tmp_path).secrets

    assert scan.secrets == ()
    assert [str(path) for path in scan.not_scanned] == ["big.txt"]
    assert scan.scanned == 1


# Symbolic links: the snapshot never leaves the project, and never loops.


def test_links_out_of_the_project_are_left_out_and_reported_with_their_target(tmp_path):
    outside = write(tmp_path / "outside", {"passwd": "root:x:0:0", "shared/lib.py": "x"})
    project = write(tmp_path / "project", {"src/pkg/__init__.py": ""})
    (project / "src" / "passwd").symlink_to(outside / "passwd")
    (project / "src" / "shared").symlink_to(outside / "shared", target_is_directory=True)
    (project / "src" / "gone.py").symlink_to(project / "nowhere.py")

    snapshot = code_snapshot(project)

    assert names(snapshot) == {"src/pkg/__init__.py"}
    assert dict(snapshot.links_out) == {
        "src/passwd": str(outside / "passwd"),
        "src/shared": str(outside / "shared"),
        "src/gone.py": str(project / "nowhere.py"),
    }
    assert {"src/passwd", "src/shared", "src/gone.py"} <= set(snapshot.left_out)


def test_a_link_loop_is_left_out_without_crashing(tmp_path):
    project = write(tmp_path, {"src/pkg/__init__.py": ""})
    (project / "src" / "loop").symlink_to("..", target_is_directory=True)
    (project / "src" / "self").symlink_to("self")

    snapshot = code_snapshot(project)

    assert names(snapshot) == {"src/pkg/__init__.py"}
    assert "src/loop/" in snapshot.left_out
    assert ("src/self", "self") in snapshot.links_out


def test_a_link_to_a_file_inside_is_uploaded_as_the_content_of_that_file(tmp_path):
    project = write(tmp_path / "project", {"src/pkg/__init__.py": "", "shared/util.py": "X = 1"})
    (project / "src" / "pkg" / "util.py").symlink_to(project / "shared" / "util.py")

    snapshot = code_snapshot(project)
    copy = snapshot.copy_to(tmp_path / "copy")

    assert "src/pkg/util.py" in names(snapshot)
    assert not (copy / "src/pkg/util.py").is_symlink()
    assert (copy / "src/pkg/util.py").read_text() == "X = 1"


def test_a_linked_folder_is_walked_once_only_when_it_brings_a_folder_the_snapshot_lacks(tmp_path):
    project = write(tmp_path, {"src/pkg/__init__.py": "", "conf/base/catalog.yml": "{}"})
    (project / "src" / "conf").symlink_to(project / "conf", target_is_directory=True)
    (project / "src" / "again").symlink_to(project / "src" / "pkg", target_is_directory=True)

    snapshot = code_snapshot(project, "src")

    assert names(snapshot) == {"pkg/__init__.py", "conf/base/catalog.yml"}
    assert "again/" in snapshot.left_out, "src/pkg is in the snapshot already"


def test_a_link_to_a_secret_inside_the_project_is_left_out_like_the_secret(tmp_path):
    project = write(
        tmp_path,
        {"src/pkg/__init__.py": "", "conf/local/credentials.yml": "a: 1", ".ssh/id_ed25519": "k"},
    )
    (project / "src" / "creds.yml").symlink_to(project / "conf/local/credentials.yml")
    (project / "src" / "keys").symlink_to(project / ".ssh", target_is_directory=True)
    (project / "src" / "key.txt").symlink_to(project / ".ssh/id_ed25519")

    snapshot = code_snapshot(project)

    assert names(snapshot) == {"src/pkg/__init__.py"}
    assert {"src/creds.yml", "src/keys/", "src/key.txt"} <= set(snapshot.left_out)
    assert snapshot.links_out == ()


def test_a_secrets_baseline_naming_an_unknown_plugin_is_reported_and_the_defaults_still_scan(
    tmp_path,
):
    import json

    baseline = {"plugins_used": [{"name": "NoSuchDetector"}], "results": {}}
    write(
        tmp_path,
        {
            "src/pkg/__init__.py": f"KEY = {AWS_KEY_ID!r}\n",
            ".secrets.baseline": json.dumps(baseline),
        },
    )

    scan = code_snapshot(tmp_path).secrets

    assert scan.baseline_problem is not None
    assert [str(s.path) for s in scan.secrets] == ["src/pkg/__init__.py"]
