"""The plan page of a replay run: written into the run's folder, rewritten while steps start and
end, each node linking to its step's log."""

from __future__ import annotations

import re
import threading
import time

from plan_dicts import plan_dict
from plan_page_reading import read_page

from kedro_azureml_deploy.plan_page import StepProgress
from kedro_azureml_deploy.replay.live_page import RUN_PAGE, run_progress
from kedro_azureml_deploy.replay.run_store import RunStore, StepState, StepStatus

from .conftest import replay, shell_step


def three_steps():
    """a -> b (which fails) -> c, and d on its own; the job goes on after a failure."""
    jobs = {
        "a": shell_step(
            "sleep 0.6; echo a-done --az-output x ${{outputs.x}}",
            outputs={"x": {"type": "uri_folder"}},
        ),
        "b": shell_step(
            "sleep 0.6; echo 'Error: node b failed: ValueError: no rows' >&2; exit 3 "
            "--az-input x ${{inputs.x}}",
            inputs={"x": "${{parent.jobs.a.outputs.x}}"},
            outputs={"y": {"type": "uri_folder"}},
        ),
        "c": shell_step("echo c", inputs={"y": "${{parent.jobs.b.outputs.y}}"}),
        "d": shell_step("echo d"),
    }
    plan = plan_dict(
        [
            ("a", ["node_a"], []),
            ("b", ["node_b1", "node_b2"], ["a"]),
            ("c", ["node_c"], ["b"]),
            ("d", ["node_d"], []),
        ]
    )
    return jobs, plan


def test_the_run_page_is_rewritten_as_steps_change_and_shows_how_the_run_ended(
    write_job, tmp_path, make_project_dir=None
):
    jobs, plan = three_steps()
    job_file = write_job(jobs, settings={"continue_on_step_failure": True})
    runs = tmp_path / "runs"
    seen: list[dict[str, str]] = []

    done = threading.Event()

    def watch():  # what a user reloading the page would see
        while not done.is_set():
            pages = list(runs.glob(f"*/{RUN_PAGE}"))
            if pages:
                states = read_page(pages[0]).states
                if not seen or seen[-1] != states:
                    seen.append(states)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = replay_in(tmp_path, job_file, runs_dir=runs, plan=plan)
    finally:
        done.set()
        watcher.join()

    page = result.report.run_dir / RUN_PAGE
    assert f"plan page: {page} (reload it to follow the run)" in result.output
    final = read_page(page)
    assert final.states == {
        "node_a": "completed",
        "node_b1": "failed",
        "node_b2": "failed",
        "node_c": "skipped",
        "node_d": "completed",
    }
    assert sorted(set(final.links)) == ["a/step.log", "b/step.log", "d/step.log"]
    for link in final.links:  # relative to the page, so the run folder can move
        assert (page.parent / link).is_file()
    assert "Error: node b failed: ValueError: no rows" in page.read_text()
    assert "location.reload" not in page.read_text()  # the run has ended
    # while it ran, a reload showed a running before the end
    assert any(states.get("node_a") == "running" for states in seen)
    assert any(states.get("node_b1") == "running" for states in seen)
    assert not list(page.parent.glob(f".{RUN_PAGE}.*"))  # no temporary file left


def replay_in(project_path, job_file, **options):
    class _Project:
        path = project_path

    return replay(_Project(), job_file, **options)


def test_a_replay_without_a_plan_writes_no_page(write_job, tmp_path):
    job_file = write_job({"d": shell_step("echo d")})

    result = replay_in(tmp_path, job_file, runs_dir=tmp_path / "runs")

    assert not (result.report.run_dir / RUN_PAGE).exists()
    assert "plan page" not in result.output


def test_run_progress_maps_each_replay_status_and_times_a_running_step(tmp_path):
    store = RunStore(tmp_path / "runs")
    run = store.create(tmp_path / "job.yml", "jobs: {}\n", ["a", "b", "c", "d"])
    run.log_path("a").parent.mkdir()
    run.log_path("a").write_text("Traceback\nError: boom\n")
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(time.time() - 5))
    started = re.sub(r"(\d\d)(\d\d)$", r"\1:\2", started)
    run.steps["a"] = StepState(status=StepStatus.FAILED, duration=1.5)
    run.steps["b"] = StepState(status=StepStatus.RUNNING, started_at=started)
    run.steps["c"] = StepState(status=StepStatus.TIMED_OUT, message="the step ran past its timeout")
    run.steps["d"] = StepState(status=StepStatus.INTERRUPTED)

    progress = run_progress(run, tmp_path)

    assert progress["a"] == StepProgress(
        "failed", duration=1.5, log=f"runs/{run.run_id}/a/step.log", detail="Error: boom"
    )
    assert progress["b"].state == "running" and 4 < progress["b"].duration < 60
    assert (
        progress["c"].state == "failed" and progress["c"].detail == "the step ran past its timeout"
    )
    assert progress["d"].state == "skipped" and "resume" in progress["d"].detail
