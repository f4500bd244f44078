"""What a replay shows: a live table of the steps while it runs (on a terminal only), and a summary
table at the end (always)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_azureml_deploy.replay.run_store import ReplayRun, RunStatus, StepStatus

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from kedro_azureml_deploy.replay.report import ReplayReport
    from kedro_azureml_deploy.replay.snapshot import Snapshot

STATUS_STYLES = {
    StepStatus.NOT_STARTED: "dim",
    StepStatus.RUNNING: "cyan",
    StepStatus.SUCCEEDED: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.SKIPPED: "yellow",
    StepStatus.TIMED_OUT: "bold red",
    StepStatus.INTERRUPTED: "yellow",
}
RUN_STYLES = {
    RunStatus.SUCCEEDED: "bold green",
    RunStatus.FAILED: "bold red",
    RunStatus.INTERRUPTED: "bold yellow",
    RunStatus.RUNNING: "cyan",
}

#: What the last line adds after a run that did not succeed.
RESUME_HINTS = {
    RunStatus.FAILED: " Fix the cause, then resume it with --resume {run_id}.",
    RunStatus.INTERRUPTED: " Resume it with --resume {run_id}.",
}


class ReplayDisplay:
    """Shows a replay on ``console``; log paths are shown relative to ``project_path``."""

    def __init__(self, console: Console, project_path: Path) -> None:
        self._console = console
        self._project_path = project_path

    @contextmanager
    def live(self, run: ReplayRun, *, title: str, snapshot: Snapshot) -> Iterator[None]:
        """While in the block, a table of the steps of ``run`` refreshed four times a second;
        nothing when the console is not a terminal."""
        if not self._console.is_terminal:
            yield
            return
        from rich.live import Live

        ignored = f", {snapshot.ignore_file.name} applied" if snapshot.ignore_file else ""
        self._console.print(
            f"{title}\ncode snapshot: {snapshot.files} files, "
            f"{snapshot.size / 2**20:.1f} MiB{ignored}",
            highlight=False,
        )
        with Live(_LiveSteps(run), console=self._console, refresh_per_second=4):
            yield

    def summary(self, report: ReplayReport) -> None:
        """The table of step, status, duration and log, the reasons the replay gave, and the
        run's outcome."""
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"Replay run {report.run_id}", title_justify="left")
        table.add_column("step", no_wrap=True)
        table.add_column("status", no_wrap=True)
        table.add_column("duration", justify="right", no_wrap=True)
        table.add_column("log", overflow="fold")
        for step in report.steps:
            table.add_row(
                escape(step.name),
                _styled(step.status),
                _seconds(step.duration),
                escape(self._relative(step.log_path)) if step.log_path else "",
            )
        self._console.print(table)
        for step in report.steps:
            if step.message:
                self._console.print(f"{step.name}: {step.message}", markup=False, highlight=False)
        outcome = f"[{RUN_STYLES[report.status]}]{report.status}[/]"
        hint = RESUME_HINTS.get(report.status, "").format(run_id=report.run_id)
        self._console.print(f"Run {report.run_id} {outcome}.{hint}", highlight=False)

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self._project_path))
        except ValueError:
            return str(path)


class _LiveSteps:
    """A renderable that rebuilds the step table from the run's state at each refresh."""

    def __init__(self, run: ReplayRun) -> None:
        self._run = run

    def __rich__(self) -> Table:
        from rich.table import Table

        table = Table(box=None, pad_edge=False)
        table.add_column("step", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("elapsed", justify="right", no_wrap=True)
        for name, state in list(self._run.steps.items()):
            elapsed = state.duration
            if state.status is StepStatus.RUNNING and state.started_at:
                started = datetime.fromisoformat(state.started_at)
                elapsed = (datetime.now().astimezone() - started).total_seconds()
            table.add_row(name, _styled(state.status), _seconds(elapsed))
        return table


def _styled(status: StepStatus) -> str:
    return f"[{STATUS_STYLES[status]}]{status}[/]"


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} s"
