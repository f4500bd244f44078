"""What a replay shows: while it runs, a live table of the steps on a terminal, or one plain line
per step start and end elsewhere (CI, a log file); at the end, the summary: each step, where its
log and outputs are, why each step was reused or ran again (when the replay compared it with an
earlier run), the error line of each failed step, and what to do next.

Paths are shown relative to the folder the user stands in when they are under it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_azureml_deploy.replay.run_store import ReplayRun, RunStatus, StepState, StepStatus

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
    RunStatus.FAILED: (
        " Fix the cause, then resume it with --resume {run_id} (only while the compiled job is "
        "unchanged: after a change to the catalog, pipelines or azureml.yml, run the job again "
        "without --resume)."
    ),
    RunStatus.INTERRUPTED: " Resume it with --resume {run_id}.",
}
#: How often the plain progress lines look for changes.
PROGRESS_POLL_SECONDS = 0.1


class ReplayDisplay:
    """Shows a replay on ``console``; log paths are shown relative to ``project_path``."""

    def __init__(self, console: Console, project_path: Path) -> None:
        self._console = console
        self._project_path = project_path
        if not console.is_terminal:
            console.soft_wrap = True  # a log file or CI: one line per line, paths never split

    @contextmanager
    def live(self, run: ReplayRun, *, title: str, snapshot: Snapshot) -> Iterator[None]:
        """While in the block, a table of the steps of ``run`` refreshed four times a second on a
        terminal; elsewhere one plain line each time a step starts or ends."""
        ignored = f", {snapshot.ignore_file.name} applied" if snapshot.ignore_file else ""
        self._console.print(
            f"{title}\ncode snapshot: {snapshot.files} files, "
            f"{snapshot.size / 2**20:.1f} MiB{ignored}",
            highlight=False,
            markup=False,
        )
        if not self._console.is_terminal:
            with _ProgressLines(run, self._console, self._relative):
                yield
            return
        from rich.live import Live

        with Live(_LiveSteps(run), console=self._console, refresh_per_second=4):
            yield

    def summary(self, report: ReplayReport) -> None:
        """The table of step, status, duration and log (plain lines off a terminal, never
        wrapped), the reasons the replay gave, the error line of each failed step, where the
        outputs are, and the run's outcome."""
        if self._console.is_terminal:
            self._summary_table(report)
        else:
            self._summary_lines(report)
        decided = [step for step in report.steps if step.reuse]
        if decided:
            self._console.print("Reuse:", highlight=False)
            for step in decided:
                self._console.print(
                    f"  {step.name}: {step.reuse}", markup=False, highlight=False, soft_wrap=True
                )
        for step in report.steps:
            if step.message:
                self._console.print(
                    f"{step.name}: {step.message}", markup=False, highlight=False, soft_wrap=True
                )
            elif step.status in (StepStatus.FAILED, StepStatus.TIMED_OUT) and step.log_path:
                line = error_line(step.log_path)
                if line:
                    self._console.print(
                        f"{step.name}: {line}", markup=False, highlight=False, soft_wrap=True
                    )
        outputs = [
            (step.name, folder)
            for step in report.steps
            if step.status is StepStatus.SUCCEEDED
            for folder in sorted((report.run_dir / step.name / "outputs").glob("*"))
            if folder.is_dir() and any(folder.iterdir())
        ]
        if outputs:
            self._console.print("Outputs:", highlight=False)
            for name, folder in outputs:
                self._console.print(
                    f"  {name}.{folder.name}: {self._relative(folder)}/",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,  # a path is copied whole, never split over lines
                )
        outcome = f"[{RUN_STYLES[report.status]}]{report.status}[/]"
        hint = RESUME_HINTS.get(report.status, "").format(run_id=report.run_id)
        self._console.print(
            f"Run {report.run_id} {outcome}.{hint}", highlight=False, soft_wrap=True
        )

    def _summary_lines(self, report: ReplayReport) -> None:
        self._console.print(f"Replay run {report.run_id}", markup=False, highlight=False)
        width = max((len(step.name) for step in report.steps), default=4)
        for step in report.steps:
            log = self._relative(step.log_path) if step.log_path else ""
            self._console.print(
                f"  {step.name:<{width}}  {step.status:<11}  {_seconds(step.duration):>8}  {log}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )

    def _summary_table(self, report: ReplayReport) -> None:
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

    def _relative(self, path: Path) -> str:
        """``path`` relative to where the user stands when it is under it, else absolute."""
        try:
            return str(path.resolve().relative_to(Path.cwd().resolve()))
        except ValueError:
            return str(path)


def error_line(log_path: Path) -> str | None:
    """The line of a step's log that says why it failed: the last ``Error:`` line (what
    ``execute`` prints), else the last non-empty line."""
    try:
        lines = [line.strip() for line in log_path.read_text(errors="replace").splitlines()]
    except OSError:
        return None
    lines = [line for line in lines if line]
    errors = [line for line in lines if line.startswith("Error:")]
    return (errors or lines or [None])[-1]


class _ProgressLines:
    """A thread that prints one line each time a step of ``run`` starts or ends, off a terminal
    (the engine changes the run's state; this only reads it)."""

    def __init__(self, run: ReplayRun, console: Console, relative: Callable[[Path], str]) -> None:
        self._run = run
        self._console = console
        self._relative = relative
        self._seen: dict[str, StepStatus] = {}
        self._initial: dict[str, StepState] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> _ProgressLines:
        self._seen = {name: state.status for name, state in list(self._run.steps.items())}
        self._initial = {name: replace(state) for name, state in list(self._run.steps.items())}
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()
        self._report_changes()

    def _watch(self) -> None:
        while not self._done.wait(PROGRESS_POLL_SECONDS):
            self._report_changes()

    def _report_changes(self) -> None:
        for name, state in list(self._run.steps.items()):
            before = self._seen.get(name)
            if before is state.status:
                continue
            self._seen[name] = state.status
            if state.status is StepStatus.NOT_STARTED:
                continue
            # a step that ran between two looks (shorter than a poll) started too; not one
            # reused, nor one whose earlier state came back (a resume stopped before it ran)
            ran_unseen = (
                before is not StepStatus.RUNNING
                and state.start is not None
                and not (state.reuse or "").startswith("reused")
                and state != self._initial.get(name)
            )
            started = state.status is StepStatus.RUNNING or ran_unseen
            if started:
                self._print(
                    f"step {name}: running (log: {self._relative(self._run.log_path(name))})"
                )
            if state.status is not StepStatus.RUNNING:
                took = f" in {_seconds(state.duration)}" if state.duration is not None else ""
                self._print(f"step {name}: {state.status}{took}")

    def _print(self, line: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self._console.print(f"[{stamp}] {line}", markup=False, highlight=False, soft_wrap=True)


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
