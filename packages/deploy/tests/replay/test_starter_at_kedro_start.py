"""``kedro azureml run --local`` starts its warm starter as Kedro's CLI starts (the ``kedro.init``
plugin ``cli.kedro_init``), and the run command uses that one only when it fits."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from kedro_azureml_deploy.cli.kedro_init import start_replay_starter
from kedro_azureml_deploy.replay import starter_at_kedro_start
from kedro_azureml_deploy.replay.warm_starts import StepStarter
from project_factory import NodeSpec

from .conftest import compile_job, process_ends


@pytest.fixture
def project(make_project):
    return make_project(nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])])


@pytest.fixture
def kedro_started(project, monkeypatch):
    """``kedro_started(*args)``: what the plugin does for ``kedro ARGS`` in the project; returns
    the starter it started (``None``), which the test ends."""
    monkeypatch.chdir(project.path)
    started: list[StepStarter] = []

    def start(*args: str) -> StepStarter | None:
        monkeypatch.setattr(sys, "argv", ["kedro", *args])
        start_replay_starter()
        if starter_at_kedro_start._STARTED is None:
            return None
        started.append(starter_at_kedro_start._STARTED[2])
        return started[-1]

    yield start
    starter_at_kedro_start._STARTED = None
    for starter in started:
        starter.close()
        starter.remove_temporary_folder()


def _warmed(starter: StepStarter) -> StepStarter:
    deadline = time.monotonic() + 60
    while starter.warming():
        assert time.monotonic() < deadline, "the starter did not warm up"
        time.sleep(0.05)
    return starter


def test_the_plugin_is_registered_with_kedro():
    (plugin,) = [ep for ep in entry_points(group="kedro.init") if ep.name == "azureml"]
    assert plugin.load() is start_replay_starter


def test_run_local_starts_the_starter_and_the_run_command_takes_it(project, kedro_started):
    starter = kedro_started("azureml", "run", "-j", "train", "--local", "--no-reuse")

    assert starter is not None and starter.pid is not None
    assert starter.folder.is_dir() and not starter.folder.is_relative_to(project.path)
    assert starter_at_kedro_start.take(project.path.resolve(), None) is starter
    assert _warmed(starter).failure is None
    assert starter_at_kedro_start.take(project.path.resolve(), None) is None  # taken once


@pytest.mark.parametrize(
    "args",
    [
        ("azureml", "run", "-j", "train", "--local", "--cold"),
        ("azureml", "run", "-j", "train", "--local", "--help"),
        ("azureml", "run", "-j", "train"),  # a submission
        ("azureml", "replay", "--local"),
        ("azureml", "compile", "-j", "train"),
        ("run", "--local"),
        (),
    ],
)
def test_nothing_starts_for_any_other_command(kedro_started, args):
    assert kedro_started(*args) is None


def test_nothing_starts_outside_a_kedro_project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["kedro", "azureml", "run", "--local"])
    start_replay_starter()
    assert starter_at_kedro_start._STARTED is None


def test_a_starter_started_for_another_python_is_ended_not_used(project, kedro_started):
    starter = kedro_started("azureml", "run", "--local")
    assert starter is not None

    assert starter_at_kedro_start.take(project.path.resolve(), Path(sys.executable)) is None
    assert process_ends(starter.pid) and not starter.folder.exists()


def test_a_starter_started_before_the_environment_changed_is_ended_not_used(
    project, kedro_started, monkeypatch
):
    """A project's ``settings.py`` may set variables when Kedro opens the project, after the
    plugin started the starter: steps must get them, so the starter is not the steps' any more."""
    starter = kedro_started("azureml", "run", "--local")
    assert starter is not None
    monkeypatch.setenv("SET_BY_SETTINGS", "1")

    assert starter_at_kedro_start.take(project.path.resolve(), None) is None
    assert process_ends(starter.pid) and not starter.folder.exists()


#: Kedro's CLI start for ``run --local`` with an option the run command then refuses (click's
#: resilient parsing, which the plugin reads the command line with, skips what it does not
#: know), and an exit before any replay: nobody takes the starter.
UNTAKEN = """
import sys
from kedro_azureml_deploy.cli.kedro_init import start_replay_starter
from kedro_azureml_deploy.replay import starter_at_kedro_start

sys.argv = ["kedro", "azureml", "run", "--local", "--no-such-option"]
start_replay_starter()
starter = starter_at_kedro_start._STARTED[2]
print("STARTER", starter.pid, starter.folder, flush=True)
"""


def test_a_starter_nobody_takes_is_ended_at_exit_and_its_folder_removed(project):
    result = subprocess.run(
        [sys.executable, "-c", UNTAKEN],
        cwd=project.path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("STARTER ")]
    _, pid, folder = line.split(" ", 2)
    assert process_ends(int(pid)) and not Path(folder).exists()


@pytest.mark.slow
def test_run_local_replays_warm_with_the_starter_started_with_kedro(project, tmp_path):
    """End to end, through Kedro's CLI: the starter the plugin started is the one used (its log
    is the one kept), every step warm, and no temporary starter folder left behind."""
    compile_job(project)
    temporary = tmp_path / "tmp"
    temporary.mkdir()

    result = project.kedro(
        "azureml", "run", "-j", "train", "--local", env={"TMPDIR": str(temporary)}
    )

    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = (project.path / ".azureml-local" / "runs").iterdir()
    steps = json.loads((run / "run.json").read_text())["steps"]
    assert {step["start"] for step in steps.values()} == {"warm"}
    kept = (project.path / ".azureml-local" / "step-starter.log").read_text()
    assert starter_at_kedro_start.STARTED_WITH_KEDRO in kept
    assert not list(temporary.glob("kedro-azureml-starter-*"))
