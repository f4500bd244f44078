"""A step's command in its own process group: exit codes, timeouts, stopping, no leftovers."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import textwrap
import time

import pytest

from kedro_azureml_deploy.replay import step_process
from kedro_azureml_deploy.replay.step_process import StepProcess

from .conftest import process_ends


def start(tmp_path, command: str, timeout: float | None = None) -> StepProcess:
    return StepProcess.start(
        command,
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"], "GREETING": "hello"},
        log_path=tmp_path / "step.log",
        timeout=timeout,
    )


def wait(process: StepProcess, limit: float = 20) -> int:
    deadline = time.monotonic() + limit
    while (code := process.poll()) is None:
        assert time.monotonic() < deadline, "the step did not end"
        time.sleep(0.02)
    return code


def wait_for_pid(path, limit: float = 10) -> int:
    """The pid a step writes into ``path``, once it has."""
    deadline = time.monotonic() + limit
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.02)
    return int(path.read_text())


def test_the_command_runs_in_its_folder_with_its_environment_and_logs_both_streams(tmp_path):
    process = start(tmp_path, 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 3')
    assert wait(process) == 3
    log = (tmp_path / "step.log").read_text()
    assert f"hello from {tmp_path}" in log and "oops" in log
    assert not process.timed_out


def test_the_step_runs_in_a_process_group_of_its_own(tmp_path):
    process = start(tmp_path, "sleep 5")
    try:
        assert os.getpgid(process.pid) == process.pid != os.getpgid(0)
    finally:
        process.stop()
        wait(process)


def test_processes_a_step_leaves_behind_are_killed_when_it_ends(tmp_path):
    process = start(tmp_path, "sleep 30 & echo $! > child.pid")
    assert wait(process) == 0
    assert process_ends(wait_for_pid(tmp_path / "child.pid"))


def test_a_step_past_its_timeout_is_stopped_with_everything_it_started(tmp_path):
    process = start(tmp_path, "sleep 30 & echo $! > child.pid; wait", timeout=0.5)
    child = wait_for_pid(tmp_path / "child.pid")
    started = time.monotonic()
    code = wait(process)
    assert process.timed_out
    assert code != 0
    assert time.monotonic() - started < 5
    assert process_ends(child)


def test_a_step_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path, monkeypatch):
    monkeypatch.setattr(step_process, "STOP_GRACE_SECONDS", 0.3)
    process = start(tmp_path, "trap '' TERM; echo $$ > shell.pid; while true; do sleep 0.1; done")
    wait_for_pid(tmp_path / "shell.pid")
    process.stop()
    assert wait(process, limit=5) == -9


@pytest.mark.parametrize("command", ["exit 0", "true"])
def test_a_command_that_succeeds_exits_zero(tmp_path, command):
    assert wait(start(tmp_path, command)) == 0


def test_a_command_killed_by_a_signal_reports_that_signal(tmp_path):
    assert wait(start(tmp_path, "kill -TERM $$")) == -15


def test_a_step_and_all_it_started_die_when_the_process_that_started_it_is_killed(tmp_path):
    starter = textwrap.dedent(
        f"""\
        import os, sys, time
        from pathlib import Path
        from kedro_azureml_deploy.replay.step_process import StepProcess

        folder = Path({str(tmp_path)!r})
        StepProcess.start(
            "sleep 60 & echo $! > child.pid; echo $$ > shell.pid; wait",
            cwd=folder, env=dict(os.environ), log_path=folder / "step.log", timeout=None,
        )
        time.sleep(120)
        """
    )
    replay = subprocess.Popen([sys.executable, "-c", starter])
    try:
        shell, child = wait_for_pid(tmp_path / "shell.pid"), wait_for_pid(tmp_path / "child.pid")
    finally:
        replay.kill()  # SIGKILL: no code of the replay runs any more
        replay.wait()
    assert process_ends(shell, within=30)
    assert process_ends(child, within=30)


@pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="pidfd_open is Linux 5.3+")
def test_a_step_says_when_it_ends_through_a_descriptor_the_engine_can_wait_on(tmp_path):
    """The engine waits on ``end_fd`` between two polls: it becomes readable when the step ends
    (not before), and is released once the end is collected."""
    release = tmp_path / "release"
    process = start(tmp_path, f"while [ ! -f {release} ]; do sleep 0.05; done")
    end = process.end_fd()
    assert end is not None

    assert select.select([end], [], [], 0.3)[0] == []  # still running
    release.touch()
    assert select.select([end], [], [], 20)[0] == [end]
    assert wait(process) == 0
    assert process.end_fd() is None
