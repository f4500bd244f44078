"""``AzureMLPipelineDataset(output_mode=...)`` compiles to the mode of the step output."""

from __future__ import annotations

import io

import pytest
from kedro.io import DatasetError
from kedro.pipeline import Pipeline, node

from kedro_azureml_runtime.datasets import AzureMLPipelineDataset

from .conftest import catalog_of, identity, pipeline_dataset


def moded(filepath: str, mode: str | None) -> dict:
    entry = pipeline_dataset(filepath)
    if mode is not None:
        entry["output_mode"] = mode
    return entry


def pipeline() -> Pipeline:
    return Pipeline(
        [
            node(identity, "params:seed", "features", name="make_features"),
            node(identity, "features", "model", name="train"),
            node(identity, "model", "report", name="report"),
        ]
    )


def test_output_mode_becomes_the_mode_of_the_producing_steps_output(compile_pipeline, tmp_path):
    from azure.ai.ml import load_job

    catalog = catalog_of(
        {
            "features": moded("features.pkl", "upload"),
            "model": moded("model.pkl", "rw_mount"),
            "report": moded("report.pkl", None),
        }
    )
    compiled = compile_pipeline(pipeline(), catalog)

    jobs = compiled.spec["jobs"]
    assert jobs["make_features"]["outputs"]["features"] == {"type": "uri_folder", "mode": "upload"}
    assert jobs["train"]["outputs"]["model"] == {"type": "uri_folder", "mode": "rw_mount"}
    assert jobs["report"]["outputs"]["report"] == {"type": "uri_folder"}  # Azure ML's default
    assert "mode" not in jobs["train"]["inputs"]["features"]

    job = load_job(io.StringIO(compiled.to_yaml()), relative_origin=str(tmp_path))
    assert job.jobs["make_features"].outputs["features"].mode == "upload"
    assert job.jobs["train"].outputs["model"].mode == "rw_mount"
    result = job._validate()
    assert result.passed, result.error_messages


def test_an_unknown_output_mode_is_refused_naming_the_modes():
    with pytest.raises(DatasetError, match="output_mode 'direct' is not one of rw_mount, upload"):
        AzureMLPipelineDataset(
            dataset={"type": "pickle.PickleDataset", "filepath": "a.pkl"}, output_mode="direct"
        )
