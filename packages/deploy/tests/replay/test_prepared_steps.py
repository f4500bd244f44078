"""A warm step is prepared while its upstream steps run, and runs nothing of its command, no hook
above all, before they have succeeded; a prepared step that does not run leaves nothing behind."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from kedro_azureml_deploy.replay import step_starter
from project_factory import NodeSpec, read_hook_log, recording_hooks_settings

from .conftest import NODE_FUNCTIONS, compile_job, process_ends, replay
from .test_crash import start_cli, wait_for

#: ``settings.py`` lines recording, in the hook log, each import of the settings by a step (the
#: compile imports them too, from the project itself), with the step's folder; and refusing to
#: load in the working copy of a step named ``refusing``.
SETTINGS_RECORD = """
import json as _json
import os as _os
from pathlib import Path as _Path

_folder = _Path.cwd()
if _folder.name == "code":  # a step's working copy: <run>/<step>/code
    with open(_os.environ["HOOK_LOG"], "a") as _stream:
        _stream.write(_json.dumps({"hook": "settings", "step": _folder.parent.name}) + "\\n")
    if _folder.parent.name == "refusing":
        raise RuntimeError("these settings refuse to load in step refusing")
"""

FUNCTIONS = """
import time


def slow_identity(value):
    time.sleep(2.0)
    return value


def slow_fail(value):
    time.sleep(2.0)
    raise RuntimeError("the upstream step fails on purpose")
"""


@pytest.fixture
def recorded_project(make_project, tmp_path, monkeypatch):
    """A project whose steps record their settings imports and hook calls in one log."""

    def make(nodes):
        hook_log = tmp_path / "hooks.jsonl"
        monkeypatch.setenv("HOOK_LOG", str(hook_log))
        settings, hooks = recording_hooks_settings(str(hook_log))
        project = make_project(
            nodes=nodes,
            settings=settings + SETTINGS_RECORD,
            extra_functions=FUNCTIONS,
            extra_files={"src/demo_project/hooks.py": hooks},
        )
        return project, hook_log

    return make


def processes_in(folder: Path) -> list[int]:
    """The processes whose current folder is in ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = (entry / "cwd").readlink()
            except OSError:
                continue
            if cwd.is_relative_to(folder):
                found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_step_is_prepared_while_its_upstream_runs_and_calls_no_hook_before_it_succeeded(
    recorded_project,
):
    nodes = [
        NodeSpec("first", "slow_identity", ["params:seed"], ["a"]),
        NodeSpec("second", "identity", ["a"], ["b"]),
    ]
    project, hook_log = recorded_project(nodes)
    job_file = compile_job(project)
    calls = {}
    for mode in ("warm", "cold"):
        hook_log.unlink(missing_ok=True)
        result = replay(project, job_file, max_parallel=1, warm=mode == "warm")
        assert result.report.ok, result.output
        calls[mode] = read_hook_log(hook_log)

    warm = calls["warm"]
    upstream_end = warm.index({"hook": "after_pipeline_run"})
    # the second step read its settings while the first one was still running its node ...
    assert warm.index({"hook": "settings", "step": "second"}) < upstream_end
    # ... and none of its hooks came before the first step's last one
    assert {"hook": "before_pipeline_run", "nodes": ["second"]} in warm[upstream_end:]
    assert [call for call in warm[:upstream_end] if call.get("nodes") == ["second"]] == []
    # cold, each step reads its settings when it starts; the hooks are the same calls
    assert calls["cold"].index({"hook": "settings", "step": "second"}) > calls["cold"].index(
        {"hook": "after_pipeline_run"}
    )
    without_settings = {
        mode: [call for call in found if call["hook"] != "settings"]
        for mode, found in calls.items()
    }
    assert without_settings["warm"] == without_settings["cold"]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_prepared_step_whose_upstream_fails_never_runs_and_leaves_nothing(recorded_project):
    nodes = [
        NodeSpec("first", "slow_fail", ["params:seed"], ["a"]),
        NodeSpec("second", "identity", ["a"], ["b"]),
    ]
    project, hook_log = recorded_project(nodes)

    report = replay(project, compile_job(project), max_parallel=1).report

    assert report.step("first").status == "failed"
    second = report.step("second")
    assert second.status == "not_started" and second.log_path is None
    assert not (report.run_dir / "second").exists()
    calls = read_hook_log(hook_log)
    assert {"hook": "settings", "step": "second"} in calls  # it was prepared ...
    assert [call for call in calls if call.get("nodes") == ["second"]] == []  # ... never run
    assert processes_in(report.run_dir) == []


@pytest.mark.slow
def test_an_error_a_prepared_step_raises_fails_it_as_it_fails_a_cold_step(recorded_project):
    """What a step raises while it is prepared (its settings here) is raised after its go, where
    a cold step raises it: same exit code, same message in its log."""
    nodes = [
        NodeSpec("first", "slow_identity", ["params:seed"], ["a"]),
        NodeSpec("refusing", "identity", ["a"], ["b"]),
    ]
    project, _ = recorded_project(nodes)
    job_file = compile_job(project)
    outcomes = {}
    for mode in ("warm", "cold"):
        report = replay(project, job_file, max_parallel=1, warm=mode == "warm").report
        step = report.step("refusing")
        log = step.log_path.read_text()
        assert "RuntimeError: these settings refuse to load in step refusing" in log
        outcomes[mode] = (report.step("first").status, step.status, step.exit_code)

    assert outcomes["warm"] == outcomes["cold"] == ("succeeded", "failed", 1)


def test_a_kedro_whose_main_does_something_else_runs_all_of_it_after_the_go(tmp_path, monkeypatch):
    import kedro.framework.cli

    monkeypatch.chdir(tmp_path)  # not a Kedro project
    monkeypatch.setattr(sys, "argv", ["kedro", "--version"])

    prepared = step_starter.prepare_command()
    assert type(prepared).__name__ == "KedroCLI"  # Kedro's main up to reading its command line

    monkeypatch.setattr(step_starter, "_KEDRO_MAIN_NAMES", ("another", "main"))
    assert step_starter.prepare_command() is kedro.framework.cli.main


@pytest.mark.slow
def test_a_step_kept_from_the_run_resumed_is_never_prepared_so_its_outputs_stay(
    recorded_project,
):
    """``--resume --no-reuse`` runs the steps that had succeeded again, when they are ready;
    preparing one early would empty its outputs, which a resumed run that stops before it starts
    keeps recorded as succeeded."""
    nodes = [
        NodeSpec("first", "slow_identity", ["params:seed"], ["a"]),
        NodeSpec("second", "identity", ["a"], ["b"]),
        NodeSpec("third", "fail", ["b"], ["c"]),
    ]
    project, _ = recorded_project(nodes)
    job_file = compile_job(project)
    report = replay(project, job_file, max_parallel=1).report
    assert [step.status for step in report.steps] == ["succeeded", "succeeded", "failed"]
    outputs = report.run_dir / "second" / "outputs"
    before = {path: path.read_bytes() for path in outputs.rglob("*") if path.is_file()}
    assert before

    nodes_file = project.path / "src" / "demo_project" / "pipelines" / "nodes.py"
    nodes_file.write_text(  # the first step now fails
        nodes_file.read_text().replace(
            "def slow_identity(value):\n", "def slow_identity(value):\n    raise RuntimeError\n"
        )
    )
    resumed = replay(project, job_file, max_parallel=1, resume=report.run_id, reuse=False)

    statuses = {step.name: step.status for step in resumed.report.steps}
    assert statuses["first"] == "failed" and statuses["second"] == "succeeded", statuses
    assert {path: path.read_bytes() for path in outputs.rglob("*") if path.is_file()} == before


#: ``settings.py`` lines making the preparation of step ``second`` long, and telling its pid.
SLOW_SETTINGS = """
import os as _os
import time as _time
from pathlib import Path as _Path

_folder = _Path.cwd()
if _folder.name == "code" and _folder.parent.name == "second":
    _Path(_os.environ["SETTINGS_PID"]).write_text(str(_os.getpid()))
    _time.sleep(30)
"""


@pytest.mark.slow
@pytest.mark.parametrize("how", ["kill -9", "SIGTERM"])
def test_a_step_being_prepared_ends_with_the_replay_however_it_ends(
    make_project, tmp_path, monkeypatch, how
):
    pid_file, settings_pid = tmp_path / "sleeper.pid", tmp_path / "settings.pid"
    monkeypatch.setenv("PID_FILE", str(pid_file))
    monkeypatch.setenv("SETTINGS_PID", str(settings_pid))
    project = make_project(
        nodes=[
            NodeSpec("sleeper", "write_pid_and_sleep", ["params:seed"], ["a"]),
            NodeSpec("second", "add_one", ["a"], ["b"]),
        ],
        extra_functions=NODE_FUNCTIONS,
        settings=SLOW_SETTINGS,
    )
    job_file = compile_job(project)
    driver = start_cli(project, "replay", str(job_file), "--max-parallel", "1")
    wait_for(lambda: settings_pid.exists() and settings_pid.read_text(), "second's preparation")
    preparing = int(settings_pid.read_text())

    if how == "kill -9":
        driver.kill()
    else:
        driver.send_signal(signal.SIGTERM)
    driver.communicate(timeout=60)

    ended = process_ends(preparing, within=10)
    if not ended:
        os.kill(preparing, signal.SIGKILL)
    assert ended, f"step second's process {preparing}, being prepared, outlived the replay"
