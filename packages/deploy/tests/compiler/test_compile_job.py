"""``compile_job``: one command step per node, wired from the pipeline graph."""

from __future__ import annotations

import io

import pytest
import yaml
from kedro.pipeline import Pipeline, node

from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.errors import CompileError
from kedro_azureml_runtime.distributed import Framework, distributed_job

from .conftest import catalog_of, chain_pipeline, identity, pipeline_dataset


def test_one_command_step_per_node_wired_through_outputs(compile_pipeline):
    compiled = compile_pipeline(chain_pipeline(3), catalog_of({"d_1": pipeline_dataset("d1.pkl")}))
    jobs = compiled.spec["jobs"]

    assert list(jobs) == ["node_0", "node_1", "node_2"]
    assert jobs["node_1"]["inputs"] == {"d_0": "${{parent.jobs.node_0.outputs.d_0}}"}
    assert jobs["node_1"]["outputs"] == {"d_1": {"type": "uri_folder"}}
    assert jobs["node_1"]["command"] == (
        "kedro azureml execute --pipeline __default__ --node node_1 "
        "--az-input d_0 ${{inputs.d_0}} --az-output d_1 ${{outputs.d_1}}"
    )
    assert "outputs" not in jobs["node_2"]  # d_2 is an undeclared terminal output: nothing to keep
    assert [step.depends_on for step in compiled.steps] == [(), ("node_0",), ("node_1",)]


def test_job_metadata_compute_environment_and_variables(compile_pipeline):
    compiled = compile_pipeline(
        chain_pipeline(1),
        job={
            "display_name": "Nightly training",
            "description": "Trains the model",
            "tags": {"team": "forecasting"},
            "env_vars": {"FOO": "bar"},
            "timeout": 600,
            "retries": 2,
            "continue_on_step_failure": True,
        },
        options=CompileOptions(env="prod", env_vars={"EXTRA": "1"}),
    )
    spec = compiled.spec
    step = spec["jobs"]["node_0"]

    assert spec["experiment_name"] == "demo-experiment"
    assert spec["display_name"] == "Nightly training"
    assert spec["description"] == "Trains the model"
    assert spec["tags"] == {"team": "forecasting"}
    assert spec["settings"] == {
        "default_compute": "azureml:cpu-cluster",
        "continue_on_step_failure": True,
        "force_rerun": True,
    }
    assert step["compute"] == "azureml:cpu-cluster"
    assert step["environment"] == "azureml:kedro-env@latest"
    assert step["environment_variables"] == {"EXTRA": "1", "FOO": "bar", "KEDRO_ENV": "prod"}
    assert step["limits"] == {"timeout": 600}
    assert "--retries 2" in step["command"]
    assert step["code"] == "."


def test_nodes_route_to_compute_and_environment_by_tag(compile_pipeline):
    pipeline = Pipeline(
        [
            node(identity, "params:seed", "a", name="prep"),
            node(identity, "a", "b", name="train", tags=["gpu"]),
        ]
    )
    compiled = compile_pipeline(
        pipeline,
        sections={
            "environment": {
                "__default__": {"name": "kedro-env@latest"},
                "cuda": {"image": "registry.example/cuda:1", "tags": ["gpu"]},
            }
        },
    )
    jobs = compiled.spec["jobs"]
    assert jobs["prep"]["compute"] == "azureml:cpu-cluster"
    assert jobs["train"]["compute"] == "azureml:gpu-cluster"
    assert jobs["train"]["environment"] == {"image": "registry.example/cuda:1"}


def test_node_matching_two_compute_entries_is_an_error_naming_it(compile_pipeline):
    pipeline = Pipeline([node(identity, "params:seed", "a", name="train", tags=["gpu", "big"])])
    with pytest.raises(CompileError, match=r"node 'train' matches several compute entries by tag"):
        compile_pipeline(
            pipeline,
            sections={
                "compute": {
                    "__default__": {"cluster_name": "cpu"},
                    "gpu": {"cluster_name": "gpu", "tags": ["gpu"]},
                    "big": {"cluster_name": "big", "tags": ["big"]},
                }
            },
        )


def test_colliding_node_names_get_distinct_step_names(compile_pipeline):
    pipeline = Pipeline(
        [
            node(identity, "params:seed", "x", name="Train.Model"),
            node(identity, "x", "y", name="train_model"),
        ]
    )
    compiled = compile_pipeline(pipeline)
    assert list(compiled.spec["jobs"]) == ["train_model", "train_model_2"]
    assert compiled.spec["jobs"]["train_model_2"]["inputs"] == {
        "x": "${{parent.jobs.train_model.outputs.x}}"
    }
    assert "--node Train.Model" in compiled.spec["jobs"]["train_model"]["command"]


def test_dataset_names_become_valid_port_names(compile_pipeline):
    pipeline = Pipeline(
        [
            node(identity, "params:seed", "ns.features", name="a"),
            node(identity, "ns.features", "out", name="b"),
        ]
    )
    step = compile_pipeline(pipeline).spec["jobs"]["b"]
    assert step["inputs"] == {"ns_features": "${{parent.jobs.a.outputs.ns_features}}"}
    assert "--az-input ns.features ${{inputs.ns_features}}" in step["command"]


def test_params_load_versions_and_aml_env_reach_every_step(compile_pipeline):
    compiled = compile_pipeline(
        chain_pipeline(2),
        options=CompileOptions(
            params={"lr": 0.1}, load_versions={"model": "v1"}, aml_env="other-env:3"
        ),
    )
    for step in compiled.spec["jobs"].values():
        assert """--params '{"lr": 0.1}'""" in step["command"]
        assert "--load-versions model:v1" in step["command"]
        assert step["environment"] == "azureml:other-env:3"


def test_image_mode_has_no_code_and_runs_from_the_working_directory(compile_pipeline):
    compiled = compile_pipeline(
        chain_pipeline(1),
        sections={
            "environment": {"__default__": {"image": "registry.example/project:1"}},
            "execution": {"mode": "image", "working_directory": "/home/kedro/app"},
        },
    )
    step = compiled.spec["jobs"]["node_0"]
    assert "code" not in step
    assert step["command"].startswith("cd /home/kedro/app && kedro azureml execute")
    assert compiled.code_directory is None


def test_distributed_nodes_become_multi_instance_steps(compile_pipeline):
    @distributed_job(Framework.PyTorch, num_nodes="params:nodes", processes_per_node=4)
    def train(x):
        return x

    @distributed_job(Framework.TensorFlow, num_nodes=3)
    def tf_train(x):
        return x

    pipeline = Pipeline(
        [
            node(train, "params:seed", "a", name="torch"),
            node(tf_train, "a", "b", name="tensorflow"),
        ]
    )
    jobs = compile_pipeline(pipeline, catalog_of({}, {"seed": 1, "nodes": 2})).spec["jobs"]
    assert jobs["torch"]["distribution"] == {"type": "pytorch", "process_count_per_instance": 4}
    assert jobs["torch"]["resources"] == {"instance_count": 2}
    assert jobs["tensorflow"]["distribution"] == {"type": "tensorflow", "worker_count": 3}


def test_distributed_size_from_a_missing_parameter_is_an_error(compile_pipeline):
    @distributed_job(Framework.MPI, num_nodes="params:missing")
    def train(x):
        return x

    with pytest.raises(CompileError, match="names a parameter that does not exist"):
        compile_pipeline(Pipeline([node(train, "params:seed", "a", name="mpi")]))


def test_asset_inputs_and_outputs(compile_pipeline):
    catalog = catalog_of(
        {
            "raw": {
                "type": "kedro_azureml_runtime.datasets.AzureMLAssetDataset",
                "azureml_dataset": "raw-data",
                "azureml_version": 3,
                "dataset": {"type": "pickle.PickleDataset", "filepath": "raw.pkl"},
            },
            "features": {
                "type": "kedro_azureml_runtime.datasets.AzureMLAssetDataset",
                "azureml_dataset": "features",
                "dataset": {"type": "pickle.PickleDataset", "filepath": "f.pkl"},
            },
        }
    )
    pipeline = Pipeline([node(identity, "raw", "features", name="featurize")])
    step = compile_pipeline(pipeline, catalog).spec["jobs"]["featurize"]
    assert step["inputs"] == {
        "raw": {"type": "uri_folder", "path": "azureml:raw-data:3", "mode": "ro_mount"}
    }
    assert step["outputs"] == {"features": {"type": "uri_folder", "name": "features"}}
    assert (
        "--az-input raw ${{inputs.raw}} --az-output features ${{outputs.features}}"
        in step["command"]
    )


def test_uri_file_asset_output_is_rejected_with_an_explanation(compile_pipeline):
    catalog = catalog_of(
        {
            "report": {
                "type": "kedro_azureml_runtime.datasets.AzureMLAssetDataset",
                "azureml_dataset": "report",
                "azureml_type": "uri_file",
                "dataset": {"type": "pickle.PickleDataset", "filepath": "r.pkl"},
            }
        }
    )
    with pytest.raises(CompileError, match="Azure ML cannot register a uri_file output"):
        compile_pipeline(Pipeline([node(identity, "params:seed", "report", name="n")]), catalog)


def test_empty_selection_is_an_error(compile_pipeline):
    with pytest.raises(CompileError, match="selects no node"):
        compile_pipeline(Pipeline([]))


def test_output_is_deterministic_and_loads_with_azure_ai_ml(compile_pipeline, tmp_path):
    from azure.ai.ml import load_job

    catalog = catalog_of({"d_1": pipeline_dataset("d1.pkl")})
    first = compile_pipeline(chain_pipeline(4), catalog).to_yaml()
    second = compile_pipeline(chain_pipeline(4), catalog).to_yaml()
    assert first == second
    assert yaml.safe_load(first)["jobs"]["node_3"]["inputs"]["d_2"]

    job = load_job(io.StringIO(first), relative_origin=str(tmp_path))
    assert sorted(job.jobs) == ["node_0", "node_1", "node_2", "node_3"]
    result = job._validate()
    assert result.passed, result.error_messages


def test_mlflow_projects_file_the_pipeline_under_the_mlflow_experiment(compile_pipeline):
    without_name = compile_pipeline(
        chain_pipeline(1),
        job={"experiment_name": None},
        options=CompileOptions(mlflow_experiment="from-mlflow-yml"),
    )
    named = compile_pipeline(
        chain_pipeline(1), options=CompileOptions(mlflow_experiment="demo-experiment")
    )
    assert without_name.spec["experiment_name"] == "from-mlflow-yml"
    assert named.spec["experiment_name"] == "demo-experiment"


def test_load_version_of_a_dataset_the_job_produces_is_refused_naming_its_producer(
    compile_pipeline,
):
    with pytest.raises(CompileError) as caught:
        compile_pipeline(chain_pipeline(3), options=CompileOptions(load_versions={"d_1": "v1"}))

    message = str(caught.value)
    assert "\n" not in message
    assert "dataset 'd_1' is produced inside job 'train' by node 'node_1'" in message
    assert "drop d_1 from --load-versions" in message


def test_load_version_of_a_dataset_read_from_outside_the_job_reaches_its_reader(
    compile_pipeline,
):
    reads_a_saved_model = Pipeline([node(identity, "d_1", "d_2", name="node_2")])

    compiled = compile_pipeline(
        reads_a_saved_model, options=CompileOptions(load_versions={"d_1": "v1"})
    )

    (step,) = compiled.spec["jobs"].values()
    assert "--load-versions d_1:v1" in step["command"]
