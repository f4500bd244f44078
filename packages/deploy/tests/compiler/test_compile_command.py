"""``kedro azureml compile`` in real Kedro projects: files, golden YAML, errors.

Golden files live in ``golden/``; after an intended change, regenerate them with
``KEDRO_AZUREML_UPDATE_GOLDEN=1 uv run pytest packages/deploy/tests/compiler/test_compile_command.py``
and review the diff like code.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from project_factory import KedroProject, NodeSpec, azureml_yml, pipeline_dataset

GOLDEN = Path(__file__).parent / "golden"
#: Where ``compile`` writes job ``train`` by default, relative to the project.
DEFAULT_OUTPUT = Path(".azureml-local/compiled/train.yml")


def spaceflights_like(make_project, jobs: dict | None = None, **sections) -> KedroProject:
    nodes = [
        NodeSpec("preprocess", "identity", ["params:seed"], ["preprocessed"]),
        NodeSpec("features", "add_one", ["preprocessed"], ["model_input"], tags=["features"]),
        NodeSpec("train", "add_one", ["model_input"], ["model"]),
        NodeSpec("evaluate", "join", ["model", "model_input"], ["metrics"]),
    ]
    catalog = {
        "model_input": pipeline_dataset("model_input.pkl"),
        "metrics": pipeline_dataset("metrics.pkl"),
    }
    return make_project(
        nodes=nodes,
        catalog=catalog,
        extra_files={
            "conf/base/azureml.yml": azureml_yml(
                jobs or {"train": {"experiment_name": "demo"}}, **sections
            )
        },
    )


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KEDRO_AZUREML_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path.name}: regenerate (see module docstring)"
    assert text == path.read_text()


def test_compile_writes_the_golden_job_deterministically(make_project):
    project = spaceflights_like(make_project)

    first = project.kedro("azureml", "compile", check=True)
    text = (project.path / DEFAULT_OUTPUT).read_text()
    project.kedro("azureml", "compile", check=True)

    assert (project.path / DEFAULT_OUTPUT).read_text() == text
    assert "Compiled job 'train': 4 step(s), 3 dataset(s) crossing steps" in first.stdout
    assert str(project.path) not in text and "/tmp" not in text
    check_golden("spaceflights_like.yml", text)


def test_compiled_yaml_loads_and_validates_with_azure_ai_ml(make_project):
    from azure.ai.ml import load_job

    project = spaceflights_like(make_project)
    target = project.path / "out" / "job.yml"
    project.kedro("azureml", "compile", "-o", str(target), check=True)

    spec = yaml.safe_load(target.read_text())
    assert spec["jobs"]["train"]["code"] == ".."  # the project, seen from out/
    job = load_job(target)
    assert job._validate().passed
    assert job.experiment_name == "demo"


def test_several_jobs_write_one_file_each(make_project):
    jobs = {
        "full": {},
        "features_only": {"pipeline": {"tags": ["features"]}, "display_name": "Features"},
    }
    project = spaceflights_like(make_project, jobs=jobs)

    project.kedro(
        "azureml", "compile", "-j", "full", "-j", "features_only", "-o", "compiled", check=True
    )

    full = yaml.safe_load((project.path / "compiled" / "azureml-full.yml").read_text())
    features = yaml.safe_load((project.path / "compiled" / "azureml-features_only.yml").read_text())
    assert list(full["jobs"]) == ["preprocess", "features", "train", "evaluate"]
    assert list(features["jobs"]) == ["features"]
    check_golden(
        "features_only.yml", (project.path / "compiled" / "azureml-features_only.yml").read_text()
    )


def test_an_output_ending_with_a_slash_is_a_folder_for_one_job_too(make_project):
    project = spaceflights_like(make_project, jobs={"full": {}})

    project.kedro("azureml", "compile", "-j", "full", "-o", "compiled/", check=True)

    assert (project.path / "compiled").is_dir()
    full = yaml.safe_load((project.path / "compiled" / "azureml-full.yml").read_text())
    assert list(full["jobs"]) == ["preprocess", "features", "train", "evaluate"]


def _one_error_line(result) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return result.stderr[result.stderr.index("Error:") :]


def test_job_must_be_named_when_several_are_defined(make_project):
    project = spaceflights_like(make_project, jobs={"a": {}, "b": {}})
    message = _one_error_line(project.kedro("azureml", "compile"))
    assert "-j" in message and "a" in message and "b" in message


def test_unknown_job_names_close_matches(make_project):
    project = spaceflights_like(make_project)
    message = _one_error_line(project.kedro("azureml", "compile", "-j", "trian"))
    assert "trian" in message and "train" in message


def test_project_without_azureml_yml_says_how_to_create_one(make_project):
    project = make_project(nodes=[NodeSpec("a", "identity", [], ["x"])])
    message = _one_error_line(project.kedro("azureml", "compile"))
    assert "azureml.yml" in message


def test_preflight_failure_writes_nothing(make_project):
    project = spaceflights_like(make_project)
    catalog = project.path / "conf" / "base" / "catalog.yml"
    catalog.write_text(catalog.read_text() + '"preprocessed": {"type": "MemoryDataset"}\n')

    message = _one_error_line(project.kedro("azureml", "compile"))

    assert "preprocessed (from preprocess to features)" in message
    assert not (project.path / DEFAULT_OUTPUT).exists()
    project.kedro("azureml", "compile", "--skip-preflight", check=True)
    assert (project.path / DEFAULT_OUTPUT).exists()


@pytest.mark.parametrize(
    ("args", "field", "expected"),
    [
        (["--params", "lr=0.5"], "command", """--params '{"lr": 0.5}'"""),
        (["--env-var", "A=1"], "environment_variables", {"A": "1", "KEDRO_ENV": "base"}),
        (["--aml-env", "custom:2"], "environment", "azureml:custom:2"),
    ],
)
def test_options_reach_every_step(make_project, args, field, expected):
    project = spaceflights_like(make_project)
    project.kedro("azureml", "compile", *args, check=True)
    steps = yaml.safe_load((project.path / DEFAULT_OUTPUT).read_text())["jobs"].values()
    for step in steps:
        value = step[field]
        assert (
            expected in value
            if isinstance(expected, str) and field == "command"
            else value == expected
        )


def test_bad_env_var_is_a_usage_error(make_project):
    project = spaceflights_like(make_project)
    result = project.kedro("azureml", "compile", "--env-var", "NOEQUALS")
    assert result.returncode == 2 and "is not KEY=VALUE" in result.stderr


def test_compiled_params_reach_a_step_as_kedro_run_gives_them(make_project, tmp_path):
    """Through the job's inputs: Azure ML writes each value into the step's command as text, the
    shell reads the command, ``execute`` types the values back."""
    import pickle
    import re
    import subprocess

    from kedro_azureml_deploy.replay.compiled_file import input_text

    record = tmp_path / "parameters.pkl"
    project = make_project(
        nodes=[NodeSpec("record", "record_parameters", ["parameters"], [])],
        parameters={"seed": 1, "model": {"depth": 1}},
        extra_functions=(
            "\n\ndef record_parameters(parameters):\n"
            "    import os, pickle, pathlib\n"
            "    pathlib.Path(os.environ['PARAMETERS_RECORD']).write_bytes(pickle.dumps(parameters))\n"
        ),
        extra_files={"conf/base/azureml.yml": azureml_yml({"train": {"experiment_name": "x"}})},
    )
    text = "flag=false,nothing=null,count=3,rate=0.5,ratio=nan,model.depth=4,code='007'"
    env = {"PARAMETERS_RECORD": str(record)}

    project.kedro("run", "--params", text, env=env, check=True)
    by_kedro = pickle.loads(record.read_bytes())
    project.kedro("azureml", "compile", "--params", text, "-o", "job.yml", check=True)
    job = yaml.safe_load((project.path / "job.yml").read_text())
    (step,) = job["jobs"].values()
    assert step["inputs"] == {"parameters": "${{parent.inputs.parameters}}"}
    command = re.sub(
        r"\$\{\{inputs\.(\w+)\}\}", lambda m: input_text(job["inputs"][m[1]]), step["command"]
    )
    shell = subprocess.run(
        ["/bin/sh", "-c", "printf '%s\\0' " + command], capture_output=True, check=True, text=True
    )
    arguments = shell.stdout.split("\0")[:-1]
    assert arguments[:3] == ["kedro", "azureml", "execute"] and "--params" not in arguments
    project.kedro(*arguments[1:], env=env, check=True)

    assert pickle.loads(record.read_bytes()) == by_kedro


def test_load_version_of_a_model_the_job_trains_is_one_line_naming_the_fix(make_project):
    project = spaceflights_like(make_project)

    message = _one_error_line(
        project.kedro("azureml", "compile", "--load-versions", "model:2026-01-01T00.00.00.000Z")
    )

    assert "dataset 'model' is produced inside job 'train' by node 'train'" in message
    assert "drop model from --load-versions" in message


def test_default_output_leaves_git_status_clean_and_its_code_path_reaches_the_project(
    make_project,
):
    import subprocess

    project = spaceflights_like(make_project)
    git = ["git", "-C", str(project.path)]
    subprocess.run([*git, "init", "--quiet"], check=True)

    result = project.kedro("azureml", "compile", check=True)

    assert ".azureml-local/compiled/train.yml" in result.stdout
    assert (project.path / ".azureml-local" / ".gitignore").read_text().endswith("*\n")
    untracked = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=all", "--", ".azureml-local"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert untracked == ""
    steps = yaml.safe_load((project.path / DEFAULT_OUTPUT).read_text())["jobs"].values()
    code = {step["code"] for step in steps}
    assert code == {"../.."}
    assert ((project.path / DEFAULT_OUTPUT).parent / "../..").resolve() == project.path.resolve()


def test_an_output_file_the_user_names_is_not_ignored(make_project):
    project = spaceflights_like(make_project)

    project.kedro("azureml", "compile", "-o", "jobs/train.yml", check=True)

    assert (project.path / "jobs" / "train.yml").is_file()
    assert not (project.path / "jobs" / ".gitignore").exists()
    assert not (project.path / ".azureml-local").exists()


@pytest.mark.parametrize(
    ("file", "content", "named"),
    [
        (
            "catalog.yml",
            'model_input: {type: pickle.PickleDataset, filepath: "a.pkl"\n  bad: [\n',
            "ParserError: Invalid YAML or JSON file conf/base/catalog.yml, unable to read line 1",
        ),
        (
            "catalog.yml",
            "model_input:\n  type: pickle.PickleDataset\n  filepath: ${nope.missing}/a.pkl\n",
            "Interpolation key 'nope.missing' not found (at model_input.filepath)",
        ),
        (
            "catalog.yml",
            "model_input:\n  type: pickle.PickleDataset\n  filepath: ${globals:nope}/a.pkl\n",
            "Globals key 'nope' not found and no default value provided (at model_input.filepath)",
        ),
        (
            "parameters.yml",
            "seed: 1\nbroken: [\n",
            "Invalid YAML or JSON file conf/base/parameters.yml, unable to read line 2",
        ),
    ],
    ids=["yaml", "interpolation", "globals", "parameters"],
)
def test_a_kedro_configuration_error_is_one_line_naming_what_kedro_names(
    make_project, file, content, named
):
    project = spaceflights_like(make_project)
    (project.path / "conf" / "base" / file).write_text(content)

    message = _one_error_line(project.kedro("azureml", "compile"))

    assert "Kedro cannot read the project's configuration with environment 'base'" in message
    assert named in message
    assert str(project.path) not in message
    assert len(message.strip().splitlines()) == 1
    verbose = project.kedro("azureml", "compile", "--verbose")
    assert verbose.returncode == 1 and "Traceback" in verbose.stderr + verbose.stdout


def test_an_output_that_cannot_be_written_is_one_line(make_project, tmp_path):
    project = spaceflights_like(make_project)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    result = project.kedro("azureml", "compile", "-o", str(blocker / "job.yml"))

    assert "cannot write the compiled job to" in _one_error_line(result)


def test_pipelines_that_cannot_be_loaded_are_one_line(make_project):
    project = spaceflights_like(make_project)
    registry = next((project.path / "src").rglob("pipeline_registry.py"))
    registry.write_text(
        "from kedro.pipeline import node, pipeline\n\n\n"
        "def register_pipelines():\n"
        "    return {'__default__': pipeline([node(len, 'a', 'b', name='bad name;')])}\n"
    )

    result = project.kedro("azureml", "compile")

    assert "the project's pipelines cannot be loaded (ValueError" in _one_error_line(result)
