"""``replay_job`` on real Kedro projects compiled with ``kedro azureml compile``: data through
output folders, isolation of each step, parallelism, failure policies, timeouts, display."""

from __future__ import annotations

import json
import pickle
import stat
import sys
from datetime import datetime
from pathlib import Path

import pytest

from kedro_azureml_deploy.replay import RunStatus, StepStatus
from project_factory import NodeSpec, chain, pipeline_dataset

from .conftest import NODE_FUNCTIONS, compile_job, process_ends, replay, run_state


def json_dataset(filepath: str) -> dict[str, object]:
    return pipeline_dataset(filepath, "json.JSONDataset")


def interval(state: dict, step: str) -> tuple[datetime, datetime]:
    step_state = state["steps"][step]
    return datetime.fromisoformat(step_state["started_at"]), datetime.fromisoformat(
        step_state["ended_at"]
    )


@pytest.mark.slow
def test_a_chain_passes_data_through_output_folders_and_records_the_run(make_project, step_starts):
    nodes, catalog = chain(3, dataset_type="pickle.PickleDataset")
    project = make_project(nodes=nodes, catalog=catalog)
    job_file = compile_job(project)

    result = replay(
        project, job_file, width=40, **step_starts.options
    )  # a narrow log: no line may wrap
    report = result.report

    assert report.ok and report.status == "succeeded"
    step_starts.assert_started_so(report)
    assert [(s.name, s.status, s.exit_code) for s in report.steps] == [
        ("node_0", "succeeded", 0),
        ("node_1", "succeeded", 0),
        ("node_2", "succeeded", 0),
    ]
    run = report.run_dir
    assert run.parent == project.path / ".azureml-local" / "runs"
    assert (run / "job.yml").read_text() == job_file.read_text()
    assert (run / "code-snapshot" / "conf" / "base" / "catalog.yml").is_file()
    assert pickle.loads((run / "node_2" / "outputs" / "d_2" / "d_2.pkl").read_bytes()) == 3
    for step in report.steps:
        assert step.log_path == run / step.name / "step.log"
        assert f"Running node: {step.name}" in step.log_path.read_text()
        assert (run / step.name / "code" / "pyproject.toml").is_file()
    state = run_state(report)
    assert state["status"] == "succeeded" and state["replay_pid"] is None
    assert {s["status"] for s in state["steps"].values()} == {"succeeded"}
    output = run / "node_0" / "outputs" / "d_0"
    assert stat.S_IMODE(output.stat().st_mode) & stat.S_IWUSR  # writable again after the replay

    relative_log = f".azureml-local/runs/{report.run_id}/node_1/step.log"
    assert relative_log in result.output
    assert f"Run {report.run_id} succeeded." in result.output
    # Off a terminal: the run id first (after the notice that this project, with neither uv.lock
    # nor requirements.txt, runs its steps in this environment), then one plain line per step
    # start and end, in order.
    lines = result.output.splitlines()
    assert lines[0].startswith("No uv.lock nor requirements.txt in ")
    assert lines[1].startswith(f"Replaying train as run {report.run_id}: 3 steps")
    progress = [line.split("] ", 1)[1] for line in lines if line.startswith("[")]
    expected = []
    for name in ("node_0", "node_1", "node_2"):
        expected += [f"step {name}: running", f"step {name}: succeeded"]
    assert [line.split(" (log")[0].split(" in ")[0] for line in progress] == expected
    summary_at = next(i for i, line in enumerate(lines) if line.startswith("Replay run "))
    assert max(i for i, line in enumerate(lines) if line.startswith("[")) < summary_at
    assert "Outputs:" in lines
    folder = f".azureml-local/runs/{report.run_id}/node_2/outputs/d_2/"
    assert any(x.startswith("  node_2.d_2: ") and x.endswith(folder) for x in lines), lines


@pytest.mark.slow
def test_each_step_gets_a_fresh_working_copy_its_environment_and_the_python_environment(
    make_project,
):
    nodes = [
        NodeSpec("producer", "leave_marker", ["params:seed"], ["x"]),
        NodeSpec("describe", "describe_step", ["x"], ["report"]),
    ]
    catalog = {"x": pipeline_dataset("x.pkl"), "report": json_dataset("report.json")}
    project = make_project(nodes=nodes, catalog=catalog, extra_functions=NODE_FUNCTIONS)
    job_file = compile_job(project, "--env-var", "REPLAY_CHECK=yes")

    report = replay(project, job_file).report

    assert report.ok, [(s.name, s.status) for s in report.steps]
    run = report.run_dir
    seen = json.loads((run / "describe" / "outputs" / "report" / "report.json").read_text())
    assert seen == {
        "cwd": str(run / "describe" / "code"),
        "kedro_env": "base",
        "replay_check": "yes",
        "path0": str(Path(sys.executable).absolute().parent),
    }
    assert (run / "producer" / "code" / "marker.txt").exists()
    assert not (run / "code-snapshot" / "marker.txt").exists()


@pytest.mark.slow
@pytest.mark.parametrize("form", ["environment folder", "interpreter"])
def test_steps_run_the_kedro_of_the_python_environment_given(make_project, tmp_path, form):
    venv = tmp_path / "step-image-venv"
    (venv / "bin").mkdir(parents=True)
    used = tmp_path / "kedro-calls.txt"
    kedro = venv / "bin" / "kedro"
    kedro.write_text(
        f'#!/bin/sh\necho "$@" >> {used}\nexec {Path(sys.executable).parent / "kedro"} "$@"\n'
    )
    kedro.chmod(0o755)
    (venv / "bin" / "python").symlink_to(sys.executable)
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])

    python = venv if form == "environment folder" else venv / "bin" / "python"
    report = replay(project, compile_job(project), python=python).report

    assert report.ok
    assert used.read_text().startswith("azureml execute --pipeline __default__ --node only")


@pytest.mark.slow
def test_a_step_writing_into_its_input_fails_as_on_azure(make_project, step_starts):
    nodes = [
        NodeSpec("producer", "identity", ["params:seed"], ["x"]),
        NodeSpec("writer", "write_into_input", ["x"], ["y"]),
    ]
    project = make_project(
        nodes=nodes, catalog={"x": pipeline_dataset("x.pkl")}, extra_functions=NODE_FUNCTIONS
    )

    report = replay(project, compile_job(project), **step_starts.options).report

    step_starts.assert_started_so(report)
    writer = report.step("writer")
    assert writer.status == "failed" and report.status == "failed"
    if writer.exit_code == 0:  # root: permissions did not stop the write, the check did
        assert writer.message == "step wrote into its input x, which Azure ML mounts read-only"
        assert writer.message in writer.log_path.read_text()
    else:
        assert "PermissionError" in writer.log_path.read_text()


@pytest.mark.slow
def test_independent_steps_run_in_parallel_up_to_max_parallel(make_project, step_starts):
    nodes = [
        NodeSpec("left", "nap", ["params:seed"], ["a"]),
        NodeSpec("right", "nap", ["params:seed"], ["b"]),
        NodeSpec("joined", "join", ["a", "b"], ["c"]),
    ]
    project = make_project(nodes=nodes, extra_functions=NODE_FUNCTIONS)
    job_file = compile_job(project)

    reports = [
        replay(project, job_file, max_parallel=n, **step_starts.options).report for n in (2, 1)
    ]
    for report in reports:
        step_starts.assert_started_so(report)
    parallel, serial = (run_state(report) for report in reports)

    left, right, joined = (interval(parallel, step) for step in ("left", "right", "joined"))
    assert max(left[0], right[0]) < min(left[1], right[1])  # the two overlapped
    assert joined[0] >= max(left[1], right[1])
    left, right = interval(serial, "left"), interval(serial, "right")
    assert left[1] <= right[0] or right[1] <= left[0]
    assert parallel["status"] == serial["status"] == "succeeded"


@pytest.mark.slow
def test_a_failed_step_skips_its_dependents_when_the_job_continues_on_step_failure(
    make_project,
    step_starts,
):
    nodes = [
        NodeSpec("broken", "fail", ["params:seed"], ["a"]),
        NodeSpec("after_broken", "add_one", ["a"], ["b"]),
        NodeSpec("last", "add_one", ["b"], ["c"]),
        NodeSpec("independent", "identity", ["params:seed"], ["d"]),
    ]
    project = make_project(nodes=nodes)
    job_file = compile_job(project, job={"continue_on_step_failure": True})

    result = replay(project, job_file, **step_starts.options)
    report = result.report

    assert report.status == "failed" and not report.ok
    step_starts.assert_started_so(report)
    assert report.step("broken").status == "failed"
    assert report.step("broken").exit_code == 1
    assert "this node fails on purpose" in report.step("broken").log_path.read_text()
    for name in ("after_broken", "last"):
        skipped = report.step(name)
        assert skipped.status == "skipped" and skipped.log_path is None
        assert skipped.message == "upstream step broken did not succeed"
    assert report.step("independent").status == "succeeded"
    assert "skipped" in result.output
    assert "broken: Error: step failed: RuntimeError: this node fails on purpose" in result.output
    assert f"then resume it with --resume {report.run_id} (only while the compiled job" in (
        result.output
    )
    assert "run the job again without --resume" in result.output


@pytest.mark.slow
def test_without_continue_on_step_failure_running_steps_finish_and_no_new_step_starts(
    make_project,
    step_starts,
):
    nodes = [
        NodeSpec("broken", "fail", ["params:seed"], ["a"]),
        NodeSpec("after_broken", "add_one", ["a"], ["b"]),
        NodeSpec("slow", "nap", ["params:seed"], ["s"]),
        NodeSpec("after_slow", "add_one", ["s"], ["t"]),
    ]
    project = make_project(nodes=nodes, extra_functions=NODE_FUNCTIONS)

    report = replay(project, compile_job(project), max_parallel=2, **step_starts.options).report

    step_starts.assert_started_so(report)
    statuses = {step.name: step.status for step in report.steps}
    assert statuses == {
        "broken": StepStatus.FAILED,
        "after_broken": StepStatus.NOT_STARTED,
        "slow": StepStatus.SUCCEEDED,
        "after_slow": StepStatus.NOT_STARTED,
    }
    assert report.status is RunStatus.FAILED


@pytest.mark.slow
def test_a_step_past_its_timeout_is_stopped(make_project, step_starts, tmp_path, monkeypatch):
    pid_file = tmp_path / "sleeper.pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    nodes = [
        NodeSpec("sleeper", "write_pid_and_sleep", ["params:seed"], ["a"]),
        NodeSpec("after", "add_one", ["a"], ["b"]),
    ]
    project = make_project(nodes=nodes, extra_functions=NODE_FUNCTIONS)
    timeout = 15  # long enough for Kedro to start and reach the node on a busy machine
    job_file = compile_job(project, job={"timeout": timeout})

    report = replay(project, job_file, **step_starts.options).report

    step_starts.assert_started_so(report)
    sleeper = report.step("sleeper")
    assert sleeper.status == "timed_out"
    assert pid_file.is_file(), "the node never started: raise the timeout"
    assert process_ends(int(pid_file.read_text()))
    assert sleeper.duration is not None and timeout <= sleeper.duration < 28
    assert sleeper.exit_code is not None and sleeper.exit_code < 0
    assert f"timeout of {timeout} s" in (sleeper.message or "")
    assert report.step("after").status == "not_started"


def test_a_terminal_gets_a_live_table_and_the_summary(make_project):
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])

    result = replay(project, compile_job(project), terminal=True)

    assert result.report.ok
    assert f"Replaying train as run {result.report.run_id}: 1 steps" in result.output
    assert "code snapshot:" in result.output
    assert f"Replay run {result.report.run_id}" in result.output
