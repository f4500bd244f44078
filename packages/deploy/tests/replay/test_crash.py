"""A replay that crashes (``kill -9``, a full disk) leaves no step running and a run that resumes;
two resumes of one run never run it together."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from project_factory import NodeSpec, quiet_kedro_env

from .conftest import NODE_FUNCTIONS, compile_job, process_ends, replay, shell_step
from .test_resume import fix_node

DEADLINE = 60.0  # seconds: generous, for a machine shared by many test runs
LIMIT_THEN_EXEC = (
    "import os, resource, sys; limit = int(sys.argv[1]); "
    "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit)); os.execv(sys.argv[2], sys.argv[2:])"
)


def start_cli(project, *args: str, limit_file_size: int | None = None) -> subprocess.Popen[str]:
    """``kedro azureml ARGS`` in ``project``, running on; ``limit_file_size`` caps the size of
    any file it (and its steps) write, as ``ulimit -f`` does (SIGXFSZ is ignored by Python, so a
    write past it fails with EFBIG)."""
    command = [sys.executable, "-m", "kedro", "azureml", *args]
    if limit_file_size is not None:  # set in a small Python that then becomes the command
        command = [sys.executable, "-c", LIMIT_THEN_EXEC, str(limit_file_size), *command]
    return subprocess.Popen(
        command,
        cwd=project.path,
        env={**os.environ, **quiet_kedro_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, what: str, process: subprocess.Popen[str] | None = None) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if process is not None and process.poll() is not None:
            raise AssertionError(f"exited before {what}: {process.communicate()}")
        assert time.monotonic() < deadline, f"{what} did not happen within {DEADLINE} s"
        time.sleep(0.05)


def group_members(group: int) -> list[str]:
    """``ps`` lines of the live (non-zombie) processes of process group ``group``."""
    listing = subprocess.run(
        ["ps", "-eo", "pid=,pgid=,stat=,args="], capture_output=True, text=True, check=True
    ).stdout
    return [
        line
        for line in listing.splitlines()
        if line.split()[1] == str(group) and not line.split()[2].startswith("Z")
    ]


def only_run(project) -> Path:
    runs = [p for p in (project.path / ".azureml-local" / "runs").iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def state_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "run.json").read_text())


def running_step(project, step: str, process) -> tuple[Path, int]:
    """The run folder and the process group of ``step`` once run.json records it running."""
    runs = project.path / ".azureml-local" / "runs"

    def recorded() -> bool:  # run.json is renamed into place: once there, it is whole
        files = list(runs.glob("*/run.json")) if runs.is_dir() else []
        return bool(files) and bool(state_of(files[0].parent)["steps"][step].get("process_group"))

    wait_for(recorded, f"step {step} started", process)
    run_dir = only_run(project)
    return run_dir, state_of(run_dir)["steps"][step]["process_group"]


@pytest.mark.slow
def test_sigkill_of_the_replay_ends_every_step_process_and_the_run_resumes(
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
    driver = start_cli(project, "replay", str(job_file), *step_starts.args)
    wait_for(lambda: pid_file.exists() and pid_file.read_text(), "the node's start", driver)
    node_pid = int(pid_file.read_text())
    run_dir, group = running_step(project, "sleeper", driver)
    assert group_members(group)

    driver.kill()  # SIGKILL: the replay runs no code of its own any more
    driver.communicate(timeout=DEADLINE)

    assert process_ends(node_pid, within=DEADLINE)
    wait_for(lambda: not group_members(group), f"the end of process group {group}")
    assert state_of(run_dir)["steps"]["sleeper"]["status"] == "running"  # as the crash left it

    fix_node(project, "time.sleep(30)", "pass")
    resumed = replay(project, job_file, resume=run_dir.name, **step_starts.options).report

    assert resumed.ok and resumed.run_id == run_dir.name
    step_starts.assert_started_so(resumed)
    assert state_of(run_dir)["steps"]["sleeper"]["process_group"] is None


def test_resume_is_refused_in_one_line_while_a_step_of_the_killed_replay_still_runs(
    make_project, write_job, tmp_path
):
    release = tmp_path / "release"
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])
    job_file = write_job({"waits": shell_step(f"while [ ! -f {release} ]; do sleep 0.1; done")})
    driver = start_cli(project, "replay", str(job_file))
    run_dir, group = running_step(project, "waits", driver)
    os.kill(group, signal.SIGSTOP)  # the supervisor cannot act: the step outlives its replay
    try:
        driver.kill()
        driver.communicate(timeout=DEADLINE)
        before = state_of(run_dir)

        refused = project.kedro("azureml", "replay", str(job_file), "--resume", run_dir.name)

        assert refused.returncode == 1
        assert refused.stderr.strip().splitlines() == [
            f"Error: step waits of run {run_dir.name} is still running (process group {group}), "
            "left by a replay that ended without stopping it; wait for it to end or stop it "
            f"with `kill -- -{group}`, then resume the run."
        ]
        assert state_of(run_dir) == before
    finally:
        os.kill(group, signal.SIGCONT)  # the supervisor sees its replay gone and ends the group
    wait_for(lambda: not group_members(group), f"the end of process group {group}")

    release.touch()
    assert replay(project, job_file, resume=run_dir.name).report.ok


def test_two_resumes_started_together_replay_the_run_once_and_the_other_names_the_replayer(
    make_project, write_job, tmp_path
):
    go, release = tmp_path / "go", tmp_path / "release"
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])
    job_file = write_job(
        {
            "waits": shell_step(
                f"[ -f {go} ] || exit 1; while [ ! -f {release} ]; do sleep 0.1; done"
            )
        }
    )
    run_id = replay(project, job_file).report.run_id
    go.touch()

    resumes = [start_cli(project, "replay", str(job_file), "--resume", run_id) for _ in range(2)]
    # the winner holds the lock and runs the step; the loser ends on its own
    wait_for(lambda: any(r.poll() is not None for r in resumes), "one resume's end")
    loser = next(r for r in resumes if r.poll() is not None)
    winner = next(r for r in resumes if r is not loser)
    _, loser_stderr = loser.communicate()
    release.touch()
    _, winner_stderr = winner.communicate(timeout=DEADLINE)

    assert loser.returncode == 1
    assert loser_stderr.strip().splitlines() == [
        f"Error: run {run_id} is being replayed by process {winner.pid}; wait for that replay "
        "to end or stop it (Ctrl+C in its terminal, or kill that process), then resume the run."
    ]
    assert winner.returncode == 0, winner_stderr
    assert state_of(only_run(project))["status"] == "succeeded"


def test_a_snapshot_that_cannot_be_written_is_one_line_and_the_run_resumes_once_it_can(
    make_project, write_job, tmp_path
):
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])
    (tmp_path / "big.bin").write_bytes(b"0" * 1_000_000)  # part of the job's code folder
    job_file = write_job({"only": shell_step("true")})

    failed = start_cli(project, "replay", str(job_file), limit_file_size=200_000)
    _, stderr = failed.communicate(timeout=DEADLINE)

    run_dir = only_run(project)
    assert failed.returncode == 1
    assert stderr.strip().splitlines() == [
        f"Error: cannot write the code snapshot {run_dir / 'code-snapshot'}: File too large. "
        f"The replay stopped every step; run "
        f"{run_dir.name} is interrupted. Free some space (or fix the permissions) in "
        f"{run_dir.parent}, then resume it with --resume {run_dir.name}."
    ]
    assert state_of(run_dir)["status"] == "interrupted"

    assert replay(project, job_file, resume=run_dir.name).report.ok


def test_a_run_folder_that_cannot_be_written_is_one_line_and_leaves_no_run(make_project, write_job):
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])
    job_file = write_job({"only": shell_step("true")})

    failed = start_cli(project, "replay", str(job_file), limit_file_size=10)
    _, stderr = failed.communicate(timeout=DEADLINE)

    runs = project.path / ".azureml-local" / "runs"
    assert failed.returncode == 1
    [line] = stderr.strip().splitlines()
    assert line.startswith("Error: cannot write ")
    assert line.endswith(
        f"; no run was started: free some space (or fix the permissions) in {runs}, then replay "
        "again."
    )
    assert not [p for p in runs.iterdir() if p.is_dir()]


@pytest.fixture
def small_runs_disk(make_project):
    """A project whose runs folder is a 4 MiB tmpfs: a disk that really fills up (the file-size
    limit of the other tests gives EFBIG, not ENOSPC)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs as a full disk needs root and mount(8)")
    project = make_project(nodes=[NodeSpec("only", "identity", ["params:seed"], ["x"])])
    runs = project.path / ".azureml-local" / "runs"
    runs.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(runs)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield project
    finally:
        subprocess.run(["umount", "-l", str(runs)], check=False)


def test_a_full_disk_is_one_line_no_traceback_and_the_run_resumes_once_space_is_free(
    small_runs_disk, write_job, tmp_path
):
    project = small_runs_disk
    fill = tmp_path / "fill"
    fill.touch()
    job_file = write_job(
        {
            "filler": shell_step(
                f"if [ -f {fill} ]; then head -c 100000000 /dev/zero > ${{{{outputs.out}}}}/f; "
                "fi; true",
                outputs={"out": {"type": "uri_folder"}},
            ),
            "after": shell_step("true", inputs={"x": "${{parent.jobs.filler.outputs.out}}"}),
        }
    )

    failed = start_cli(project, "replay", str(job_file))
    _, stderr = failed.communicate(timeout=DEADLINE)

    run_dir = only_run(project)
    assert failed.returncode == 1
    assert "Traceback" not in stderr
    [line] = stderr.strip().splitlines()
    assert line.startswith(f"Error: cannot write the run's state {run_dir / 'run.json'}: No space")
    assert line.endswith(f"then resume it with --resume {run_dir.name}.")

    fill.unlink()
    (run_dir / "filler" / "outputs" / "out" / "f").unlink()  # space is free again
    resumed = replay(project, job_file, resume=run_dir.name).report

    assert resumed.ok
    assert [s.status for s in resumed.steps] == ["succeeded", "succeeded"]
