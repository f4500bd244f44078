"""The replay engine: start each step as soon as its upstream steps have succeeded and a slot is
free, follow it to its end, and apply the job's failure policy.

- A step is ready when every step whose output it reads has succeeded; ready steps start in the
  job's order, at most ``max_parallel`` at a time.
- A step succeeds when its command exits 0 and it left its inputs as they were.
- ``continue_on_step_failure: true``: a step that does not succeed marks every step depending on
  it, directly or not, ``skipped``; the others go on. ``false`` (Azure ML's default): no step
  starts after a failure; running steps finish and the rest stay ``not_started``.
- A stop signal stops the running steps (SIGTERM to their process groups, SIGKILL after a grace
  period) and marks them ``interrupted``. So does a file of the run that cannot be written (a full
  disk): the steps are stopped, then the ``RunWriteError`` goes on to the caller.
- ``run.json`` records each running step's process group, so that a resume after a crash of the
  replay can check that none of its processes is left.

The loop polls its processes every ``POLL_SECONDS``: a step's start waits at most that long after
its upstream ends, a small fraction of any step's own start-up. While the warm starter warms up,
ready steps wait for it and the loop goes on, so a stop signal or a timeout is honoured at once.
"""

from __future__ import annotations

import select
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_azureml_deploy.replay.compiled_file import CompiledFile, StepSpec
from kedro_azureml_deploy.replay.read_only import (
    Fingerprint,
    fingerprint,
    make_read_only,
    make_writable,
    remove_folder,
)
from kedro_azureml_deploy.replay.run_store import (
    ReplayRun,
    RunWriteError,
    StepState,
    StepStatus,
    now_iso,
    writing,
)
from kedro_azureml_deploy.replay.step_process import StepProcess
from kedro_azureml_deploy.replay.step_setup import (
    PreparedStep,
    StepSetupError,
    input_paths,
    prepare_step,
)
from kedro_azureml_deploy.replay.stop_signals import StopSignals

if TYPE_CHECKING:
    from kedro_azureml_deploy.replay.mlflow_runs import ReplayTracking
    from kedro_azureml_deploy.replay.reuse import Decision, ReplayReuse
    from kedro_azureml_deploy.replay.warm_starts import PendingStep, StepStarter

POLL_SECONDS = 0.05
#: How many times the folder of a step that will not run is removed before it is left.
REMOVAL_TRIES = 25
LOG_PREFIX = "[kedro-azureml replay]"


@dataclass
class _RunningStep:
    spec: StepSpec
    process: StepProcess
    inputs: dict[str, Path]
    fingerprints: dict[str, Fingerprint]

    def changed_inputs(self) -> list[str]:
        """The input ports whose content differs from when the step started."""
        return [
            port
            for port, path in self.inputs.items()
            if fingerprint(path) != self.fingerprints[port]
        ]


@dataclass
class _PreparedStep:
    """A step prepared before it is ready: its folder, and its warm process held at its gate
    (``None`` when the starter did not take it: it starts cold, in that folder)."""

    prepared: PreparedStep
    pending: PendingStep | None


class StepEngine:
    """Runs the ``not_started`` steps of ``run``, recording every change in its ``run.json``.

    Args:
        job: the compiled job.
        run: the run; its steps that have ``succeeded`` are not run again, their outputs are read.
        project_path: the project (for the local data asset cache).
        bin_folder: the Python environment's folder put first on each step's ``PATH``.
        max_parallel: how many steps may run at once.
        stop: the stop signals; once one is received, running steps are interrupted.
        tracking: the replay's MLflow tracking when the project uses MLflow: each step logs into
            a child run of the replay's run, as each Azure ML step logs into its own run.
        reuse: fingerprints each step when it is ready, and decides whether it is reused (its
            ``succeeded`` state on ``--resume``, or the reuse cache) or runs. Without it, steps
            that have ``succeeded`` are kept as they are.
        starter: the warm starter that forks each step whose command allows it (see
            ``replay.warm_starts``); ``None`` starts every step as a new interpreter.
    """

    def __init__(
        self,
        job: CompiledFile,
        run: ReplayRun,
        *,
        project_path: Path,
        bin_folder: Path,
        max_parallel: int,
        stop: StopSignals,
        tracking: ReplayTracking | None = None,
        reuse: ReplayReuse | None = None,
        starter: StepStarter | None = None,
    ) -> None:
        self._job = job
        self._starter = starter
        self._reuse = reuse
        self._decisions: dict[str, tuple[Decision, dict[str, object]]] = {}
        self._tracking = tracking
        self._run = run
        self._project_path = project_path
        self._bin_folder = bin_folder
        self._max_parallel = max_parallel
        self._stop = stop
        self._running: dict[str, _RunningStep] = {}
        self._prepared: dict[str, _PreparedStep] = {}
        self._tried_to_prepare: set[str] = set()
        #: The steps that had succeeded, decided again when ready: their outputs stay until then.
        self._kept: dict[str, StepState] = {}
        self._halted = False

    def run(self) -> None:
        """Run until no step can start and none is running, or until a stop signal.

        Outputs of succeeded steps are read-only while this runs, and writable again after.
        """
        kept = self._kept
        if self._reuse is not None:  # each succeeded step is decided again when it is ready
            for name, state in self._run.steps.items():
                if state.status is StepStatus.SUCCEEDED:
                    kept[name], self._run.steps[name] = state, StepState()
        for name in self._job.steps:
            if self._run.steps[name].status is StepStatus.SUCCEEDED:
                self._protect_outputs(name)
        try:
            while not self._stopping():
                waiting = self._start_ready_steps()
                if not self._running and not waiting:
                    return
                self._prepare_next_steps()
                self._wait_for_an_end(waiting)
                self._collect_ended_steps()
            self._interrupt()
        except BaseException:
            self._interrupt(save=False)  # the caller records the run; the disk may be full
            raise
        finally:
            self._cancel_prepared(set(self._prepared))
            for name, state in kept.items():  # not decided yet: a later resume decides them
                if self._run.steps[name].status is StepStatus.NOT_STARTED:
                    self._run.steps[name] = state
            for name, step in self._job.steps.items():
                for port in step.outputs:
                    make_writable(self._run.output_folder(name, port))

    def _stopping(self) -> bool:
        return self._stop.received is not None

    def _wait_for_an_end(self, warming: bool) -> None:
        """Wait ``POLL_SECONDS``, or less: until a running step ends, when its process tells
        (see ``StepProcess.end_fd``), or, while ready steps wait for it (``warming``), until the
        warm starter is ready, so that the next step starts at once."""
        ends = [
            fd for running in self._running.values() if (fd := running.process.end_fd()) is not None
        ]
        if (
            warming
            and self._starter is not None
            and (ready := self._starter.ready_fd()) is not None
        ):
            ends.append(ready)
        if not ends:
            time.sleep(POLL_SECONDS)
            return
        try:
            select.select(ends, [], [], POLL_SECONDS)
        except (OSError, ValueError):  # a descriptor closed meanwhile: the poll tells
            time.sleep(POLL_SECONDS)

    def _start_ready_steps(self) -> bool:
        """Start (or reuse) the steps that are ready, while slots are free. Returns whether ready
        steps wait for the warm starter to warm up: the loop goes on meanwhile, so that a stop
        signal, a timeout or a step's end is seen at once, not after the warm-up."""
        reused = True
        while reused:  # a reused step may make steps ready that come before it in the file
            reused = False
            for name, step in self._job.steps.items():
                if self._halted or self._stopping() or len(self._running) >= self._max_parallel:
                    return False
                if self._run.steps[name].status is StepStatus.NOT_STARTED and all(
                    self._run.steps[upstream].status is StepStatus.SUCCEEDED
                    for upstream in step.upstream
                ):
                    if name not in self._decisions and self._reused(step):
                        reused = True
                    elif self._starter is not None and self._starter.warming():
                        return True
                    else:
                        self._start(step)
        return False

    def _reused(self, step: StepSpec) -> bool:
        """Decide ``step`` (see ``replay.reuse``); when it is reused, record it ``succeeded`` with
        its outputs in place, and say so in its log."""
        if self._reuse is None:
            return False
        try:
            inputs = input_paths(step, self._run, self._project_path)
        except StepSetupError:
            return False  # the step fails in its setup, saying why
        decision, step_fingerprint = self._reuse.decide(step, inputs)
        self._decisions[step.name] = (decision, step_fingerprint.to_json())
        source = self._reuse.restore(step, decision)
        if source is None:
            return False
        state = self._reuse.kept_state(step.name, source) or StepState(
            status=StepStatus.SUCCEEDED, started_at=now_iso(), ended_at=now_iso(), duration=0.0
        )
        state.fingerprint = step_fingerprint.to_json()
        state.reuse = "reused" if source == self._run.run_id else f"reused from run {source}"
        self._run.steps[step.name] = state
        log_path = self._run.log_path(step.name)
        with writing(f"the log of step {step.name}", log_path):
            log_path.parent.mkdir(parents=True, exist_ok=True)
            with log_path.open("a", encoding="utf-8") as log:
                log.write(f"\n{LOG_PREFIX} {state.reuse}: its outputs are those of run {source}\n")
        self._protect_outputs(step.name)
        self._run.save(durable=False)
        return True

    def _start(self, step: StepSpec) -> None:
        self._run.steps[step.name] = StepState(status=StepStatus.RUNNING, started_at=now_iso())
        if step.name in self._decisions:
            decision, recorded = self._decisions.pop(step.name)
            state = self._run.steps[step.name]
            state.fingerprint = recorded
            text = decision.describe(run_id=self._run.run_id)
            state.reuse = None if text == "runs" else text
        if self._reuse is not None:
            for port in step.outputs:
                self._reuse.fingerprinter.forget(self._run.output_folder(step.name, port))
        started = time.monotonic()
        process: StepProcess | None = None
        early = self._prepared.pop(step.name, None)
        prepared = early.prepared if early is not None else None
        if prepared is not None:  # prepared while its upstream steps ran
            fingerprints = {port: fingerprint(path) for port, path in prepared.inputs.items()}
            if early is not None and early.pending is not None:  # held at its gate: it goes
                process = early.pending.go()
                if process is None:  # its leader is gone: prepared anew, started cold
                    prepared = None
        if prepared is None:
            try:
                prepared = self._prepare(step)
            except StepSetupError as exc:
                message = str(exc)
                self._end(step.name, StepStatus.FAILED, time.monotonic() - started, message=message)
                return
            fingerprints = {port: fingerprint(path) for port, path in prepared.inputs.items()}
        env = prepared.env
        if self._tracking is not None:
            env = {**env, **self._tracking.step_environment(step.name)}
        log_path = self._run.log_path(step.name)
        try:
            if process is None:
                with writing(f"the log of step {step.name}", log_path):
                    log_path.touch()
            if process is None and self._starter is not None:
                process = self._starter.start_step(
                    prepared.command,
                    cwd=prepared.cwd,
                    env=env,
                    log_path=log_path,
                    timeout=step.timeout,
                    stopping=self._stopping,
                )
            if process is None and self._stopping():
                return  # stopped while its leader was awaited: interrupted, never started cold
            if process is None:
                process = StepProcess.start(
                    prepared.command,
                    cwd=prepared.cwd,
                    env=env,
                    log_path=log_path,
                    timeout=step.timeout,
                )
        except RunWriteError:
            raise
        except OSError as exc:  # no process could be started (out of processes or memory)
            message = f"the step's command could not be started: {exc.strerror or exc}"
            self._end(step.name, StepStatus.FAILED, time.monotonic() - started, message=message)
            return
        self._running[step.name] = _RunningStep(step, process, dict(prepared.inputs), fingerprints)
        state = self._run.steps[step.name]
        state.pid, state.process_group = process.pid, process.process_group
        state.start = "warm" if process.warm else "cold"
        self._run.save(durable=False)

    def _prepare(self, step: StepSpec) -> PreparedStep:
        return prepare_step(
            step,
            self._run,
            project_path=self._project_path,
            bin_folder=self._bin_folder,
            job_inputs=self._job.inputs,
        )

    def _prepare_next_steps(self) -> None:
        """Prepare the steps that are next, while their upstream steps run, so that each starts
        the moment they have succeeded: its folder, working copy and empty outputs, and its warm
        process up to its go (``warm_starts.PendingStep``: Kedro's CLI with the project's
        settings, nothing of its inputs, no hook). A step is next when each of its upstream steps
        runs or has succeeded (or it is ready and waits for a slot); at most ``max_parallel`` are
        held at once, each prepared once; while the starter warms up, only the folders of the
        steps that are ready. Not with MLflow tracking (a step's MLflow run is
        created as it starts, and its variables are part of its environment), nor for a step
        that may be reused or had succeeded (``--resume``, ``step_reuse``: its outputs may be
        kept, or stay recorded as they were when the run stops before it starts). A prepared
        step that will not run after all (halted, skipped, stopped) is ended without running
        anything of its command, and its folder removed."""
        unrunnable = {
            name
            for name in self._prepared
            if self._halted
            or self._stopping()
            or self._run.steps[name].status is not StepStatus.NOT_STARTED
        }
        self._cancel_prepared(unrunnable)
        starter = self._starter
        if (
            starter is None
            or self._tracking is not None
            or self._halted
            or self._stopping()
            or starter.failure is not None
        ):
            return
        warming = starter.warming()  # meanwhile, the folders of the ready steps only
        upstream_states = (
            (StepStatus.SUCCEEDED,) if warming else (StepStatus.SUCCEEDED, StepStatus.RUNNING)
        )
        for name, step in self._job.steps.items():
            if len(self._prepared) >= self._max_parallel:
                return
            if (
                name in self._tried_to_prepare
                or name in self._prepared
                or self._run.steps[name].status is not StepStatus.NOT_STARTED
                or name in self._kept  # preparing would empty its outputs (--no-reuse too)
                or (self._reuse is not None and self._reuse.may_reuse(name))
                or not all(
                    self._run.steps[upstream].status in upstream_states
                    for upstream in step.upstream
                )
            ):
                continue
            if warming:  # one a turn of the loop: the starter may be ready at the next
                self._prepare_early(step, None)
                return
            else:
                self._tried_to_prepare.add(name)
                self._prepare_early(step, starter)

    def _prepare_early(self, step: StepSpec, starter: StepStarter | None) -> None:
        """Prepare ``step`` now, and have ``starter`` hold its process at its gate; ``None``: its
        folder only (the starter warms up: the step starts as soon as it is ready)."""
        log_path = self._run.log_path(step.name)
        try:
            prepared = self._prepare(step)
            with writing(f"the log of step {step.name}", log_path):
                log_path.touch()
        except (StepSetupError, RunWriteError):  # prepared again when it starts, which says why
            self._remove_step_folder(step.name)  # (a full disk stops the run then, not now)
            return
        pending = None
        if starter is not None:
            pending = starter.prestart_step(
                prepared.command,
                cwd=prepared.cwd,
                env=prepared.env,
                log_path=log_path,
                timeout=step.timeout,
                stopping=self._stopping,
            )
        self._prepared[step.name] = _PreparedStep(prepared, pending)

    def _cancel_prepared(self, names: set[str]) -> None:
        """End the prepared steps ``names`` without running them, and remove their folders."""
        for name in names:
            pending = self._prepared.pop(name).pending
            if pending is not None:
                pending.cancel()
            self._remove_step_folder(name)

    def _remove_step_folder(self, name: str) -> None:
        """Remove the folder of a step that did not start (best effort: it is replaced when the
        step starts, on a resume). A cancelled step's processes were just sent SIGKILL: one not
        dead yet may still write a file there (Python's bytecode cache of the project's
        modules), so the removal is tried again for a little while."""
        for _ in range(REMOVAL_TRIES):
            try:
                remove_folder(self._run.step_folder(name))
                return
            except OSError:
                time.sleep(POLL_SECONDS / 5)

    def _collect_ended_steps(self) -> None:
        for name, running in list(self._running.items()):
            exit_code = running.process.poll()
            if exit_code is None:
                continue
            del self._running[name]
            duration = time.monotonic() - running.process.started
            message = None
            if running.process.timed_out:
                status = StepStatus.TIMED_OUT
                message = (
                    f"the step ran past its timeout of {running.spec.timeout:g} s and was stopped"
                )
            elif exit_code != 0:
                status = StepStatus.FAILED
            elif changed := running.changed_inputs():
                status = StepStatus.FAILED
                message = (
                    f"step wrote into its input {', '.join(changed)}, which Azure ML mounts "
                    "read-only"
                )
            else:
                status = StepStatus.SUCCEEDED
            self._end(name, status, duration, exit_code=exit_code, message=message)

    def _end(
        self,
        name: str,
        status: StepStatus,
        duration: float,
        *,
        exit_code: int | None = None,
        message: str | None = None,
        save: bool = True,
    ) -> None:
        state = self._run.steps[name]
        state.pid = state.process_group = None
        state.status = status
        state.ended_at = now_iso()
        state.duration = round(duration, 3)
        state.exit_code = exit_code
        state.message = message
        if message is not None:
            log_path = self._run.log_path(name)
            with (
                writing(f"the log of step {name}", log_path),
                log_path.open("a", encoding="utf-8") as log,
            ):
                log.write(f"\n{LOG_PREFIX} {message}\n")
        if self._tracking is not None:
            self._tracking.step_finished(name, status)
        if status is StepStatus.SUCCEEDED:
            if self._reuse is not None:
                self._reuse.store(self._job.steps[name], state)
            self._protect_outputs(name)
        elif status is not StepStatus.INTERRUPTED:
            self._apply_failure_policy(name)
        if save:
            self._run.save(durable=False)

    def _protect_outputs(self, name: str) -> None:
        for port in self._job.steps[name].outputs:
            make_read_only(self._run.output_folder(name, port))

    def _apply_failure_policy(self, failed: str) -> None:
        if not self._job.continue_on_step_failure:
            self._halted = True
            return
        for dependent in self._job.dependents(failed):
            state = self._run.steps[dependent]
            if state.status is StepStatus.NOT_STARTED:
                state.status = StepStatus.SKIPPED
                state.message = f"upstream step {failed} did not succeed"

    def _interrupt(self, *, save: bool = True) -> None:
        """Stop every running step and mark it ``interrupted`` (steps that ended meanwhile keep
        their own outcome); ``save=False`` leaves ``run.json`` to the caller, and stops the steps
        even when their logs cannot be written."""
        if save:
            self._collect_ended_steps()
        for running in self._running.values():
            running.process.stop()
        while self._running:
            time.sleep(POLL_SECONDS)
            for name, running in list(self._running.items()):
                exit_code = running.process.poll()
                if exit_code is not None:
                    del self._running[name]
                    duration = time.monotonic() - running.process.started
                    self._end(
                        name, StepStatus.INTERRUPTED, duration, exit_code=exit_code, save=save
                    )
        for state in self._run.steps.values():
            if state.status is StepStatus.RUNNING:  # its setup was cut short
                state.status = StepStatus.INTERRUPTED
        if save:
            self._run.save()
