"""Preflight: data crossing a step boundary must be able to travel between Azure ML steps."""

from __future__ import annotations

import pytest
from kedro.pipeline import Pipeline, node

from kedro_azureml_deploy.compiler import CompileOptions, Travel
from kedro_azureml_deploy.errors import CompileError

from .conftest import catalog_of, identity, pipeline_dataset

LOCAL_PICKLE = {"type": "pickle.PickleDataset", "filepath": "data/02_intermediate/x.pkl"}


def fan_out() -> Pipeline:
    return Pipeline(
        [
            node(identity, "params:seed", "x", name="produce"),
            node(identity, "x", "y", name="consume_a"),
            node(identity, "x", "z", name="consume_b"),
        ]
    )


def test_memory_dataset_crossing_steps_is_an_error_with_producer_consumers_and_fix(
    compile_pipeline,
):
    with pytest.raises(CompileError) as error:
        compile_pipeline(fan_out(), catalog_of({"x": {"type": "MemoryDataset"}}))
    message = str(error.value)
    assert "1 dataset(s) cannot cross a step boundary" in message
    assert "x (from produce to consume_a, consume_b)" in message
    assert "MemoryDataset" in message and "AzureMLPipelineDataset" in message


def test_local_file_dataset_crossing_steps_is_an_error(compile_pipeline):
    with pytest.raises(
        CompileError, match=r"PickleDataset with the local path .*x\.pkl.*store it remotely"
    ):
        compile_pipeline(fan_out(), catalog_of({"x": LOCAL_PICKLE}))


def test_every_offender_is_listed(compile_pipeline):
    pipeline = Pipeline(
        [
            node(identity, "params:seed", "a", name="one"),
            node(identity, "a", "b", name="two"),
            node(identity, "b", "c", name="three"),
        ]
    )
    catalog = catalog_of({"a": {"type": "MemoryDataset"}, "b": LOCAL_PICKLE})
    with pytest.raises(CompileError) as error:
        compile_pipeline(pipeline, catalog)
    assert "2 dataset(s)" in str(error.value)
    assert "a (from one to two)" in str(error.value)
    assert "b (from two to three)" in str(error.value)


def test_datasets_that_can_travel_pass_and_say_how(compile_pipeline):
    pipeline = Pipeline(
        [
            node(identity, "params:seed", "wrapped", name="one"),
            node(identity, "wrapped", "undeclared", name="two"),
            node(identity, "undeclared", "remote", name="three"),
            node(identity, "remote", "end", name="four"),
        ]
    )
    catalog = catalog_of(
        {
            "wrapped": pipeline_dataset("w.pkl"),
            "remote": {"type": "pickle.PickleDataset", "filepath": "memory://bucket/remote.pkl"},
        }
    )
    compiled = compile_pipeline(pipeline, catalog)
    assert {c.dataset: c.travel for c in compiled.crossings} == {
        "wrapped": Travel.PIPELINE_DATASET,
        "undeclared": Travel.INTERMEDIATE,
        "remote": Travel.REMOTE,
    }
    four = compiled.spec["jobs"]["four"]
    # A remote dataset is read from its storage, but the binding still orders the steps.
    assert four["inputs"] == {"remote": "${{parent.jobs.three.outputs.remote}}"}
    assert "--az-input" not in four["command"]


def test_local_paths_that_do_not_cross_steps_are_not_preflight_errors(compile_pipeline):
    pipeline = Pipeline([node(identity, "raw", "report", name="only")])
    catalog = catalog_of({"raw": LOCAL_PICKLE, "report": {**LOCAL_PICKLE, "filepath": "r.pkl"}})
    assert compile_pipeline(pipeline, catalog).crossings == ()


def test_skipping_preflight_compiles_what_azure_would_then_fail_on(compile_pipeline):
    compiled = compile_pipeline(
        fan_out(),
        catalog_of({"x": {"type": "MemoryDataset"}}),
        options=CompileOptions(preflight=False),
    )
    (crossing,) = compiled.crossings
    assert crossing.travel is None and "MemoryDataset" in crossing.problem
    produce = compiled.spec["jobs"]["produce"]
    assert produce["outputs"] == {"x": {"type": "uri_folder"}}
    assert "--az-output" not in produce["command"]
