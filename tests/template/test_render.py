"""What the template renders, over a matrix of answers: files, dependencies, configuration.

These tests render only (pytest-copie, about a second each); ``test_built_projects.py`` installs
and runs a few of the rendered projects.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from template_testing import RELEASE, REPO_ROOT, SCENARIOS, RenderedProject

from kedro_azureml_deploy.config import parse_config

#: The keys Kedro accepts under [tool.kedro] (``kedro.framework.startup._get_project_metadata``).
KEDRO_METADATA_KEYS = {
    "package_name",
    "project_name",
    "kedro_init_version",
    "source_dir",
    "tools",
    "example_pipeline",
}
PIPELINE_DATASET = "kedro_azureml_runtime.datasets.AzureMLPipelineDataset"
CI_COMMANDS = (
    "uv sync --locked",
    "uv run pytest",
    "uv run kedro azureml compile -j default",
    "uv run kedro azureml run -j default --local",
)


@pytest.fixture(params=sorted(SCENARIOS))
def project(request, render_scenario) -> RenderedProject:
    return render_scenario(request.param)


def pyproject(project: RenderedProject) -> dict:
    return tomllib.loads(project.read("pyproject.toml"))


def test_default_answers_render_the_documented_layout(render_scenario):
    project = render_scenario("defaults")
    package = "src/my_project"

    assert project.files() == {
        ".amlignore",
        ".copier-answers.yml",
        ".dockerignore",
        ".github/workflows/ci.yml",
        ".gitignore",
        ".python-version",
        "Dockerfile",
        "README.md",
        "azureml.schema.json",
        "conf/base/azureml.yml",
        "conf/base/catalog.yml",
        "conf/base/parameters.yml",
        "conf/local/.gitkeep",
        "conf/local/credentials.yml",
        "data/.gitkeep",
        "pyproject.toml",
        f"{package}/__init__.py",
        f"{package}/__main__.py",
        f"{package}/pipeline_registry.py",
        f"{package}/pipelines/__init__.py",
        f"{package}/pipelines/example/__init__.py",
        f"{package}/pipelines/example/nodes.py",
        f"{package}/pipelines/example/pipeline.py",
        f"{package}/settings.py",
        "tests/pipelines/example/test_nodes.py",
        "tests/test_run.py",
    }


def test_answers_file_records_the_answers_and_the_template_version(project):
    answers = yaml.safe_load(project.read(".copier-answers.yml"))

    assert answers["_commit"] == f"v{RELEASE}"
    assert "_src_path" in answers
    assert {key: answers[key] for key in project.answers} == dict(project.answers)
    assert answers["kedro_init_version"] == "1.0.0"
    # hidden values are computed at each render, never recorded
    assert "kedro_azureml_source" not in answers
    assert "kedro_azureml_specifier" not in answers
    if project.answers["execution_mode"] == "code_upload":
        assert "container_registry" not in answers
        assert "image_name" not in answers


def test_pyproject_puts_the_runtime_in_dependencies_and_deploy_in_dev(project):
    data = pyproject(project)
    dependencies = data["project"]["dependencies"]

    mlflow = project.answers["use_mlflow"]
    extras = [
        e for e, on in (("mlflow", mlflow), ("keyvault", project.answers["use_key_vault"])) if on
    ]
    runtime = f"kedro-azureml-runtime{'[' + ','.join(extras) + ']' if extras else ''}=={RELEASE}"
    assert runtime in dependencies
    assert data["dependency-groups"]["dev"][0] == f"kedro-azureml-deploy=={RELEASE}"
    assert not any("deploy" in dependency for dependency in dependencies)
    assert data["project"]["requires-python"] == f">={project.answers['python_version']}"
    assert project.read(".python-version").strip() == project.answers["python_version"]
    assert "sources" not in data.get("tool", {}).get("uv", {})
    datasets = next(d for d in dependencies if d.startswith("kedro-datasets"))
    if project.answers["example_pipeline"]:
        assert "json-jsondataset" in datasets and "pickle-pickledataset" in datasets
    assert ("kedro-mlflow>=2,<3" in dependencies) == mlflow
    assert (project.path / "conf" / "base" / "mlflow.yml").is_file() == mlflow


def test_tool_kedro_holds_only_keys_kedro_accepts(project):
    kedro = pyproject(project)["tool"]["kedro"]

    assert set(kedro) <= KEDRO_METADATA_KEYS
    assert kedro["package_name"] == project.package
    assert kedro["project_name"] == project.answers["project_name"]
    assert kedro["kedro_init_version"] == project.answers["kedro_init_version"]
    assert (project.path / kedro["source_dir"] / project.package / "__init__.py").is_file()


def test_kedro_azureml_source_installs_both_packages_from_the_checkout(render):
    project = render(kedro_azureml_source=f"{REPO_ROOT}/")

    sources = pyproject(project)["tool"]["uv"]["sources"]

    assert sources == {
        "kedro-azureml-runtime": {"path": f"{REPO_ROOT}/packages/runtime", "editable": True},
        "kedro-azureml-deploy": {"path": f"{REPO_ROOT}/packages/deploy", "editable": True},
    }
    answers = yaml.safe_load(project.read(".copier-answers.yml"))
    assert "kedro_azureml_source" not in answers
    # the chosen checkout is the only path of this machine in the project
    mentions = [
        f"{name}: {line}"
        for name in sorted(project.files())
        for line in project.read(name).splitlines()
        if str(REPO_ROOT) in line
    ]
    assert [mention.split(" = ")[0] for mention in mentions] == [
        "pyproject.toml: kedro-azureml-runtime",
        "pyproject.toml: kedro-azureml-deploy",
    ]


def test_rendered_files_hold_no_absolute_path_of_this_machine(
    project, template_repo, tmp_path_factory
):
    machine_paths = {
        str(REPO_ROOT),
        str(template_repo),
        str(tmp_path_factory.getbasetemp()),
        str(project.path),
        sys.prefix,
    }
    for name in project.files():
        lines = (project.path / name).read_text().splitlines()
        if name == ".copier-answers.yml":
            # where the template came from: the user's choice, e.g. gh:org/kedro-azureml
            lines = [line for line in lines if not line.startswith("_src_path:")]
        for line in lines:
            found = [path for path in machine_paths if path in line]
            assert not found, f"{name}: {line!r} contains {found}"


def test_azureml_yml_validates_with_the_deploy_config_models(project):
    text = project.read("conf/base/azureml.yml")

    config = parse_config(yaml.safe_load(text), source="conf/base/azureml.yml")

    assert text.splitlines()[0] == "# yaml-language-server: $schema=../../azureml.schema.json"
    name, job = config.job("default")
    assert name == "default"
    assert job.pipeline.pipeline_name == "__default__"
    workspace = config.workspace["__default__"]
    assert workspace.subscription_id == project.answers["azure_subscription_id"]
    assert workspace.resource_group == project.answers["azure_resource_group"]
    assert workspace.name == project.answers["azure_workspace"]
    assert config.compute["__default__"].cluster_name == project.answers["azure_compute_cluster"]
    environment = config.environment["__default__"]
    if project.answers["execution_mode"] == "docker_image":
        assert config.execution.mode == "image"
        assert config.execution.working_directory == "/app"
        assert environment.image == (
            f"{project.answers['container_registry']}/{project.answers['image_name']}:0.1.0"
        )
    else:
        assert config.execution.mode == "code_upload"
        assert environment.name is not None


def test_example_intermediates_are_azureml_pipeline_datasets(render_scenario):
    project = render_scenario("defaults")
    catalog = yaml.safe_load(project.read("conf/base/catalog.yml"))

    assert set(catalog) == {"points", "train_points", "test_points", "line", "metrics"}
    for name, entry in catalog.items():
        assert entry["type"] == PIPELINE_DATASET, name
        assert entry["dataset"]["type"] in {"pickle.PickleDataset", "json.JSONDataset"}, name
    parameters = yaml.safe_load(project.read("conf/base/parameters.yml"))
    assert set(parameters["example"]) == {
        "n_points",
        "slope",
        "intercept",
        "noise",
        "seed",
        "test_fraction",
    }


def test_without_the_example_pipeline_no_example_code_or_config_is_rendered(render_scenario):
    project = render_scenario("no_example")

    assert not any("example" in name for name in project.files())
    assert yaml.safe_load(project.read("conf/base/catalog.yml")) is None
    assert yaml.safe_load(project.read("conf/base/parameters.yml")) is None
    assert "def test_kedro_run" not in project.read("tests/test_run.py")


def test_settings_py_registers_the_key_vault_resolver_and_nothing_else_of_kedro_azureml(project):
    settings = project.read(f"src/{project.package}/settings.py")
    code = [line for line in settings.splitlines() if line.strip() and not line.startswith("#")]

    assert "HOOKS =" not in "\n".join(code)
    assert [line for line in code if "kedro_azureml" in line] == [
        "from kedro_azureml_runtime.key_vault import KEY_VAULT_RESOLVER, key_vault_secret"
    ]
    assert '    "custom_resolvers": {KEY_VAULT_RESOLVER: key_vault_secret},' in code
    if project.answers["use_mlflow"]:
        assert 'os.environ.setdefault(\n    "MLFLOW_TRACKING_URI"' in settings
    assert ("needs the kedro-azureml-runtime[keyvault] extra" in settings) != project.answers[
        "use_key_vault"
    ]


def test_the_key_vault_answer_adds_the_extra_and_a_catalog_example(render_scenario):
    with_vault, without = render_scenario("mlflow"), render_scenario("defaults")

    assert "${azureml.keyvault:my-vault," in with_vault.read("conf/base/catalog.yml")
    assert "azureml.keyvault" not in without.read("conf/base/catalog.yml")
    assert "[keyvault]" not in without.read("pyproject.toml")


def test_the_key_vault_answer_adds_the_extra_to_a_requirements_txt_image(render):
    project = render(
        execution_mode="docker_image", use_key_vault=True, dependencies_from="requirements.txt"
    )

    assert f'"kedro-azureml-runtime[keyvault]=={RELEASE}"' in project.read("Dockerfile")


def test_rendered_python_is_valid_and_lint_clean(project):
    for name in project.files():
        if name.endswith(".py"):
            ast.parse(project.read(name), filename=name)
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed in this environment")
    for command in (
        ["check", "--select", "E,F,W,I,B,UP,SIM", "--output-format", "concise"],
        ["format", "--check"],
    ):
        result = subprocess.run(
            [ruff, *command, "--isolated", "--no-cache", "."],
            cwd=project.path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_ci_workflow_runs_tests_compile_and_replay(project):
    provider = project.answers["ci_provider"]
    files = {".github/workflows/ci.yml", "azure-pipelines.yml"} & project.files()
    expected = {
        "github": {".github/workflows/ci.yml"},
        "azure_devops": {"azure-pipelines.yml"},
        "none": set(),
    }[provider]

    assert files == expected
    for name in files:
        workflow = yaml.safe_load(project.read(name))
        commands = [
            step.get("run") or step.get("script")
            for step in _steps(workflow)
            if step.get("run") or step.get("script")
        ]
        assert [c for c in commands if c in CI_COMMANDS] == list(CI_COMMANDS), name
        assert project.answers["python_version"] in project.read(name)
        builds_image = any("docker build" in command for command in commands)
        assert builds_image == (project.answers["execution_mode"] == "docker_image")


def _steps(workflow: dict) -> list[dict]:
    if "jobs" in workflow and isinstance(workflow["jobs"], dict):  # GitHub Actions
        return [step for job in workflow["jobs"].values() for step in job["steps"]]
    return [step for stage in workflow["stages"] for job in stage["jobs"] for step in job["steps"]]


def test_amlignore_and_dockerignore_keep_secrets_and_data_out(project):
    amlignore = project.read(".amlignore").splitlines()
    dockerignore = project.read(".dockerignore").splitlines()

    for entry in (
        "conf/local/",
        "data/",
        ".venv*/",
        ".git/",
        ".azureml-local/",
        "__pycache__/",
        "*.log",
    ):
        assert entry in amlignore
    for entry in ("conf/local", "data", ".venv*", ".git", ".azureml-local"):
        assert entry in dockerignore
    gitignore = project.read(".gitignore")
    assert "conf/local/**" in gitignore and ".azureml-local/" in gitignore


def test_readme_gives_the_next_steps(project):
    readme = project.read("README.md")

    for command in ("uv sync", "uv run kedro run", *CI_COMMANDS[2:]):
        assert command in readme
    assert project.answers["project_name"] in readme


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"azure_subscription_id": "my-subscription"}, "expected a GUID"),
        ({"package_name": "My-Project"}, "not a\n?\\s*lowercase Python identifier"),
        ({"package_name": "class"}, "is taken"),
        ({"project_name": "  "}, "needs a name"),
        ({"azure_workspace": "w"}, "workspace name"),
        ({"azure_compute_cluster": "9-cluster"}, "compute cluster name"),
        ({"azure_compute_cluster": "cpu-cluster-1"}, "compute cluster name"),
        ({"azure_compute_cluster": "a" * 25}, "compute cluster name"),
        (
            {"execution_mode": "docker_image", "image_name": "My Image"},
            "is not an image name",
        ),
        (
            {"execution_mode": "docker_image", "container_registry": "https://acr"},
            "is not a registry host",
        ),
    ],
)
def test_invalid_answers_are_rejected_with_the_reason(copie, template_repo, answers, message):
    result = copie.copy(extra_answers=answers, template_dir=template_repo)

    assert result.exit_code != 0
    assert re.search(message, str(result.exception)), result.exception


def test_package_name_defaults_to_an_identifier_made_from_the_project_name(render_scenario):
    project = render_scenario("named")

    assert project.package == "sales_forecast_2"
    assert pyproject(project)["project"]["name"] == "sales-forecast-2"
