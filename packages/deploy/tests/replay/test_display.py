"""Off a terminal, the replay prints one line each time a step starts or ends, also for a step
shorter than the interval at which the lines look at the run."""

from __future__ import annotations

import io
import time

from rich.console import Console

from kedro_azureml_deploy.replay.display import ReplayDisplay
from kedro_azureml_deploy.replay.run_store import RunStore, StepState, StepStatus
from kedro_azureml_deploy.replay.snapshot import Snapshot


def lines_of_a_run(tmp_path, change) -> list[str]:
    """The progress lines printed while ``change(run)`` changes the run's states at once."""
    run = RunStore(tmp_path / "runs").create(tmp_path / "job.yml", "type: pipeline\n", ["a", "b"])
    stream = io.StringIO()
    display = ReplayDisplay(Console(file=stream, width=200, color_system=None), tmp_path)
    snapshot = Snapshot(path=tmp_path, files=1, size=1, ignore_file=None)
    with display.live(run, title="Replaying", snapshot=snapshot):
        change(run)
    return [line.split("] ", 1)[1] for line in stream.getvalue().splitlines() if "] " in line]


def test_a_step_that_ran_between_two_looks_is_shown_running_then_ended(tmp_path):
    def run_both(run):
        for name in ("a", "b"):
            run.steps[name] = StepState(
                status=StepStatus.SUCCEEDED, started_at="t", duration=0.04, start="warm"
            )

    lines = lines_of_a_run(tmp_path, run_both)

    assert [line.split(" (log")[0] for line in lines] == [
        "step a: running",
        "step a: succeeded in 0.0 s",
        "step b: running",
        "step b: succeeded in 0.0 s",
    ]


def test_a_reused_step_and_one_that_never_started_are_not_shown_running(tmp_path):
    def reuse_and_fail(run):
        run.steps["a"] = StepState(
            status=StepStatus.SUCCEEDED, duration=0.0, start="warm", reuse="reused from run r"
        )
        run.steps["b"] = StepState(status=StepStatus.FAILED, duration=0.0, message="no asset")

    lines = lines_of_a_run(tmp_path, reuse_and_fail)

    assert lines == ["step a: succeeded in 0.0 s", "step b: failed in 0.0 s"]


def test_a_step_whose_earlier_state_comes_back_is_not_shown_running(tmp_path):
    """A resumed run resets the steps it kept to not started and, when it stops before one is
    decided again, gives it back its earlier state: it did not run in this replay."""
    run = RunStore(tmp_path / "runs").create(tmp_path / "job.yml", "type: pipeline\n", ["a"])
    earlier = StepState(status=StepStatus.SUCCEEDED, started_at="t", duration=1.5, start="warm")
    run.steps["a"] = earlier
    stream = io.StringIO()
    display = ReplayDisplay(Console(file=stream, width=200, color_system=None), tmp_path)
    with display.live(run, title="Replaying", snapshot=Snapshot(tmp_path, 1, 1, None)):
        run.steps["a"] = StepState()  # the engine decides it again when it is ready ...
        time.sleep(0.3)  # (seen by the progress lines)
        run.steps["a"] = earlier  # ... but the run stopped first

    assert "running" not in stream.getvalue()
