"""Run folders and ``run.json``: created, saved atomically, read back, found by id."""

from __future__ import annotations

import json

import pytest

from kedro_azureml_deploy.replay import ReplayError
from kedro_azureml_deploy.replay.run_store import RunStatus, RunStore, StepStatus


def test_a_new_run_holds_its_job_and_state(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create(tmp_path / "job.yml", "type: pipeline\n", ["a", "b"])

    assert run.job_copy.read_text() == "type: pipeline\n"
    state = json.loads((run.path / "run.json").read_text())
    assert state["run_id"] == run.run_id
    assert state["status"] == "running"
    assert state["steps"]["a"] == {
        "status": "not_started",
        "started_at": None,
        "ended_at": None,
        "duration": None,
        "exit_code": None,
        "message": None,
        "pid": None,
        "process_group": None,
        "fingerprint": None,
        "reuse": None,
        "start": None,
        "log": "a/step.log",
    }
    assert (tmp_path / "runs" / ".gitignore").read_text().endswith("*\n")


def test_runs_under_azureml_local_make_the_whole_folder_ignore_itself(tmp_path):
    import subprocess

    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    store = RunStore(tmp_path / ".azureml-local" / "runs")

    store.create(tmp_path / "job.yml", "type: pipeline\n", ["a"])

    assert (tmp_path / ".azureml-local" / ".gitignore").read_text().endswith("*\n")
    assert not (tmp_path / ".azureml-local" / "runs" / ".gitignore").exists()
    status = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""


def test_saved_state_reads_back_and_leaves_no_temporary_file(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create(tmp_path / "job.yml", "", ["a"])
    run.steps["a"].status = StepStatus.TIMED_OUT
    run.steps["a"].exit_code = -15
    run.status = RunStatus.FAILED
    run.save()

    again = store.open(run.run_id)

    assert again.steps["a"].status is StepStatus.TIMED_OUT
    assert again.steps["a"].exit_code == -15
    assert again.status is RunStatus.FAILED
    assert again.job_file == tmp_path / "job.yml"
    assert sorted(p.name for p in run.path.iterdir()) == ["job.yml", "run.json"]


def test_run_ids_are_unique_and_listed_newest_first(tmp_path):
    store = RunStore(tmp_path / "runs")
    ids = [store.create(tmp_path / "job.yml", "", ["a"]).run_id for _ in range(3)]
    assert len(set(ids)) == 3
    assert store.run_ids() == sorted(ids, reverse=True)


def test_an_unknown_run_id_lists_recent_runs_and_deletes_nothing(tmp_path):
    store = RunStore(tmp_path / "runs")
    known = store.create(tmp_path / "job.yml", "", ["a"]).run_id
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))

    for unknown in ("20990101-000000-beef", "../runs", known + "/"):
        with pytest.raises(ReplayError, match=f"recent runs: {known}"):
            store.open(unknown)

    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_an_unknown_run_id_without_any_run_says_so(tmp_path):
    with pytest.raises(ReplayError, match="no run has been recorded yet"):
        RunStore(tmp_path / "runs").open("20990101-000000-beef")


def test_an_unreadable_run_file_is_a_clear_error(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create(tmp_path / "job.yml", "", ["a"])
    (run.path / "run.json").write_text("{not json")
    with pytest.raises(ReplayError, match="cannot be read"):
        store.open(run.run_id)
