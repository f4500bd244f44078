"""Interrupting a replay leaves no process behind and a run that can be resumed; resuming runs
only what did not succeed, on a fresh code snapshot."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from kedro_azureml_deploy.replay import ReplayError
from project_factory import NodeSpec, pipeline_dataset

from .conftest import NODE_FUNCTIONS, compile_job, process_ends, replay, run_state


def fix_node(project, broken: str, fixed: str) -> None:
    nodes = project.path / "src" / "demo_project" / "pipelines" / "nodes.py"
    text = nodes.read_text()
    assert broken in text
    nodes.write_text(text.replace(broken, fixed))


def tree(path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.slow
def test_a_failed_run_resumed_after_fixing_the_cause_keeps_the_unchanged_steps(
    make_project, step_starts, monkeypatch
):
    nodes = [
        NodeSpec("first", "identity", ["params:seed"], ["a"]),
        NodeSpec("second", "fail_until_fixed", ["a"], ["b"]),
        NodeSpec("third", "add_one", ["b"], ["c"]),
    ]
    project = make_project(
        nodes=nodes, catalog={"c": pipeline_dataset("c.pkl")}, extra_functions=NODE_FUNCTIONS
    )
    job_file = compile_job(project)
    failed = replay(project, job_file, **step_starts.options).report
    assert [s.status for s in failed.steps] == ["succeeded", "failed", "not_started"]
    first_before = run_state(failed)["steps"]["first"]
    output = failed.run_dir / "first" / "outputs" / "a" / "data.pickle"
    output_mtime = output.stat().st_mtime_ns

    monkeypatch.setenv("REPLAY_FIXED", "1")  # outside the step's fingerprint, like a network
    resumed = replay(project, job_file, resume=failed.run_id, **step_starts.options)

    assert resumed.report.ok
    step_starts.assert_started_so(failed)
    step_starts.assert_started_so(resumed.report)
    assert resumed.report.run_id == failed.run_id and resumed.report.run_dir == failed.run_dir
    assert [s.status for s in resumed.report.steps] == ["succeeded"] * 3
    first_after = run_state(resumed.report)["steps"]["first"]
    assert first_after.pop("reuse") == "reused" and first_before.pop("reuse") is None
    assert first_after == first_before  # not run again
    assert output.stat().st_mtime_ns == output_mtime  # its output was read as it was
    assert "  first: reused" in resumed.output


@pytest.mark.slow
def test_sigterm_interrupts_the_replay_without_orphans_and_the_run_resumes(
    make_project, step_starts, tmp_path, monkeypatch
):
    pid_file = tmp_path / "sleeper.pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))  # the replay's steps inherit it
    nodes = [
        NodeSpec("sleeper", "write_pid_and_sleep", ["params:seed"], ["a"]),
        NodeSpec("after", "add_one", ["a"], ["b"]),
    ]
    project = make_project(nodes=nodes, extra_functions=NODE_FUNCTIONS)
    job_file = compile_job(project)
    script = textwrap.dedent(
        f"""\
        from pathlib import Path
        from kedro_azureml_deploy.replay import replay_job

        report = replay_job(Path({str(job_file)!r}), project_path=Path({str(project.path)!r}), warm={step_starts.warm!r})
        print("STATUS", report.status, report.run_id)
        """
    )
    replaying = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()):
        assert replaying.poll() is None, replaying.communicate()
        assert time.monotonic() < deadline, "the sleeping step never started"
        time.sleep(0.05)
    step_pid = int(pid_file.read_text())

    replaying.send_signal(signal.SIGTERM)
    stdout, stderr = replaying.communicate(timeout=30)

    assert replaying.returncode == 0, stderr
    status, run_id = stdout.split("STATUS ", 1)[1].split()
    assert status == "interrupted"
    assert process_ends(step_pid)
    state = json.loads((project.path / ".azureml-local" / "runs" / run_id / "run.json").read_text())
    assert state["status"] == "interrupted" and state["replay_pid"] is None
    assert state["steps"]["sleeper"]["status"] == "interrupted"
    assert state["steps"]["after"]["status"] == "not_started"

    fix_node(project, "time.sleep(30)", "pass")
    resumed = replay(project, job_file, resume=run_id, **step_starts.options).report

    assert resumed.ok and resumed.run_id == run_id
    step_starts.assert_started_so(resumed)


def test_resuming_an_unknown_run_lists_recent_runs_and_deletes_nothing(make_project, write_job):
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])
    job_file = write_job({"only": {"type": "command", "command": "true", "code": "."}})
    known = replay(project, job_file).report.run_id
    runs = project.path / ".azureml-local" / "runs"
    before = tree(runs)

    with pytest.raises(ReplayError, match=f"no replay run 'nope' in {runs}; recent runs: {known}"):
        replay(project, job_file, resume="nope")

    assert tree(runs) == before


def test_resuming_with_another_compiled_job_is_refused(make_project, write_job):
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])
    first = write_job({"only": {"type": "command", "command": "false", "code": "."}})
    run_id = replay(project, first).report.run_id
    runs = project.path / ".azureml-local" / "runs"
    before = tree(runs)
    changed = write_job({"only": {"type": "command", "command": "true", "code": "."}}, name="b.yml")

    with pytest.raises(ReplayError, match="resuming would mix steps of two jobs") as refused:
        replay(project, changed, resume=run_id)

    assert "replay it again without --resume" in str(refused.value)
    assert "Resume with that file" not in str(refused.value)  # no advice that cannot work

    assert tree(runs) == before
