"""Doctor reports catalog paths that leave a step's mounts or the project, and the fix clears it."""

from __future__ import annotations

import json

from project_factory import KedroProject, NodeSpec, azureml_yml, pipeline_dataset


def project_with(make_project, catalog: dict) -> KedroProject:
    return make_project(
        nodes=[
            NodeSpec("features", "identity", ["params:seed"], ["features"]),
            NodeSpec("report", "write_report", ["features"], ["report"]),
        ],
        catalog=catalog,
        extra_files={"conf/base/azureml.yml": azureml_yml({"default": {}})},
    )


def write_catalog(project: KedroProject, catalog: dict) -> None:
    (project.path / "conf" / "base" / "catalog.yml").write_text(
        "".join(f"{json.dumps(k)}: {json.dumps(v)}\n" for k, v in catalog.items())
    )


def test_a_pipeline_dataset_climbing_out_of_its_mount_is_an_error_until_fixed(make_project):
    catalog = {
        "features": pipeline_dataset("../features.pkl"),
        "report": pipeline_dataset("report.json", "json.JSONDataset"),
    }
    project = project_with(make_project, catalog)

    result = project.kedro("azureml", "doctor")

    assert result.returncode == 1
    assert (
        "error: features: its filepath '../features.pkl' leads outside the folder Azure ML "
        "mounts for it" in result.stdout
    )
    assert project.kedro("azureml", "compile").returncode == 1

    write_catalog(project, {**catalog, "features": pipeline_dataset("features.pkl")})
    assert project.kedro("azureml", "doctor").returncode == 0, project.kedro("azureml", "doctor")


def test_a_dataset_outside_the_project_is_an_error(make_project, tmp_path):
    outside = tmp_path / "elsewhere" / "features.pkl"
    catalog = {
        "features": pipeline_dataset("features.pkl"),
        "seed_file": {"type": "pickle.PickleDataset", "filepath": str(outside)},
        "report": pipeline_dataset("report.json", "json.JSONDataset"),
    }
    project = make_project(
        nodes=[
            NodeSpec("features", "identity", ["seed_file"], ["features"]),
            NodeSpec("report", "write_report", ["features"], ["report"]),
        ],
        catalog=catalog,
        extra_files={"conf/base/azureml.yml": azureml_yml({"default": {}})},
    )

    result = project.kedro("azureml", "doctor")

    assert result.returncode == 1
    assert (
        "error: seed_file: its path" in result.stdout and "is outside the project" in result.stdout
    )
