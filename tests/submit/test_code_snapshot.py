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
