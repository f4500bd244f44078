"""Whether a step is reused or runs, and why: one decision for the replay and for ``plan``.

A step is **reused** when an earlier run of it succeeded with the same fingerprint (see
:mod:`~kedro_azureml_deploy.replay.fingerprint`): on ``--resume``, the run's own earlier outputs;
with ``step_reuse: true``, outputs kept in the reuse cache by any earlier local run. It **runs
again because** something in its fingerprint changed (each change is named), and it **always
runs because** it reads something the fingerprint cannot see (remote storage, a database, ...).

A step's inputs are the outputs of its upstream steps, so a step can be decided only once those
exist: the replay decides each step when it is ready, with the digests of the outputs its upstream
steps just wrote (an upstream step that ran again and wrote the same bytes lets the step be
reused, as on Azure ML). :func:`forecast` decides a whole job before anything runs, against an
earlier run: a step downstream of one that runs again is then said to run again too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.compiler.parameter_inputs import PARAMS_PREFIX, dataset_of
from kedro_azureml_deploy.replay.compiled_file import JobInput, StepOutputInput
from kedro_azureml_deploy.replay.fingerprint import (
    Manifest,
    StepFingerprint,
    code_manifest,
    environment_digest,
    manifest_digest,
    path_digest,
    text_digest,
    value_digest,
    what_changed,
)

if TYPE_CHECKING:
    from kedro_azureml_deploy.replay.compiled_file import CompiledFile, StepSpec
    from kedro_azureml_deploy.replay.run_store import ReplayRun, StepState
    from kedro_azureml_deploy.replay.step_cache import StepCache
    from kedro_azureml_deploy.replay.step_reads import JobReads, StepReads

#: Where a run keeps the code manifests its steps' fingerprints refer to, by code digest.
MANIFESTS_FOLDER = "code-manifests"


class Verdict(StrEnum):
    """What happens to a step."""

    REUSED = "reused"
    RUNS = "runs"
    ALWAYS_RUNS = "always runs"


@dataclass(frozen=True)
class Decision:
    """What happens to one step, and why.

    Attributes:
        verdict: reused, runs, or always runs.
        reasons: what changed (``runs``), or what the fingerprint cannot see (``always runs``).
        source_run: the run whose outputs are reused.
    """

    verdict: Verdict
    reasons: tuple[str, ...] = ()
    source_run: str | None = None

    def describe(self, *, run_id: str | None = None) -> str:
        """``reused``, ``reused from run R``, ``runs again because …``, ``always runs because …``."""
        if self.verdict is Verdict.REUSED:
            if self.source_run and self.source_run != run_id:
                return f"reused from run {self.source_run}"
            return "reused"
        because = "; ".join(self.reasons)
        if self.verdict is Verdict.ALWAYS_RUNS:
            return f"always runs because {because}"
        return f"runs again because {because}" if because else "runs"


@dataclass(frozen=True)
class Earlier:
    """A step as an earlier run recorded it.

    Attributes:
        run_id: the earlier run.
        succeeded: whether the step succeeded there.
        fingerprint: its fingerprint then (``None`` for runs older than fingerprints).
        code: the code manifest behind its ``code`` digest, to name changed files.
    """

    run_id: str
    succeeded: bool
    fingerprint: StepFingerprint | None
    code: Manifest | None = None


def forecast_step(
    fingerprint: StepFingerprint,
    earlier: Earlier | None,
    *,
    reads: StepReads | None,
    known_reads_required: bool,
    code: Manifest | None = None,
    input_names: Mapping[str, str] | None = None,
    cached: bool = False,
) -> Decision:
    """The decision for one step whose inputs exist.

    Args:
        fingerprint: the step's fingerprint now.
        earlier: the step in the run compared with (the run resumed, or the latest run); ``None``
            when there is none.
        reads: what the step's nodes read, ``None`` when unknown (a compiled file replayed
            without its project).
        known_reads_required: reuse across runs needs ``reads`` (a resume keeps a step whose
            snapshot, inputs and command are unchanged even when they are unknown).
        code: the code manifest of ``fingerprint.code``, to name changed files.
        input_names: input port to what it is, for the reasons.
        cached: the reuse cache holds outputs for ``fingerprint`` (reuse across runs).
    """
    if reads is not None and reads.unseen:
        return Decision(
            Verdict.ALWAYS_RUNS,
            (f"it reads or writes {', '.join(reads.unseen)}, which the fingerprint cannot see",),
        )
    if reads is None and known_reads_required:
        return Decision(
            Verdict.ALWAYS_RUNS,
            ("what its nodes read is not known (replay it with `kedro azureml run --local`)",),
        )
    if cached:
        return Decision(Verdict.REUSED, source_run=earlier.run_id if earlier else None)
    if earlier is None:
        return Decision(Verdict.RUNS, ("no earlier run of it",))
    if not earlier.succeeded:
        return Decision(Verdict.RUNS, (f"it did not succeed in run {earlier.run_id}",))
    if earlier.fingerprint is None:
        return Decision(Verdict.RUNS, (f"run {earlier.run_id} recorded no fingerprint of it",))
    changes = what_changed(
        earlier.fingerprint,
        fingerprint,
        earlier_code=earlier.code,
        code=code,
        input_names=input_names,
    )
    if changes:
        return Decision(Verdict.RUNS, tuple(changes))
    if known_reads_required:  # same fingerprint, but the cache lost the outputs
        return Decision(
            Verdict.RUNS, (f"the reuse cache no longer holds its outputs of run {earlier.run_id}",)
        )
    return Decision(Verdict.REUSED, source_run=earlier.run_id)


@dataclass
class Fingerprinter:
    """Fingerprints the steps of a job in one replay (or plan), digesting each folder once.

    Args:
        snapshot: the manifest of the run's code snapshot.
        reads: what each step reads, ``None`` when unknown.
        bin_folder: the folder of the steps' Python.
        project_path: the project (files its nodes read outside the snapshot).
    """

    snapshot: Manifest
    reads: JobReads | None
    bin_folder: Path
    project_path: Path
    job_inputs: Mapping[str, Any] = field(default_factory=dict)
    _digests: dict[Path, str] = field(default_factory=dict, init=False)

    @property
    def code(self) -> Manifest:
        """The code manifest: the snapshot without the files fingerprinted on their own."""
        return code_manifest(self.snapshot, self.reads.leave_out if self.reads else ())

    def of(self, step: StepSpec, inputs: Mapping[str, Path]) -> StepFingerprint:
        """The fingerprint of ``step`` reading ``inputs`` (port to folder or file)."""
        reads = self.reads.steps.get(step.name) if self.reads else None
        code = self.code
        return StepFingerprint(
            command=text_digest(step.command),
            environment_variables=value_digest(dict(step.environment_variables)),
            inputs={port: self._digest(path) for port, path in sorted(inputs.items())},
            code=manifest_digest(code),
            files={path: self._file(path) for path in (reads.files if reads else ())},
            parameters=self._parameters(step, reads),
            interpreter=environment_digest(self.bin_folder),
        )

    def _parameters(self, step: StepSpec, reads: StepReads | None) -> dict[str, str]:
        """The digest of each parameter the step consumes. A parameter compiled into a job input
        reaches the step as that input's value (``--input``, ``run --local --params``), not
        through its command nor ``conf/``: that value counts."""
        values = dict(reads.parameters) if reads else {}
        for source in step.inputs.values():
            if isinstance(source, JobInput) and source.name in self.job_inputs:
                dataset = dataset_of(source.name)
                values[dataset.removeprefix(PARAMS_PREFIX)] = self.job_inputs[source.name]
        return {name: value_digest(value) for name, value in sorted(values.items())}

    def forget(self, path: Path) -> None:
        """Digest ``path`` again next time (a step rewrote it)."""
        self._digests.pop(path, None)

    def _digest(self, path: Path) -> str:
        if path not in self._digests:
            self._digests[path] = path_digest(path)
        return self._digests[path]

    def _file(self, path: str) -> str:
        prefix = self.reads.code_prefix if self.reads else ""
        inside = path if not prefix else path.removeprefix(prefix.rstrip("/") + "/")
        if not prefix or inside != path:
            entries = {
                p: d
                for p, d in self.snapshot.items()
                if p == inside or p.startswith(inside.rstrip("/") + "/")
            }
            if entries:
                return manifest_digest(entries)
        return self._digest(self.project_path / path)


def input_names(step: StepSpec) -> dict[str, str]:
    """Input port to what it reads, in words."""
    return {
        port: (
            f"output {source.port} of step {source.step}"
            if isinstance(source, StepOutputInput)
            else f"data asset {source.reference}"
        )
        for port, source in step.inputs.items()
        if not isinstance(source, JobInput)  # a parameter: its value counts, under its name
    }


def save_code_manifest(run: ReplayRun, code: Manifest) -> None:
    """Keep ``code`` in the run folder, where :func:`earlier_of` finds it."""
    folder = run.path / MANIFESTS_FOLDER
    folder.mkdir(exist_ok=True)
    target = folder / f"{manifest_digest(code)}.json"
    if not target.exists():
        target.write_text(json.dumps(code, indent=0, sort_keys=True), encoding="utf-8")


def earlier_of(run: ReplayRun, step: str, state: StepState | None = None) -> Earlier | None:
    """Step ``step`` as ``run`` recorded it (or as ``state`` says), ``None`` when the run does
    not have it."""
    from kedro_azureml_deploy.replay.run_store import StepStatus

    state = state or run.steps.get(step)
    if state is None:
        return None
    fingerprint = StepFingerprint.from_json(state.fingerprint) if state.fingerprint else None
    code = None
    if fingerprint is not None:
        path = run.path / MANIFESTS_FOLDER / f"{fingerprint.code}.json"
        try:
            code = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            code = None
    return Earlier(run.run_id, state.status is StepStatus.SUCCEEDED, fingerprint, code)


def forecast(
    job: CompiledFile,
    earlier_run: ReplayRun,
    fingerprinter: Fingerprinter,
    *,
    cache_has: Callable[[str], bool] | None = None,
) -> dict[str, Decision]:
    """Each step's decision before anything runs, against ``earlier_run``: which steps would be
    reused, and why each other one would run.

    A step whose upstream steps are all reused is fingerprinted with their outputs in
    ``earlier_run``; one downstream of a step that runs runs too. ``cache_has`` (reuse across
    runs) says whether the reuse cache holds a fingerprint's outputs; without it, the forecast is
    that of ``--resume earlier_run``.
    """
    from graphlib import TopologicalSorter

    order = TopologicalSorter({name: step.upstream for name, step in job.steps.items()})
    decisions: dict[str, Decision] = {}
    code = fingerprinter.code
    for name in order.static_order():
        step = job.steps[name]
        reads = fingerprinter.reads.steps.get(name) if fingerprinter.reads else None
        running = [u for u in step.upstream if decisions[u].verdict is not Verdict.REUSED]
        if (reads is not None and reads.unseen) or (reads is None and cache_has is not None):
            decisions[name] = forecast_step(
                StepFingerprint("", ""),
                None,
                reads=reads,
                known_reads_required=cache_has is not None,
            )
            continue
        if running:
            decisions[name] = Decision(
                Verdict.RUNS, tuple(f"upstream step {u} runs again" for u in running)
            )
            continue
        inputs = {
            port: earlier_run.output_folder(source.step, source.port)
            for port, source in step.inputs.items()
            if isinstance(source, StepOutputInput)
        }
        from kedro_azureml_deploy.replay.step_setup import StepSetupError, input_paths

        try:
            inputs = {**input_paths(step, earlier_run, fingerprinter.project_path), **inputs}
        except StepSetupError as exc:
            decisions[name] = Decision(Verdict.RUNS, (str(exc),))
            continue
        fingerprint = fingerprinter.of(step, inputs)
        decisions[name] = forecast_step(
            fingerprint,
            earlier_of(earlier_run, name),
            reads=reads,
            known_reads_required=cache_has is not None,
            code=code,
            input_names=input_names(step),
            cached=cache_has(fingerprint.key) if cache_has is not None else False,
        )
    return {name: decisions[name] for name in job.steps}


@dataclass
class ReplayReuse:
    """The reuse decisions of one replay (see :class:`StepEngine`).

    Args:
        fingerprinter: fingerprints the run's steps.
        run: the run being replayed.
        resumed: on ``--resume``, the states of the steps that had succeeded in it.
        cache: the reuse cache, when the job allows reuse across runs (``step_reuse: true``).
        latest: the latest other run of the job, which the reasons of a cache miss compare with.
        forced: ``--no-reuse``: every step runs, and says so.
    """

    fingerprinter: Fingerprinter
    run: ReplayRun
    resumed: Mapping[str, StepState] = field(default_factory=dict)
    cache: StepCache | None = None
    latest: ReplayRun | None = None
    forced: bool = False
    _keys: dict[str, str] = field(default_factory=dict, init=False)

    def may_reuse(self, step: str) -> bool:
        """Whether :meth:`decide` may decide to reuse ``step``: it succeeded in the run resumed,
        or the job has a reuse cache, and ``--no-reuse`` was not given."""
        return not self.forced and (step in self.resumed or self.cache is not None)

    def decide(
        self, step: StepSpec, inputs: Mapping[str, Path]
    ) -> tuple[Decision, StepFingerprint]:
        """The decision for ``step``, whose inputs ``inputs`` exist, and its fingerprint."""
        fingerprint = self.fingerprinter.of(step, inputs)
        self._keys[step.name] = fingerprint.key
        if self.forced:
            forced = step.name in self.resumed or self.cache is not None
            return Decision(Verdict.RUNS, ("--no-reuse",) if forced else ()), fingerprint
        reads = self.fingerprinter.reads.steps.get(step.name) if self.fingerprinter.reads else None
        common = {"code": self.fingerprinter.code, "input_names": input_names(step)}
        own = None
        if step.name in self.resumed:
            earlier = earlier_of(self.run, step.name, self.resumed[step.name])
            own = forecast_step(
                fingerprint, earlier, reads=reads, known_reads_required=False, **common
            )
            if own.verdict is Verdict.REUSED or self.cache is None:
                return own, fingerprint
        if self.cache is None:
            return Decision(Verdict.RUNS), fingerprint
        across = forecast_step(
            fingerprint,
            earlier_of(self.latest, step.name) if self.latest else None,
            reads=reads,
            known_reads_required=True,
            cached=self.cache.has(fingerprint.key),
            **common,
        )
        if across.verdict is Verdict.REUSED:
            across = Decision(Verdict.REUSED, source_run=None)  # the cache says which run
        if own is not None and across.verdict is not Verdict.REUSED:
            return own, fingerprint
        return across, fingerprint

    def restore(self, step: StepSpec, decision: Decision) -> str | None:
        """Put the outputs of a reused step in place; the run they come from, ``None`` when they
        cannot be (the step runs then)."""
        if decision.verdict is not Verdict.REUSED:
            return None
        if decision.source_run == self.run.run_id:  # resumed: its outputs are where they were
            return self.run.run_id
        key = self._keys.get(step.name)
        if self.cache is None or key is None:
            return None
        from kedro_azureml_deploy.replay.read_only import remove_folder

        folder = self.run.step_folder(step.name)
        remove_folder(folder)
        outputs = {port: self.run.output_folder(step.name, port) for port in step.outputs}
        for path in outputs.values():
            path.mkdir(parents=True)
        source = self.cache.restore(key, outputs)
        if source is None:
            remove_folder(folder)
        return source

    def kept_state(self, name: str, source: str) -> StepState | None:
        """The state a step resumed from its own run keeps (when it ran, how long)."""
        if source != self.run.run_id or name not in self.resumed:
            return None
        from dataclasses import replace

        return replace(self.resumed[name])

    def store(self, step: StepSpec, state: StepState) -> None:
        """Keep the outputs of a step that ran and succeeded in the cache, when reuse across runs
        is on and the step's fingerprint sees everything it reads. A cache that cannot be written
        (a full disk) is left as it is: it only saves time."""
        if self.cache is None or self.forced or state.fingerprint is None:
            return
        reads = self.fingerprinter.reads.steps.get(step.name) if self.fingerprinter.reads else None
        if reads is None or reads.unseen:
            return
        key = StepFingerprint.from_json(state.fingerprint).key
        outputs = {port: self.run.output_folder(step.name, port) for port in step.outputs}
        try:
            self.cache.store(key, step.name, self.run.run_id, outputs)
        except OSError:
            return
