"""The plan page of a replay run: ``<run>/plan.html``, rewritten while the run goes.

While a replay runs, a thread of this module watches the run's state (the engine changes it,
this only reads it, as the progress lines do) and rewrites the page atomically each time a step
starts or ends, so a user can keep it open: an open page of a run that is still going reloads
itself. Each node links to its step's ``step.log``, relative to the page.

    with live_plan_page(run, plan, console=console):
        StepEngine(...).run()
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.plan_page import StepProgress, render_plan_page, write_plan_page
from kedro_azureml_deploy.replay.display import error_line
from kedro_azureml_deploy.replay.run_store import ReplayRun, RunStatus, RunStore, StepStatus

if TYPE_CHECKING:
    from rich.console import Console

#: The page's name in the run's folder.
RUN_PAGE = "plan.html"
#: How often the watcher looks for changes, in seconds.
WATCH_SECONDS = 0.2

#: A replay step's status as the page shows it, and what the page adds.
PAGE_STATES: dict[StepStatus, tuple[str, str | None]] = {
    StepStatus.NOT_STARTED: ("queued", None),
    StepStatus.RUNNING: ("running", None),
    StepStatus.SUCCEEDED: ("completed", None),
    StepStatus.FAILED: ("failed", None),
    StepStatus.TIMED_OUT: ("failed", "timed out"),
    StepStatus.SKIPPED: ("skipped", None),
    StepStatus.INTERRUPTED: ("skipped", "interrupted: resume the run to run it again"),
}


def run_progress(run: ReplayRun, page_folder: Path) -> dict[str, StepProgress]:
    """Each step of ``run`` as the page shows it; log links are relative to ``page_folder``."""
    progress = {}
    now = datetime.now().astimezone()
    for name, state in list(run.steps.items()):
        page_state, detail = PAGE_STATES[state.status]
        log_path = run.log_path(name)
        has_log = log_path.is_file()
        if page_state == "failed" and state.message is None and has_log:
            detail = error_line(log_path) or detail
        duration = state.duration
        if state.status is StepStatus.RUNNING and state.started_at:
            duration = (now - datetime.fromisoformat(state.started_at)).total_seconds()
        progress[name] = StepProgress(
            page_state,
            started=state.started_at,
            duration=duration,
            log=os.path.relpath(log_path, page_folder) if has_log else None,
            detail=state.message or detail,
        )
    return progress


def write_run_page(
    run: ReplayRun, plan: Mapping[str, Any], path: Path | None = None, *, live: bool = False
) -> Path:
    """Write the page of ``run`` (``<run>/plan.html`` unless ``path`` says otherwise)."""
    target = path or run.path / RUN_PAGE
    html = render_plan_page(
        plan,
        run_progress(run, target.parent),
        run=f"replay run {run.run_id}",
        live=live,
        generated_at=datetime.now().astimezone().isoformat(timespec="seconds"),
    )
    return write_plan_page(target, html)


def latest_run(store: RunStore) -> ReplayRun | None:
    """The newest run of ``store``, if any."""
    ids = store.run_ids()
    return store.open(ids[0]) if ids else None


@contextmanager
def live_plan_page(
    run: ReplayRun, plan: Mapping[str, Any] | None, *, console: Console | None = None
) -> Iterator[Path | None]:
    """While in the block, keep ``<run>/plan.html`` up to date with the run's steps; at the end,
    write it once more as the run left it. Does nothing when ``plan`` is ``None``.

    A page that cannot be written is no reason to stop a run: the watcher gives up quietly (the
    run's own files report a full disk).
    """
    if plan is None:
        yield None
        return
    path = run.path / RUN_PAGE
    if console is not None:
        shown = _shown(path)
        console.print(
            f"plan page: {shown} (reload it to follow the run)", markup=False, highlight=False
        )
    watcher = _Watcher(run, plan, path)
    watcher.start()
    try:
        yield path
    finally:
        watcher.stop()
        _try_write(run, plan, path, live=False)


class _Watcher(threading.Thread):
    def __init__(self, run: ReplayRun, plan: Mapping[str, Any], path: Path) -> None:
        super().__init__(daemon=True, name="plan-page")
        self._run, self._plan, self._path = run, plan, path
        self._done = threading.Event()

    def run(self) -> None:
        seen = None
        while not self._done.is_set():
            now = tuple((name, state.status) for name, state in list(self._run.steps.items()))
            if now != seen:
                if not _try_write(self._run, self._plan, self._path, live=True):
                    return
                seen = now
            self._done.wait(WATCH_SECONDS)

    def stop(self) -> None:
        self._done.set()
        self.join()


def _try_write(run: ReplayRun, plan: Mapping[str, Any], path: Path, *, live: bool) -> bool:
    try:
        write_run_page(run, plan, path, live=live and run.status is RunStatus.RUNNING)
    except OSError:
        return False
    return True


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
