"""A local replay of an MLflow project leaves one parent run and one child run per step in a real
tracking server, as an Azure ML pipeline job would.

The replay loop is simulated here (each step of the compiled job is ``kedro azureml execute`` in
its own process, with ``step_environment`` added to its environment), so the tracker is proven
without the replay engine.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from mlflow_testing import MlflowServer, StepRun, compile_job, run_step

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.mlflow_runs import (
    PARENT_RUN_TAG,
    ReplayTracking,
    mlflow_status,
    start_replay_tracking,
)
from project_factory import KedroProject, NodeSpec


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def replay(
    project: KedroProject, spec: dict[str, Any], *, mounts: Path, bin_folder: Path, run_name: str
) -> tuple[ReplayTracking, dict[str, StepRun]]:
    """Run the compiled job's steps in order, as the replay engine does with Azure ML's default
    ``continue_on_step_failure: false`` (no step starts after a failure)."""
    tracking = start_replay_tracking(project.path, spec, run_name=run_name)
    assert tracking is not None
    results: dict[str, StepRun] = {}
    for step in spec["jobs"]:  # the compiled order is topological
        result = run_step(
            project,
            spec,
            step,
            mounts=mounts,
            bin_folder=bin_folder,
            env=tracking.step_environment(step),
        )
        results[step] = result
        tracking.step_finished(step, "succeeded" if result.returncode == 0 else "failed")
        if result.returncode != 0:
            break
    failed = any(result.returncode for result in results.values())
    tracking.close("failed" if failed else "succeeded")
    return tracking, results


def runs_of(server: MlflowServer, experiment: str) -> dict[str, Any]:
    """The runs of ``experiment`` by run name."""
    client = server.client()
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r}"
    runs = client.search_runs([found.experiment_id], max_results=100)
    return {run.info.run_name: run for run in runs}


@pytest.mark.slow
def test_a_replay_is_one_parent_run_with_one_child_run_per_step(
    make_mlflow_project, mlflow_server, step_venv, mounts
):
    experiment = unique("replay")
    project = make_mlflow_project(experiment=experiment)
    spec = compile_job(project)
    before = len(mlflow_server.all_runs())

    tracking, results = replay(
        project, spec, mounts=mounts, bin_folder=step_venv, run_name="replay-1"
    )

    assert all(r.returncode == 0 for r in results.values()), results
    runs = runs_of(mlflow_server, experiment)
    assert sorted(runs) == ["evaluate", "replay-1", "train"]
    assert len(mlflow_server.all_runs()) == before + 3, "a step opened a run of its own"
    parent, train, evaluate = runs["replay-1"], runs["train"], runs["evaluate"]
    assert parent.info.run_id == tracking.parent_run_id
    assert parent.info.status == "FINISHED"
    assert parent.data.tags["kedro_azureml.replay"] == "true"
    assert parent.data.tags["kedro_azureml.job"] == "train"
    for step, run in (("train", train), ("evaluate", evaluate)):
        assert run.data.tags[PARENT_RUN_TAG] == parent.info.run_id
        assert run.info.run_id == tracking.child_run_id(step)
        assert run.info.status == "FINISHED"
        assert run.data.tags["kedro_azureml.nodes"] == step
        assert run.data.tags["kedro_azureml.job"] == "train"
        assert run.data.tags["kedro_azureml.pipeline"] == "__default__"
        assert run.data.tags["kedro_azureml.env"] == "base"
        assert "kedro_azureml.error" not in run.data.tags
    assert train.data.params == {"seed": "3"}  # logged by kedro-mlflow
    assert train.data.metrics == {"score": 30.0}  # logged by the node
    assert evaluate.data.params == {}


@pytest.mark.slow
def test_a_failing_step_is_tagged_with_its_error_and_ends_failed(
    make_mlflow_project, mlflow_server, step_venv, mounts
):
    experiment = unique("failing")
    project = make_mlflow_project(
        experiment=experiment,
        nodes=[
            NodeSpec("train", "log_score", ["params:seed"], ["model"]),
            NodeSpec("boom", "fail", ["model"], ["report"]),
        ],
    )
    spec = compile_job(project)

    _, results = replay(project, spec, mounts=mounts, bin_folder=step_venv, run_name="replay-2")

    assert results["train"].returncode == 0, results["train"].output
    assert results["boom"].returncode == 1
    runs = runs_of(mlflow_server, experiment)
    assert sorted(runs) == ["boom", "replay-2", "train"]
    boom = runs["boom"]
    assert boom.info.status == "FAILED"
    assert boom.data.tags["kedro_azureml.error"] == "RuntimeError: this node fails on purpose"
    assert boom.data.tags["kedro_azureml.failed_node"] == "boom"
    assert runs["train"].info.status == "FINISHED"
    assert runs["train"].data.metrics == {"score": 30.0}
    assert runs["replay-2"].info.status == "FAILED"


@pytest.fixture
def tracked_spec(mlflow_server, tmp_path) -> tuple[Path, dict[str, Any], str]:
    """A compiled job of two steps with the MLflow variables, and a project whose mlflow.yml
    points at the server (no Kedro project code needed: no step runs)."""
    experiment = unique("unit")
    project = tmp_path / "project"
    (project / "conf" / "base").mkdir(parents=True)
    (project / "conf" / "base" / "mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: {mlflow_server.uri}\n"
    )
    variables = {
        "KEDRO_AZUREML_JOB_NAME": "train",
        "KEDRO_AZUREML_MLFLOW_EXPERIMENT": experiment,
        "KEDRO_ENV": "base",
    }
    spec = {
        "jobs": {
            "a": {"type": "command", "display_name": "a.node", "environment_variables": variables},
            "b": {"type": "command", "environment_variables": variables},
        }
    }
    return project, spec, experiment


def test_step_environment_is_what_azure_ml_gives_a_step(tracked_spec, mlflow_server):
    project, spec, experiment = tracked_spec
    tracking = start_replay_tracking(project, spec, run_name="unit")
    assert tracking is not None

    env = tracking.step_environment("a")

    run = mlflow_server.client().get_run(env["MLFLOW_RUN_ID"])
    assert env == {
        "MLFLOW_TRACKING_URI": mlflow_server.uri,
        "MLFLOW_RUN_ID": run.info.run_id,
        "MLFLOW_EXPERIMENT_ID": run.info.experiment_id,
        "MLFLOW_EXPERIMENT_NAME": experiment,
        "KEDRO_AZUREML_MLFLOW_EXPERIMENT": experiment,
        "KEDRO_AZUREML_JOB_NAME": "train",
    }
    assert run.info.run_name == "a.node"
    assert run.data.tags[PARENT_RUN_TAG] == tracking.parent_run_id
    assert run.data.tags["kedro_azureml.step"] == "a"
    assert run.info.status == "RUNNING"
    tracking.close("succeeded")


def test_statuses_map_to_mlflow_and_close_kills_steps_still_running(tracked_spec, mlflow_server):
    project, spec, _ = tracked_spec
    client = mlflow_server.client()
    tracking = start_replay_tracking(project, spec, run_name="unit")
    assert tracking is not None
    a = tracking.step_environment("a")["MLFLOW_RUN_ID"]
    b = tracking.step_environment("b")["MLFLOW_RUN_ID"]

    tracking.step_finished("a", "timed_out")
    tracking.close("interrupted")
    tracking.close("succeeded")  # a second close changes nothing

    assert client.get_run(a).info.status == "FAILED"
    assert client.get_run(b).info.status == "KILLED"
    assert client.get_run(tracking.parent_run_id).info.status == "KILLED"
    with pytest.raises(ReplayError, match="after the replay's MLflow run ended"):
        tracking.step_environment("a")


def test_the_replay_verdict_wins_over_the_status_the_step_left(tracked_spec, mlflow_server):
    project, spec, _ = tracked_spec
    client = mlflow_server.client()
    with start_replay_tracking(project, spec, run_name="unit") as tracking:
        run_id = tracking.step_environment("a")["MLFLOW_RUN_ID"]
        client.set_terminated(run_id, "FINISHED")  # as MLflow's exit handler does in the step

        tracking.step_finished("a", "failed")

    assert client.get_run(run_id).info.status == "FAILED"
    assert client.get_run(tracking.parent_run_id).info.status == "FINISHED"


def test_no_tracking_for_a_job_without_mlflow_variables(tmp_path):
    spec = {"jobs": {"a": {"type": "command", "environment_variables": {"KEDRO_ENV": "base"}}}}

    assert start_replay_tracking(tmp_path, spec, run_name="unit") is None


def test_an_unreachable_tracking_server_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    (tmp_path / "conf" / "base").mkdir(parents=True)
    (tmp_path / "conf" / "base" / "mlflow.yml").write_text(
        "server:\n  mlflow_tracking_uri: http://127.0.0.1:9\n"
    )
    variables = {"KEDRO_AZUREML_MLFLOW_EXPERIMENT": "x", "KEDRO_ENV": "base"}
    spec = {"jobs": {"a": {"environment_variables": variables}}}

    with pytest.raises(
        ReplayError, match=r"cannot open the replay's MLflow run at http://127\.0\.0\.1:9"
    ):
        start_replay_tracking(tmp_path, spec, run_name="unit")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("succeeded", "FINISHED"),
        ("failed", "FAILED"),
        ("timed_out", "FAILED"),
        ("interrupted", "KILLED"),
        ("skipped", "KILLED"),
        ("FINISHED", "FINISHED"),
    ],
)
def test_mlflow_status(status, expected):
    assert mlflow_status(status) == expected


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="unknown status 'exploded'"):
        mlflow_status("exploded")


@pytest.mark.slow
def test_the_replay_engine_logs_each_step_into_a_child_of_the_replays_run(
    make_mlflow_project, mlflow_server, step_venv
):
    from kedro_azureml_deploy.replay import replay_job

    experiment = unique("engine")
    project = make_mlflow_project(experiment=experiment)
    compile_job(project)
    before = len(mlflow_server.all_runs())

    report = replay_job(
        project.path / ".azureml-local" / "compiled" / "train.yml",
        project_path=project.path,
        python=step_venv / "python",
        max_parallel=1,
    )

    assert report.ok, [(s.name, s.status, s.log_path.read_text()[-3000:]) for s in report.steps]
    runs = runs_of(mlflow_server, experiment)
    assert sorted(runs) == sorted(["evaluate", report.run_id, "train"])
    assert len(mlflow_server.all_runs()) == before + 3, "a step opened a run of its own"
    parent = runs[report.run_id]
    assert parent.info.status == "FINISHED"
    for step in ("train", "evaluate"):
        assert runs[step].data.tags[PARENT_RUN_TAG] == parent.info.run_id
        assert runs[step].info.status == "FINISHED"
    assert runs["train"].data.params == {"seed": "3"}  # logged by kedro-mlflow in the step
    assert runs["train"].data.metrics == {"score": 30.0}  # logged by the node
