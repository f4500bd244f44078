"""``kedro azureml status`` and ``logs``: wiring, output and exit codes, in process (so the test
credential can stand in for a sign-in), against the fake over HTTPS."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from click.testing import CliRunner

from azure_fake.credentials import FakeTokenCredential
from azure_fake.pipeline_runs import JOB, seeded_steps
from azure_fake.projects import SETTINGS, azureml_config, spaceflights_nodes
from kedro_azureml_deploy.cli.status import logs, status


@pytest.fixture
def project_metadata(make_project, fake_azure, monkeypatch):
    """A project whose azureml.yml points at the fake, bootstrapped; signing in gives the test
    credential (what DefaultAzureCredential would give after `az login`)."""
    from kedro.framework.startup import bootstrap_project

    nodes, catalog = spaceflights_nodes()
    config = azureml_config(fake_azure.base_url, {"train": {"experiment_name": "demo"}})
    files = make_project(
        package=f"status_{uuid.uuid4().hex[:10]}",
        nodes=nodes,
        catalog=catalog,
        settings=SETTINGS,
        extra_files={"conf/base/azureml.yml": json.dumps(config)},
    )
    monkeypatch.chdir(files.path)
    monkeypatch.setattr(
        "kedro_azureml_deploy.azure.credentials.build_credential",
        lambda *_args, **_kwargs: FakeTokenCredential(),
    )
    return bootstrap_project(files.path)


def invoke(command, args, metadata):
    return CliRunner().invoke(command, args, obj=metadata, catch_exceptions=False)


def test_status_prints_one_row_per_kedro_node_and_the_cause_of_a_failure(
    fake_azure, project_metadata
):
    fake_azure.add_pipeline_run(JOB, seeded_steps(), status="Failed")

    result = invoke(status, [JOB], project_metadata)

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"Job {JOB}: Failed  https://ml.azure.com/runs/{JOB}")
    assert lines[1].split() == ["node", "step", "state", "started", "duration", "compute", "studio"]
    rows = {line.split()[0]: line.split() for line in lines[2:6]}
    assert rows["features"][1:3] == ["features_and_train", "Failed"]
    assert rows["train"][1:3] == ["features_and_train", "Failed"]
    assert "gpu-cluster" in rows["train"] and "30" in rows["train"]
    assert rows["evaluate"][1:3] == ["evaluate", "NotStarted"]
    assert lines[-1] == "features_and_train: Error: node train failed: KeyError: 'price'"


def test_status_watch_reads_until_the_job_ends_and_fails_when_it_did_not_complete(
    fake_azure, project_metadata
):
    steps = seeded_steps()
    fake_azure.add_pipeline_run(JOB, steps, status="Running")
    reads = []

    original = fake_azure.handle

    def handle(request, **kwargs):  # the job ends after the second read of its children
        if request.path.endswith(f"/runs/{JOB}/children"):
            reads.append(request)
            if len(reads) == 2:
                steps[2].status = "Canceled"
                fake_azure.set_job_status(JOB, "Failed")
        return original(request, **kwargs)

    fake_azure.handle = handle

    result = CliRunner().invoke(status, [JOB, "--watch", "--interval", "1"], obj=project_metadata)

    assert result.exit_code == 1
    assert result.output.startswith(f"Job {JOB}: Running")
    assert len(reads) == 3  # until the job's status is final, each change printed once
    assert f"Job {JOB}: Failed" in result.output
    assert f"Error: job {JOB} ended Failed" in result.output
    assert "Traceback" not in result.output


def test_logs_prints_the_log_of_the_nodes_step(fake_azure, project_metadata):
    fake_azure.add_pipeline_run(JOB, seeded_steps())

    result = invoke(logs, [JOB, "--node", "train"], project_metadata)

    assert result.exit_code == 0
    assert result.output.endswith("Error: node train failed: KeyError: 'price'\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", "--node", "train"], "Error: no job 'nope' in workspace ws-demo"),
        ([JOB, "--node", "trian"], "did you mean `train`?"),
    ],
)
def test_an_unknown_job_or_node_is_one_line_with_the_fix_and_exit_1(
    fake_azure, project_metadata, args, message
):
    fake_azure.add_pipeline_run(JOB, seeded_steps())

    result = CliRunner().invoke(logs, args, obj=project_metadata)

    assert result.exit_code == 1
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and message in error_lines[0]
    assert "Traceback" not in result.output


def test_plan_html_with_an_azure_job_links_each_node_to_its_step_in_studio(
    fake_azure, project_metadata
):
    from kedro_azureml_deploy.cli.plan import plan

    steps = seeded_steps()
    fake_azure.add_pipeline_run(JOB, steps, status="Failed")

    result = invoke(
        plan, ["-j", "train", "--html", "page.html", "--azure-job", JOB], project_metadata
    )

    assert result.exit_code == 0, result.output
    assert f"with Azure ML job {JOB}: 4 nodes in 4 steps -> page.html" in result.output
    html = (project_metadata.project_path / "page.html").read_text()
    # the project's steps are one per node; the Azure job's first step is `preprocess`
    assert re.search(r'data-node="preprocess" data-state="completed"', html)
    assert f"https://ml.azure.com/runs/{steps[0].run_id}" in html
    assert f"Azure ML job {JOB} (Failed)" in html
