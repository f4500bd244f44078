"""``kedro azureml doctor``: each failure class of an adopted project is reported before submission
with its fix, and the fix makes it go away. (``compile`` and ``run`` run the same checks.)"""

from __future__ import annotations

import json

import pytest

from project_factory import KedroProject, NodeSpec, azureml_yml, pipeline_dataset

AZUREML_YML = azureml_yml({"default": {}})
LOCAL_REPORT = {"type": "json.JSONDataset", "filepath": "data/08_reporting/report.json"}
RAW = {"type": "pickle.PickleDataset", "filepath": "data/01_raw/raw.pkl"}
#: A raw input the code snapshot ships (outside data/, which never ships).
SHIPPED_RAW = {"type": "pickle.PickleDataset", "filepath": "inputs/raw.pkl"}


def starter_project(
    make_project, *, catalog: dict, extra_files: dict | None = None
) -> KedroProject:
    """A starter-like project: raw input -> features -> report."""
    project = make_project(
        nodes=[
            NodeSpec("features", "identity", ["raw"], ["features"]),
            NodeSpec("report", "write_report", ["features"], ["report"]),
        ],
        catalog=catalog,
        extra_files={"conf/base/azureml.yml": AZUREML_YML, **(extra_files or {})},
    )
    for folder in ("data/01_raw", "inputs"):
        (project.path / folder).mkdir(parents=True, exist_ok=True)
        (project.path / folder / "raw.pkl").write_bytes(b"\x80\x04K\x01.")
    return project


def doctor(project: KedroProject, *args: str):
    return project.kedro("azureml", "doctor", *args)


def test_terminal_output_with_a_local_path_is_an_error_until_wrapped(make_project):
    catalog = {"report": LOCAL_REPORT, "raw": SHIPPED_RAW}
    project = starter_project(make_project, catalog=catalog)

    result = doctor(project)

    assert result.returncode == 1
    assert (
        "error: report: a terminal output with the local path data/08_reporting/report.json"
        in result.stdout
    )
    assert "Fix: wrap it in kedro_azureml_runtime.datasets.AzureMLPipelineDataset" in result.stdout
    compile_result = project.kedro("azureml", "compile")
    assert compile_result.returncode == 1 and "report" in compile_result.stderr

    fixed = {**catalog, "report": pipeline_dataset("08_reporting/report.json", "json.JSONDataset")}
    (project.path / "conf" / "base" / "catalog.yml").write_text(
        "".join(f"{json.dumps(k)}: {json.dumps(v)}\n" for k, v in fixed.items())
    )
    assert doctor(project).returncode == 0


def test_local_input_left_out_of_the_snapshot_names_the_rule(make_project):
    project = starter_project(
        make_project,
        catalog={"raw": RAW, "report": pipeline_dataset("report.json", "json.JSONDataset")},
        extra_files={".amlignore": "data/\n"},
    )

    result = doctor(project)

    assert result.returncode == 1
    assert "error: raw: a pipeline input read from data/01_raw/raw.pkl" in result.stdout
    assert "(always left out: /data/)" in result.stdout
    assert "AzureMLAssetDataset" in result.stdout


def test_input_dropped_by_the_ignore_file_names_its_pattern(make_project):
    project = starter_project(
        make_project,
        catalog={"raw": SHIPPED_RAW, "report": pipeline_dataset("report.json", "json.JSONDataset")},
        extra_files={".gitignore": "*.pkl\n"},
    )

    result = doctor(project)

    assert result.returncode == 1
    assert (
        "error: raw: a pipeline input read from inputs/raw.pkl, which the code snapshot leaves out (.gitignore: *.pkl)"
        in result.stdout
    )


def test_environment_left_out_of_the_snapshot_is_an_error(make_project):
    project = starter_project(
        make_project,
        catalog={
            "raw": SHIPPED_RAW,
            "report": pipeline_dataset("r.json", "json.JSONDataset"),
        },
        extra_files={".amlignore": "conf/prod/\n", "conf/prod/parameters.yml": "seed: 2\n"},
    )

    result = doctor(project, "-e", "prod")

    assert result.returncode == 1
    assert (
        "error: conf/prod: the steps need it but the code snapshot leaves it out (.amlignore: conf/prod/)"
        in result.stdout
    )
    assert doctor(project, "-e", "base").returncode == 0


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        (
            {"conf/base/secrets.yml": "note: nothing secret yet\n"},
            "conf/base/secrets.yml: looks like a secret",
        ),
        (
            {"notebooks/big.bin": "x" * (11 * 2**20)},
            "notebooks/big.bin: a 11 MiB file would be uploaded",
        ),
    ],
)
def test_secrets_and_large_files_are_warnings_that_strict_turns_into_errors(
    make_project, files, needle
):
    project = starter_project(
        make_project,
        catalog={
            "raw": SHIPPED_RAW,
            "report": pipeline_dataset("r.json", "json.JSONDataset"),
        },
        extra_files=files,
    )

    relaxed = doctor(project)
    strict = doctor(project, "--strict")

    assert relaxed.returncode == 0 and f"warning: {needle}" in relaxed.stdout
    assert strict.returncode == 1
    assert project.kedro("azureml", "compile", "--strict").returncode == 1
    assert project.kedro("azureml", "compile").returncode == 0


def test_a_healthy_project_has_no_finding(make_project):
    project = starter_project(
        make_project,
        catalog={
            "raw": SHIPPED_RAW,
            "report": pipeline_dataset("r.json", "json.JSONDataset"),
        },
    )
    result = doctor(project)
    assert result.returncode == 0
    assert "job 'default': no problem found." in result.stdout
