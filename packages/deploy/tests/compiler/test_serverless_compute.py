"""Serverless compute: a ``compute`` entry with ``instance_type`` and no ``cluster_name``."""

from __future__ import annotations

import io

import pytest
from kedro.pipeline import Pipeline, node

from kedro_azureml_deploy.compiler.plan import plan_of
from kedro_azureml_deploy.config import parse_config
from kedro_azureml_deploy.errors import ConfigError
from kedro_azureml_runtime.distributed import Framework, distributed_job

from .conftest import BASE_CONFIG, catalog_of, chain_pipeline, identity

SERVERLESS = {
    "__default__": {"instance_type": "Standard_DS3_v2"},
    "big": {"instance_type": "Standard_E16s_v3", "instance_count": 2, "tags": ["big"]},
    "gpu": {"cluster_name": "gpu-cluster", "tags": ["gpu"]},
}


def tagged_pipeline() -> Pipeline:
    return Pipeline(
        [
            node(identity, "params:seed", "a", name="prepare"),
            node(identity, "a", "b", name="crunch", tags=["big"]),
            node(identity, "b", "c", name="train", tags=["gpu"]),
        ]
    )


def load(compiled, tmp_path):
    from azure.ai.ml import load_job

    job = load_job(io.StringIO(compiled.to_yaml()), relative_origin=str(tmp_path))
    result = job._validate()
    assert result.passed, result.error_messages
    return job


def test_serverless_default_compiles_to_instance_types_routed_by_tags(compile_pipeline, tmp_path):
    compiled = compile_pipeline(tagged_pipeline(), sections={"compute": SERVERLESS})

    jobs = compiled.spec["jobs"]
    assert compiled.spec["settings"]["default_compute"] == "serverless"
    assert "compute" not in jobs["prepare"]
    assert jobs["prepare"]["resources"] == {"instance_type": "Standard_DS3_v2"}
    assert "compute" not in jobs["crunch"]
    assert jobs["crunch"]["resources"] == {"instance_type": "Standard_E16s_v3", "instance_count": 2}
    assert jobs["train"]["compute"] == "azureml:gpu-cluster"
    assert "resources" not in jobs["train"]

    job = load(compiled, tmp_path)
    assert job.jobs["crunch"].resources.instance_type == "Standard_E16s_v3"
    assert job.jobs["crunch"].resources.instance_count == 2
    assert job.jobs["train"].compute == "gpu-cluster"


def test_a_serverless_step_under_a_cluster_default_names_serverless_compute(
    compile_pipeline, tmp_path
):
    compute = {**BASE_CONFIG["compute"], "big": SERVERLESS["big"]}
    compute["gpu"] = {"cluster_name": "gpu-cluster", "tags": ["gpu"]}
    compiled = compile_pipeline(tagged_pipeline(), sections={"compute": compute})

    jobs = compiled.spec["jobs"]
    assert compiled.spec["settings"]["default_compute"] == "azureml:cpu-cluster"
    assert jobs["prepare"]["compute"] == "azureml:cpu-cluster"
    # without it the step would inherit the default cluster
    assert jobs["crunch"]["compute"] == "serverless"
    assert jobs["crunch"]["resources"]["instance_type"] == "Standard_E16s_v3"
    load(compiled, tmp_path)


def test_plan_shows_serverless_steps_by_instance_type_and_count(compile_pipeline):
    compiled = compile_pipeline(tagged_pipeline(), sections={"compute": SERVERLESS})

    assert {step.name: step.compute for step in plan_of(compiled).steps} == {
        "prepare": "serverless Standard_DS3_v2",
        "crunch": "serverless Standard_E16s_v3 x2",
        "train": "gpu-cluster",
    }


def test_a_distributed_node_on_serverless_compute_asks_for_its_own_instance_count(
    compile_pipeline, tmp_path
):
    @distributed_job(Framework.PyTorch, num_nodes=4)
    def train(x):
        return x

    compiled = compile_pipeline(
        Pipeline([node(train, "params:seed", "a", name="torch")]),
        sections={"compute": SERVERLESS},
    )

    step = compiled.spec["jobs"]["torch"]
    assert step["resources"] == {"instance_type": "Standard_DS3_v2", "instance_count": 4}
    assert step["distribution"]["type"] == "pytorch"
    load(compiled, tmp_path)


def test_cluster_jobs_compile_as_before(compile_pipeline):
    jobs = compile_pipeline(chain_pipeline(2), catalog_of({})).spec["jobs"]
    assert {step["compute"] for step in jobs.values()} == {"azureml:cpu-cluster"}
    assert not any("resources" in step for step in jobs.values())


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"instance_type": "DS3_v2"}, "is not an Azure VM size"),
        ({"instance_type": "Standard DS3"}, "is not an Azure VM size"),
        ({"cluster_name": "cpu-cluster", "instance_type": "Standard_DS3_v2"}, "not both"),
        ({"tags": ["x"]}, "give `cluster_name`"),
        (
            {"cluster_name": "cpu-cluster", "instance_count": 2},
            "`instance_count` is for serverless",
        ),
        ({"instance_type": "Standard_DS3_v2", "instance_count": 0}, "instance_count"),
    ],
)
def test_compute_entries_are_checked_for_their_shape(entry, expected):
    data = {**BASE_CONFIG, "compute": {"__default__": entry}}
    with pytest.raises(ConfigError, match=expected) as raised:
        parse_config(data)
    assert "compute.__default__" in str(raised.value)
