"""``kedro azureml doctor``: each failure class of an adopted project is reported before submission
with its fix, and the fix makes it go away. (``compile`` and ``run`` run the same checks.)"""

from __future__ import annotations

import json
from pathlib import Path

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


HEALTHY_CATALOG = {"raw": SHIPPED_RAW, "report": pipeline_dataset("r.json", "json.JSONDataset")}
TEMPLATE_AMLIGNORE = (
    Path(__file__).parents[4] / "templates" / "kedro-azureml-project" / "project" / ".amlignore"
)


def test_an_uploaded_log_file_is_a_warning_until_the_template_amlignore_leaves_it_out(
    make_project,
):
    project = starter_project(
        make_project,
        catalog=HEALTHY_CATALOG,
        extra_files={"info.log": "INFO Loading /home/someone/project\n", ".amlignore": "data/\n"},
    )

    result = doctor(project)

    assert result.returncode == 0
    assert "warning: info.log: a log file would be uploaded with the code" in result.stdout
    assert "Fix: add *.log to .amlignore." in result.stdout
    assert doctor(project, "--strict").returncode == 1
    (project.path / ".amlignore").write_text(TEMPLATE_AMLIGNORE.read_text())
    assert "info.log" not in doctor(project).stdout


def test_doctor_lists_everything_the_snapshot_never_uploads(make_project):
    left_out = {
        "conf/local/credentials.yml": "a: b\n",
        ".env": "A=1\n",
        ".env.prod": "A=2\n",
        "conf/base/credentials_extra.yml": "x: y\n",
        "src/demo_project/.env": "B=1\n",
        "notes/.env.test": "C=1\n",
        "tools/credentials-ci.yml": "z: 1\n",
    }
    project = starter_project(make_project, catalog=HEALTHY_CATALOG, extra_files=left_out)

    result = doctor(project)

    (code,) = [line for line in result.stdout.splitlines() if line.startswith("  code: ")]
    for entry in ("conf/local/", "data/", ".env", ".env.prod", "src/demo_project/.env"):
        assert entry in code
    assert "notes/.env.test" in code and "tools/credentials-ci.yml" in code
    assert " more" not in code


@pytest.mark.parametrize(
    ("requirements", "finding"),
    [
        ("pandas\nkedro-azureml-runtime==0.1.0  # steps\n", True),
        ("kedro-azureml-runtime[mlflow]==0.2.0\n", False),
        ("pandas>=2\n", False),
    ],
)
def test_runtime_pinned_apart_in_requirements_and_dockerfile_is_an_error(
    make_project, requirements, finding
):
    dockerfile = (
        "FROM python:3.11-slim\nCOPY requirements.txt ./\n"
        'RUN pip install -r requirements.txt "kedro-azureml-runtime==0.2.0"\n'
    )
    project = starter_project(
        make_project,
        catalog=HEALTHY_CATALOG,
        extra_files={"requirements.txt": requirements, "Dockerfile": dockerfile},
    )

    result = doctor(project)

    message = (
        "error: requirements.txt: pins kedro-azureml-runtime==0.1.0 but the Dockerfile installs "
        "kedro-azureml-runtime==0.2.0"
    )
    assert (message in result.stdout) is finding, result.stdout
    assert (result.returncode == 1) is finding
    if finding:
        assert "Fix: set kedro-azureml-runtime==0.2.0 in requirements.txt" in result.stdout


def test_a_memory_dataset_inside_one_step_is_fine_and_crossing_steps_an_error(make_project):
    catalog = {**HEALTHY_CATALOG, "features": {"type": "MemoryDataset"}}
    project = starter_project(make_project, catalog=catalog)

    crossing = doctor(project)
    (project.path / "conf" / "base" / "azureml.yml").write_text(
        azureml_yml({"default": {"grouping": "chains"}})
    )
    grouped = doctor(project)

    assert crossing.returncode == 1
    assert "error: features (from features to report)" in crossing.stdout
    assert grouped.returncode == 0, grouped.stdout
    assert "job 'default': no problem found." in grouped.stdout
