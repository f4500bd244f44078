"""`kedro azureml init`: an existing Kedro project adopts the template's Azure ML layer.

Each test runs the real command in a real Kedro project (the test factory's), rendering the
template of this checkout from its scratch git repository (``template_repo``, tagged as the
current release, which is the release ``init`` asks for by default).
"""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from template_testing import commit_all, git

from kedro_azureml_deploy.config import parse_config
from project_factory import KedroProject, NodeSpec, quiet_kedro_env

ADOPTED_FILES = [
    ".amlignore",
    ".copier-answers.yml",
    ".dockerignore",
    "Dockerfile",
    "azureml.schema.json",
    "conf/base/azureml.yml",
]


@pytest.fixture
def project(make_project) -> KedroProject:
    """A project that has never heard of Azure ML."""
    return make_project(nodes=[NodeSpec("double", "add_one", ["seed"], ["doubled"])])


def init(project: KedroProject, template: Path, *args: str):
    return project.kedro("azureml", "init", "--template", str(template), *args)


def project_files(project: KedroProject) -> dict[str, bytes]:
    return {
        path.relative_to(project.path).as_posix(): path.read_bytes()
        for path in sorted(project.path.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_init_adds_the_azure_ml_layer_and_nothing_else(project, template_repo):
    before = project_files(project)

    result = init(project, template_repo)

    assert result.returncode == 0, result.stderr
    after = project_files(project)
    assert sorted(set(after) - set(before)) == ADOPTED_FILES
    assert {path: after[path] for path in before} == before  # nothing of the project changed
    for path in ADOPTED_FILES:
        assert f"added       {path}" in result.stdout
    # the config is shared (conf/base), valid, and has the default job
    config = parse_config(yaml.safe_load((project.path / "conf/base/azureml.yml").read_text()))
    assert config.job("default")[0] == "default"
    # .amlignore is not empty: it keeps secrets, local config and data out of uploads
    amlignore = (project.path / ".amlignore").read_text().splitlines()
    assert {"conf/local/", "conf/**/*credentials*", ".env", "data/"} <= set(amlignore)
    # the answers file lets `copier update` find the template, release and answers later
    answers = yaml.safe_load((project.path / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(template_repo)
    assert answers["_commit"].startswith("v")
    assert answers["adopt"] is True
    assert answers["package_name"] == project.package
    assert answers["kedro_init_version"] == "1.0.0"
    assert "kedro azureml doctor -j default" in result.stdout


def test_init_keeps_the_projects_own_files_unless_forced(project, template_repo):
    (project.path / "Dockerfile").write_text("FROM python:3.11\n# ours\n")

    kept = init(project, template_repo)

    assert kept.returncode == 0, kept.stderr
    assert (project.path / "Dockerfile").read_text() == "FROM python:3.11\n# ours\n"
    assert "kept yours  Dockerfile" in kept.stdout
    assert "--force replaces them" in kept.stdout

    (project.path / ".copier-answers.yml").unlink()
    forced = init(project, template_repo, "--force")

    assert forced.returncode == 0, forced.stderr
    assert "replaced    Dockerfile" in forced.stdout
    assert "kedro azureml execute" in (project.path / "Dockerfile").read_text()
    assert (project.path / "Dockerfile.orig").read_text() == "FROM python:3.11\n# ours\n"

    (project.path / "Dockerfile").write_text("FROM python:3.12\n")  # edited after adoption
    again = init(project, template_repo, "--force")

    assert "(yours saved as Dockerfile.orig.2)" in again.stdout
    assert (project.path / "Dockerfile.orig").read_text() == "FROM python:3.11\n# ours\n"
    assert (project.path / "Dockerfile.orig.2").read_text() == "FROM python:3.12\n"


def test_on_a_terminal_init_asks_before_replacing_each_file(project, template_repo):
    (project.path / "Dockerfile").write_text("FROM python:3.11\n# ours\n")
    (project.path / ".dockerignore").write_text("data\n")
    terminal, stdin = pty.openpty()
    command = [sys.executable, "-m", "kedro", "azureml", "init", "--template", str(template_repo)]
    process = subprocess.Popen(
        command,
        cwd=project.path,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **quiet_kedro_env()},
        text=True,
    )
    os.close(stdin)
    try:
        os.write(terminal, b"y\nn\n")  # asked in file order: .dockerignore, then Dockerfile
        stdout, stderr = process.communicate(timeout=300)
    finally:
        os.close(terminal)

    assert process.returncode == 0, stderr
    assert ".dockerignore exists and differs from the template's. Replace it?" in stdout
    assert "Dockerfile exists and differs from the template's. Replace it?" in stdout
    assert "replaced    .dockerignore" in stdout and "kept yours  Dockerfile" in stdout
    assert (project.path / ".dockerignore.orig").read_text() == "data\n"
    assert (project.path / "Dockerfile").read_text() == "FROM python:3.11\n# ours\n"


def test_dry_run_writes_nothing(project, template_repo):
    before = project_files(project)

    result = init(project, template_repo, "--dry-run")

    assert result.returncode == 0, result.stderr
    assert "Would adopt" in result.stdout and "added       Dockerfile" in result.stdout
    assert project_files(project) == before


def test_a_project_the_template_already_manages_is_refused(project, template_repo):
    assert init(project, template_repo).returncode == 0
    before = project_files(project)

    again = init(project, template_repo)

    assert again.returncode == 1
    assert "already adopted" in again.stderr and "copier update --trust" in again.stderr
    assert "Traceback" not in again.stderr
    assert project_files(project) == before
    assert init(project, template_repo, "--force").returncode == 0  # adopting again is asked for


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--template-ref", "v99.0.0"), "has no release 'v99.0.0'. Pass --template-ref"),
        (("--workspace", "x"), "the template refused an answer"),
        (("--execution-mode", "docker_image", "--registry", "Not A Host"), "container_registry"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(project, template_repo, args, message):
    before = project_files(project)

    result = init(project, template_repo, *args)

    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert project_files(project) == before


def test_a_missing_template_is_one_line(project, tmp_path):
    before = project_files(project)

    result = init(project, tmp_path / "nowhere")

    assert result.returncode == 1
    assert "does not exist: pass --template" in result.stderr
    assert "Traceback" not in result.stderr
    assert project_files(project) == before


def test_a_template_that_cannot_adopt_is_refused_before_anything_is_written(project, tmp_path):
    """A release older than init, or another template, would render a whole project."""
    other = tmp_path / "other-template"
    (other / "project").mkdir(parents=True)
    (other / "copier.yml").write_text("_subdirectory: project\nname:\n  default: x\n")
    (other / "project" / "pyproject.toml").write_text("[project]\nname = 'overwritten'\n")
    git(other, "init", "--quiet", "--initial-branch=main")
    commit_all(other, "another template")
    git(other, "tag", "v0.1.0")
    before = project_files(project)

    result = init(project, other, "--force")

    assert result.returncode == 1
    assert "cannot adopt a project" in result.stderr and "--template-ref" in result.stderr
    assert project_files(project) == before


def test_a_registry_alone_means_docker_image(project, template_repo):
    result = init(project, template_repo, "--registry", "contoso.azurecr.io")

    assert result.returncode == 0, result.stderr
    config = parse_config(yaml.safe_load((project.path / "conf/base/azureml.yml").read_text()))
    assert config.execution.mode == "image"
    assert config.environment["__default__"].image.startswith("contoso.azurecr.io/")


def test_a_template_outside_git_is_refused_since_it_could_not_update(
    project, template_repo, tmp_path
):
    plain = tmp_path / "plain-copy"
    shutil.copytree(template_repo, plain, ignore=shutil.ignore_patterns(".git"))
    before = project_files(project)

    result = init(project, plain)

    assert result.returncode == 1
    assert "is not a git repository: copier update could not" in result.stderr
    assert project_files(project) == before


KEDRO_AZUREML_CONFIG = """\
azure:
  subscription_id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
  experiment_name: sales
  resource_group: rg-sales
  workspace_name: "mlw sales"     # not a valid workspace name
  environment_name: ~
  code_directory: ~
  working_directory: /home/kedro_docker
  compute:
    __default__:
      cluster_name: cpu-d4
    gpu:
      cluster_name: gpu-nc6
docker:
  image: contoso.azurecr.io/sales/forecast:1.2
"""

KEDRO_AZUREML_PIPELINE_CONFIG = """\
workspace:
  __default__:
    subscription_id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    resource_group: rg-sales
    name: mlw-sales
compute:
  __default__:
    cluster_name: cpu-d4
execution:
  environment: sales-env@latest
  code_directory: "."
jobs:
  nightly:
    pipeline:
      pipeline_name: __default__
"""


def test_a_kedro_azureml_config_fills_in_the_answers(project, template_repo):
    (project.path / "conf/base/azureml.yml").write_text(KEDRO_AZUREML_CONFIG)
    (project.path / "conf/base/catalog.yml").write_text(
        "model:\n  type: kedro_azureml.datasets.AzureMLPipelineDataset\n"
        "  dataset:\n    type: pickle.PickleDataset\n    filepath: model.pkl\n"
    )
    settings = project.path / "src" / project.package / "settings.py"
    settings.write_text(
        "# from kedro_azureml.hooks import azureml_local_run_hook\n"
        "from kedro_azureml_runtime.datasets import AzureMLPipelineDataset  # ours: not listed\n"
    )

    result = init(project, template_repo, "--force")

    assert result.returncode == 0, result.stderr
    assert "kedro-azureml's format" in result.stdout
    assert "(yours saved as conf/base/azureml.yml.orig)" in result.stdout
    assert "ignored     azure_workspace from conf/base/azureml.yml" in result.stdout
    config = parse_config(yaml.safe_load((project.path / "conf/base/azureml.yml").read_text()))
    workspace = config.workspace["__default__"]
    assert (workspace.subscription_id, workspace.resource_group, workspace.name) == (
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "rg-sales",
        "my-workspace",  # the placeholder: theirs is not a valid name
    )
    assert config.compute["__default__"].cluster_name == "cpu-d4"
    assert config.execution.mode == "image"
    assert config.environment["__default__"].image.startswith("contoso.azurecr.io/sales/forecast:")
    assert (project.path / "conf/base/azureml.yml.orig").read_text() == KEDRO_AZUREML_CONFIG
    assert "tutorial 'Migrate an existing project'" in result.stdout
    assert (
        f"conf/base/catalog.yml, src/{project.package}/settings.py still refer to the previous "
        "plugin's package: import from kedro_azureml_runtime instead"
    ) in result.stdout


def test_a_kedro_azureml_pipeline_config_in_conf_local_is_read_and_flagged(project, template_repo):
    (project.path / "conf/local/azureml.yml").write_text(KEDRO_AZUREML_PIPELINE_CONFIG)

    result = init(project, template_repo)

    assert result.returncode == 0, result.stderr
    assert "conf/local/azureml.yml (kedro-azureml-pipeline's format)" in result.stdout
    config = parse_config(yaml.safe_load((project.path / "conf/base/azureml.yml").read_text()))
    assert config.workspace["__default__"].name == "mlw-sales"
    assert config.execution.mode == "code_upload"
    assert "conf/local/azureml.yml is in kedro-azureml-pipeline's format" in result.stdout
    assert "delete it" in result.stdout
