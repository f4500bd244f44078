"""Helpers for compiler tests: pipelines, catalogs and configs built in memory (no project needed)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node

from kedro_azureml_deploy.compiler import CompileOptions, compile_job
from kedro_azureml_deploy.config import parse_config

BASE_CONFIG: dict[str, Any] = {
    "workspace": {
        "__default__": {
            "subscription_id": "00000000-0000-0000-0000-000000000000",
            "resource_group": "rg-demo",
            "name": "ws-demo",
        }
    },
    "compute": {
        "__default__": {"cluster_name": "cpu-cluster"},
        "gpu": {"cluster_name": "gpu-cluster", "tags": ["gpu"]},
    },
    "environment": {"__default__": {"name": "kedro-env@latest"}},
    "jobs": {"train": {"experiment_name": "demo-experiment"}},
}


def identity(*values):
    return values[0] if values else 1


def pipeline_dataset(filepath: str, wrapped: str = "pickle.PickleDataset") -> dict[str, Any]:
    return {
        "type": "kedro_azureml_runtime.datasets.AzureMLPipelineDataset",
        "dataset": {"type": wrapped, "filepath": filepath},
    }


def chain_pipeline(n: int) -> Pipeline:
    nodes = [node(identity, "params:seed", "d_0", name="node_0")]
    nodes += [node(identity, f"d_{i - 1}", f"d_{i}", name=f"node_{i}") for i in range(1, n)]
    return Pipeline(nodes)


def catalog_of(entries: dict[str, Any], parameters: dict[str, Any] | None = None) -> DataCatalog:
    catalog = DataCatalog.from_config(entries)
    for name, value in (parameters or {"seed": 1}).items():
        catalog[f"params:{name}"] = value
    return catalog


@pytest.fixture
def compile_pipeline():
    """Compile ``pipeline`` with ``catalog`` and a config built from ``BASE_CONFIG`` plus
    ``changes`` (a dict merged into the ``train`` job, or whole sections)."""

    def run(
        pipeline: Pipeline,
        catalog: DataCatalog | None = None,
        *,
        job: dict[str, Any] | None = None,
        sections: dict[str, Any] | None = None,
        options: CompileOptions | None = None,
    ):
        data = copy.deepcopy(BASE_CONFIG)
        data.update(copy.deepcopy(sections or {}))
        data["jobs"]["train"].update(job or {})
        config = parse_config(data)
        name, job_config = config.job("train")
        return compile_job(
            job_name=name,
            job=job_config,
            config=config,
            pipeline=pipeline,
            catalog=catalog if catalog is not None else catalog_of({}),
            options=options or CompileOptions(),
        )

    return run
