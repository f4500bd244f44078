"""One step, one MLflow run: the runtime's hook against a real tracking server.

- With Azure ML's variables (``MLFLOW_RUN_ID`` of a run made before the step), kedro-mlflow and
  the node log into that run and no other run is created, whether kedro-mlflow's hook comes from
  its entry point or from ``settings.py``.
- Without ``MLFLOW_RUN_ID`` the hook opens a run of its own and ends it with the step.
- In a project without MLflow the compiled job has no MLflow variable and a step imports no
  ``mlflow``, even with Azure ML's variables set.

Steps with kedro-mlflow run in ``step_venv`` (the runtime with its ``mlflow`` extra, as a step
image); the others run in the workspace's environment, which has MLflow but neither kedro-mlflow
nor azureml-mlflow.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
from mlflow_testing import compile_job, run_step

from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.compiler import compile_job as compile_pipeline
from kedro_azureml_deploy.config import parse_config
from kedro_azureml_deploy.mlflow_config import mlflow_experiment
from kedro_azureml_deploy.replay.mlflow_runs import start_replay_tracking
from project_factory import NodeSpec

WORKSPACE_BIN = Path(sys.executable).parent
MLFLOW_VARIABLES = {"KEDRO_AZUREML_MLFLOW_EXPERIMENT", "KEDRO_AZUREML_JOB_NAME"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_ids(server) -> set[str]:
    return {run.info.run_id for run in server.all_runs()}


# --- Azure ML's run, resumed ------------------------------------------------------------------

KEDRO_MLFLOW_IN_SETTINGS = """\
from kedro_mlflow.framework.hooks import MlflowHook

HOOKS = (MlflowHook(),)
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-mlflow",)
"""


@pytest.mark.slow
@pytest.mark.parametrize("kedro_mlflow_hook", ["entry point", "settings.py"])
def test_a_step_logs_into_the_run_azure_ml_made_for_it_and_opens_no_other(
    make_mlflow_project, mlflow_server, step_venv, mounts, kedro_mlflow_hook
):
    mlflow_yml_experiment = unique("from-mlflow-yml")
    project = make_mlflow_project(experiment=mlflow_yml_experiment)
    spec = compile_job(project)  # where kedro-mlflow is not installed: settings.py comes after
    if kedro_mlflow_hook == "settings.py":
        (project.path / "src" / project.package / "settings.py").write_text(
            KEDRO_MLFLOW_IN_SETTINGS
        )
    client = mlflow_server.client()
    azure_experiment = unique("azure")
    experiment_id = client.create_experiment(azure_experiment)
    step_run = client.create_run(experiment_id, run_name="train_step")
    before = run_ids(mlflow_server)

    result = run_step(
        project,
        spec,
        "train",
        mounts=mounts,
        bin_folder=step_venv,
        env={  # what Azure ML sets in a step
            "MLFLOW_TRACKING_URI": mlflow_server.uri,
            "MLFLOW_RUN_ID": step_run.info.run_id,
            "MLFLOW_EXPERIMENT_ID": experiment_id,
            "MLFLOW_EXPERIMENT_NAME": azure_experiment,
        },
    )

    assert result.returncode == 0, result.output
    assert run_ids(mlflow_server) == before, "the step opened a run of its own"
    logged = client.get_run(step_run.info.run_id)
    assert logged.data.params == {"seed": "3"}  # kedro-mlflow
    assert logged.data.metrics == {"score": 30.0}  # the node
    tags = logged.data.tags
    assert "kedro_command" in tags  # kedro-mlflow tagged this run too
    assert tags["kedro_azureml.nodes"] == "train"
    assert tags["kedro_azureml.job"] == "train"
    assert tags["kedro_azureml.env"] == "base"
    assert tags["kedro_azureml.pipeline"] == "__default__"
    assert client.get_experiment_by_name(mlflow_yml_experiment) is None


@pytest.mark.slow
def test_a_step_that_succeeds_on_retry_leaves_its_run_without_error_tags(
    make_mlflow_project, mlflow_server, step_venv, mounts
):
    project = make_mlflow_project(
        experiment=unique("retry"),
        nodes=[NodeSpec("train", "fail_once", ["params:seed"], ["model"])],
        jobs={"train": {"retries": 1}},
    )
    spec = compile_job(project)
    assert "--retries 1" in spec["jobs"]["train"]["command"]
    client = mlflow_server.client()
    experiment_id = client.create_experiment(unique("azure"))
    step_run = client.create_run(experiment_id)
    before = run_ids(mlflow_server)

    result = run_step(
        project,
        spec,
        "train",
        mounts=mounts,
        bin_folder=step_venv,
        env={
            "MLFLOW_TRACKING_URI": mlflow_server.uri,
            "MLFLOW_RUN_ID": step_run.info.run_id,
            "MLFLOW_EXPERIMENT_ID": experiment_id,
        },
    )

    assert result.returncode == 0, result.output
    assert "first attempt fails" in result.output
    assert run_ids(mlflow_server) == before
    logged = client.get_run(step_run.info.run_id)
    assert logged.data.metrics == {"score": 30.0}
    assert "kedro_azureml.error" not in logged.data.tags
    assert "kedro_azureml.failed_node" not in logged.data.tags


# --- no MLFLOW_RUN_ID: the hook's own run ------------------------------------------------------


@pytest.mark.parametrize("outcome", ["succeeds", "fails"])
def test_without_a_run_id_a_step_opens_one_run_and_ends_it_with_the_step(
    make_mlflow_project, mlflow_server, mounts, outcome
):
    experiment = unique("own-run")
    failing = outcome == "fails"
    nodes = [
        NodeSpec("train", "fail" if failing else "log_score", ["params:seed"], ["model"]),
    ]
    project = make_mlflow_project(experiment=experiment, nodes=nodes)
    spec = compile_job(project)
    before = run_ids(mlflow_server)

    # No MLflow variable at all: the tracking URI comes from mlflow.yml, as kedro-mlflow reads it.
    result = run_step(project, spec, "train", mounts=mounts, bin_folder=WORKSPACE_BIN, env={})

    assert (result.returncode != 0) == failing, result.output
    new = [run for run in mlflow_server.all_runs() if run.info.run_id not in before]
    assert len(new) == 1, result.output
    run = new[0]
    client = mlflow_server.client()
    assert client.get_experiment(run.info.experiment_id).name == experiment
    assert run.info.run_name == "train"
    assert run.data.tags["kedro_azureml.nodes"] == "train"
    if failing:
        assert run.info.status == "FAILED"
        assert run.data.tags["kedro_azureml.error"] == "RuntimeError: this node fails on purpose"
        assert run.data.tags["kedro_azureml.failed_node"] == "train"
    else:
        assert run.info.status == "FINISHED"
        assert run.data.metrics == {"score": 30.0}
        assert "kedro_azureml.error" not in run.data.tags


@pytest.mark.slow
def test_a_grouped_step_is_one_run_for_all_its_nodes(make_mlflow_project, mlflow_server, mounts):
    experiment = unique("grouped")
    project = make_mlflow_project(
        experiment=experiment, jobs={"train": {"grouping": "chains"}}
    )  # train -> evaluate: one chain, one step
    spec = compile_job(project)
    before = run_ids(mlflow_server)

    result = run_step(
        project, spec, "train__evaluate", mounts=mounts, bin_folder=WORKSPACE_BIN, env={}
    )

    assert list(spec["jobs"]) == ["train__evaluate"]
    assert result.returncode == 0, result.output
    new = [run for run in mlflow_server.all_runs() if run.info.run_id not in before]
    assert len(new) == 1, result.output
    assert new[0].data.tags["kedro_azureml.nodes"] == "evaluate,train"
    assert new[0].data.metrics == {"score": 30.0}


# --- projects without MLflow ---------------------------------------------------------------------

REPORT_MLFLOW_MODULES = (
    "import atexit, json, sys\n"
    "atexit.register(lambda: print('MODULES=' + json.dumps(sorted(m for m in sys.modules "
    "if m == 'mlflow' or m.startswith('mlflow.')))))\n"
    "from kedro.framework.cli.cli import main\n"
    "sys.argv = ['kedro', *json.loads(sys.argv[1])]\n"
    "main()\n"
)


def execute_reporting_mlflow_modules(
    project, spec, step, mounts, env
) -> tuple[int, list[str], str]:
    """Run ``step``'s ``kedro azureml execute`` through the Kedro CLI in a process that prints the
    mlflow modules it imported."""
    import shlex
    import subprocess

    from mlflow_testing import PLACEHOLDER, step_env

    job = spec["jobs"][step]
    folders = {("outputs", port): str(mounts / step / port) for port in job.get("outputs") or {}}
    command = PLACEHOLDER.sub(lambda m: folders[(m[1], m[2])], job["command"])
    args = shlex.split(command)[1:]  # without "kedro"
    variables = {str(k): str(v) for k, v in job["environment_variables"].items()}
    result = subprocess.run(
        [sys.executable, "-c", REPORT_MLFLOW_MODULES, json.dumps(args)],
        cwd=project.path,
        env={**step_env(WORKSPACE_BIN, variables), **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    marker = [line for line in result.stdout.splitlines() if line.startswith("MODULES=")]
    assert marker, f"no report (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.returncode, json.loads(marker[-1].removeprefix("MODULES=")), result.stderr


AZURE_STEP_VARIABLES = {
    "MLFLOW_TRACKING_URI": "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/x",
    "MLFLOW_RUN_ID": "0123456789abcdef0123456789abcdef",
    "MLFLOW_EXPERIMENT_ID": "0123",
    "MLFLOW_EXPERIMENT_NAME": "train",
}


def test_a_project_without_mlflow_compiles_no_mlflow_variable_and_its_steps_import_no_mlflow(
    make_mlflow_project, mounts
):
    project = make_mlflow_project(mlflow=False, nodes=[NodeSpec("train", "identity", [], ["m"])])
    spec = compile_job(project)

    assert [job["environment_variables"] for job in spec["jobs"].values()] == [
        {"KEDRO_ENV": "base"}
    ]
    assert start_replay_tracking(project.path, spec, run_name="none") is None
    # Azure ML sets its MLflow variables in every step, MLflow project or not.
    code, modules, stderr = execute_reporting_mlflow_modules(
        project, spec, "train", mounts, AZURE_STEP_VARIABLES
    )
    assert code == 0, stderr
    assert modules == []


def test_the_hook_imports_mlflow_only_when_the_step_carries_the_experiment_variable(
    make_mlflow_project, mounts
):
    """The check above can fail: with the variable the hook imports mlflow, and it explains that
    Azure ML's tracking URI needs azureml-mlflow (absent from the workspace's environment)."""
    project = make_mlflow_project(nodes=[NodeSpec("train", "identity", [], ["m"])])
    spec = compile_job(project)
    assert set(spec["jobs"]["train"]["environment_variables"]) >= MLFLOW_VARIABLES

    code, modules, stderr = execute_reporting_mlflow_modules(
        project, spec, "train", mounts, AZURE_STEP_VARIABLES
    )

    assert code != 0
    assert "mlflow" in modules
    assert "which MLflow reaches only with azureml-mlflow" in " ".join(stderr.split())
    assert "kedro-azureml-runtime[mlflow]" in stderr


# --- which experiment the compiler writes ------------------------------------------------------


@pytest.fixture
def conf(tmp_path):
    """A conf folder, and a project stand-in whose config loader reads it in ``env``."""
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "conf" / "local").mkdir()

    def project(env: str = "base"):
        loader = OmegaConfigLoader(
            str(tmp_path / "conf"), env=env, base_env="base", default_run_env="local"
        )
        return SimpleNamespace(context=SimpleNamespace(config_loader=loader))

    return tmp_path / "conf", project


@pytest.mark.parametrize(
    ("files", "job_experiment", "expected"),
    [
        ({}, None, None),
        ({}, "explicit", None),
        ({"base/mlflow.yml": "tracking: {experiment: {name: from-yml}}"}, None, "from-yml"),
        ({"base/mlflow.yml": "tracking: {experiment: {name: from-yml}}"}, "explicit", "explicit"),
        ({"base/mlflow.yml": "server: {mlflow_tracking_uri: null}"}, None, "train"),
        ({"base/mlflow.yml": "# all commented out\n"}, None, "train"),
        ({"base/mlflow.yml": "tracking: {run: {name: '${km.random_name:}'}}"}, None, "train"),
        ({"local/mlflow.yml": "tracking: {experiment: {name: local}}"}, None, None),
    ],
    ids=[
        "no-mlflow",
        "no-mlflow-with-experiment",
        "mlflow-yml",
        "job-wins",
        "no-name",
        "empty-file",
        "kedro-mlflow-resolver",
        "local-only",
    ],
)
def test_the_mlflow_experiment_of_a_job(conf, files, job_experiment, expected):
    folder, project = conf
    for relative, text in files.items():
        (folder / relative).write_text(text)

    assert mlflow_experiment(project(), "train", job_experiment) == expected


def test_a_mlflow_yml_of_the_compiled_environment_counts(conf):
    folder, project = conf
    (folder / "local" / "mlflow.yml").write_text("tracking: {experiment: {name: local}}")

    assert mlflow_experiment(project("local"), "train", None) == "local"


def one() -> int:
    return 1


def same(value: int) -> int:
    return value


def compiled_variables(options: CompileOptions, env_vars: dict | None = None) -> list[dict]:
    config = parse_config(
        {
            "workspace": {
                "__default__": {
                    "subscription_id": "00000000-0000-0000-0000-000000000000",
                    "resource_group": "rg",
                    "name": "ws",
                }
            },
            "compute": {"__default__": {"cluster_name": "cpu"}},
            "environment": {"__default__": {"name": "env@latest"}},
            "jobs": {"train": {"env_vars": env_vars or {}}},
        }
    )
    name, job = config.job("train")
    compiled = compile_pipeline(
        job_name=name,
        job=job,
        config=config,
        pipeline=Pipeline([node(one, None, "a", name="a"), node(same, "a", "b", name="b")]),
        catalog=DataCatalog(),
        options=options,
    )
    return [
        step["environment_variables"]
        for step in yaml.safe_load(compiled.to_yaml())["jobs"].values()
    ]


def test_every_step_gets_the_mlflow_variables_and_the_user_may_override_them():
    assert compiled_variables(CompileOptions()) == [{"KEDRO_ENV": "base"}] * 2
    assert (
        compiled_variables(CompileOptions(mlflow_experiment="exp"))
        == [
            {
                "KEDRO_AZUREML_JOB_NAME": "train",
                "KEDRO_AZUREML_MLFLOW_EXPERIMENT": "exp",
                "KEDRO_ENV": "base",
            }
        ]
        * 2
    )
    overridden = compiled_variables(
        CompileOptions(mlflow_experiment="exp"), {"KEDRO_AZUREML_MLFLOW_EXPERIMENT": "mine"}
    )
    assert {variables["KEDRO_AZUREML_MLFLOW_EXPERIMENT"] for variables in overridden} == {"mine"}
