"""``status`` and ``logs`` of a submitted pipeline job, per Kedro node, with the real ``MLClient``
over HTTPS against the fake Azure REST API (child jobs in its run history, logs as its files)."""

from __future__ import annotations

import pytest

from azure_fake.pipeline_runs import JOB, execute_command, seeded_steps
from kedro_azureml_deploy.azure.failure_cause import failure_cause
from kedro_azureml_deploy.azure.job_status import JobStatusReader, node_arguments
from kedro_azureml_deploy.errors import SubmitError


def test_status_names_each_kedro_node_with_its_step_state_times_compute_and_studio_link(
    fake_azure, ml_client, target
):
    fake_azure.add_pipeline_run(JOB, seeded_steps(), status="Failed")

    job = JobStatusReader(ml_client, target, JOB).read()

    assert job.status == "Failed" and job.finished
    assert [(s.step, s.nodes, s.status) for s in job.steps] == [
        ("preprocess", ("preprocess",), "Completed"),
        ("features_and_train", ("features", "train"), "Failed"),
        ("evaluate", ("evaluate",), "NotStarted"),
    ]
    done, failed, waiting = job.steps
    assert done.duration() == 65
    assert failed.compute == "gpu-cluster"
    assert done.studio_url and f"/runs/{done.run_id}" in done.studio_url
    assert failed.cause == "Error: node train failed: KeyError: 'price'"
    assert waiting.duration() is None and waiting.cause is None
    assert job.step_of_node("train") is failed
    pages = job.progress()
    assert [pages[s].state for s in ("preprocess", "features_and_train", "evaluate")] == [
        "completed",
        "failed",
        "queued",
    ]
    # over HTTPS: the children from the run history, the command from each step's component
    assert fake_azure.requests_to("GET", rf"/history/v1\.0/.*/runs/{JOB}/children$")
    assert len(fake_azure.requests_to("GET", r"/components/azureml_anonymous/versions/")) == 3


def test_logs_of_a_node_are_its_steps_log(fake_azure, ml_client, target):
    fake_azure.add_pipeline_run(JOB, seeded_steps())
    reader = JobStatusReader(ml_client, target, JOB)

    step = reader.read().step_of_node("features")

    assert "KeyError: 'price'" in reader.log(step)
    assert reader.log(reader.read().step_of_node("evaluate")) == ""  # not started: no log yet


def test_follow_prints_the_log_as_it_grows_until_the_step_ends(fake_azure, ml_client, target):
    steps = seeded_steps()
    running = steps[2]
    running.status, running.started, running.log = "Running", "2026-12-02T04:02:00Z", "epoch 1\n"
    fake_azure.add_pipeline_run(JOB, steps)

    def tick(_seconds: float) -> None:  # between two reads, the step writes more, then ends
        if running.log.count("epoch") == 1:
            running.log += "epoch 2\n"
        else:
            running.log += "done\n"
            running.status = "Completed"

    chunks = list(JobStatusReader(ml_client, target, JOB).follow("evaluate", sleep=tick))

    assert "".join(chunks) == "epoch 1\nepoch 2\ndone\n"
    assert chunks[0] == "epoch 1\n"


def test_an_unknown_job_is_one_line_naming_the_workspace(fake_azure, ml_client, target):
    with pytest.raises(SubmitError, match=r"no job 'nope' in workspace ws-demo .*-w/--workspace"):
        JobStatusReader(ml_client, target, "nope").read()


def test_an_unknown_node_names_the_nodes_of_the_job(fake_azure, ml_client, target):
    fake_azure.add_pipeline_run(JOB, seeded_steps())

    with pytest.raises(SubmitError, match=r"no node 'trian'; did you mean `train`\?.*--node"):
        JobStatusReader(ml_client, target, JOB).read().step_of_node("trian")


def test_node_arguments_are_read_from_the_step_execute_command():
    assert node_arguments(execute_command("a", "b")) == ("a", "b")
    assert node_arguments("cd src && kedro azureml execute --node=x --pipeline p") == ("x",)


@pytest.mark.parametrize(
    ("log", "error", "expected"),
    [
        (
            "Traceback\nValueError: bad\nError: node n failed: ValueError: bad\n",
            None,
            "Error: node n failed: ValueError: bad",
        ),
        (
            "Error: [Errno 2] No such file or directory: 'data/01_raw/x.csv'\n",
            None,
            "missing file: Error: [Errno 2]",
        ),
        ("loading\nKilled\n", "exited with code 137", "out of memory:"),
        ("", "Failed to pull image myregistry.azurecr.io/env:3: ErrImagePull", "image pull:"),
        (
            "azure.core.exceptions.ClientAuthenticationError: DefaultAzureCredential failed",
            None,
            "authentication:",
        ),
        ("", "Job failed for an internal reason.\nmore", "Job failed for an internal reason."),
        ("", None, None),
    ],
)
def test_a_failed_step_gets_a_one_line_cause(log, error, expected):
    cause = failure_cause(log, error)

    if expected is None:
        assert cause is None
    else:
        assert cause.startswith(expected) and "\n" not in cause
