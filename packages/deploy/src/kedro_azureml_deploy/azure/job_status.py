"""``kedro azureml status`` and ``logs``: a submitted pipeline job, step by step, in Kedro's words.

Azure ML shows step names; a user thinks in Kedro nodes. A step's nodes are read from what was
submitted (the ``--node`` arguments of the command of its component), not from the project as it
is now, so the answer holds after the code moved on. The state of each step comes from its child
job: the children of a pipeline job are listed with ``ml_client.jobs.list(parent_job_name=...)``,
and their times, error and log files from the run history's run details (what
``ml_client.jobs.stream`` reads too).

A step's child job is found by its display name (the compiler gives each step one), else by the
step's name.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.errors import SubmitError
from kedro_azureml_deploy.plan_page.step_progress import StepProgress

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.core.credentials import TokenCredential

    from kedro_azureml_deploy.azure.workspace_target import WorkspaceTarget
    from kedro_azureml_deploy.config import AzureMLConfig

#: Azure ML's job statuses, as the plan page shows them.
PAGE_STATES = {
    "NotStarted": "queued",
    "Queued": "queued",
    "Preparing": "queued",
    "Provisioning": "queued",
    "Starting": "queued",
    "Running": "running",
    "Finalizing": "running",
    "CancelRequested": "running",
    "Completed": "completed",
    "Failed": "failed",
    "NotResponding": "failed",
    "Canceled": "skipped",
    "Paused": "skipped",
}
#: The statuses a job never leaves.
FINAL_STATUSES = frozenset({"Completed", "Failed", "Canceled", "NotResponding", "Paused"})
#: The log a step's ``kedro azureml execute`` writes to (stdout and stderr), read first.
USER_LOG = "user_logs/std_log.txt"
_COMPONENT_ID = re.compile(r"/components/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$", re.I)
_COMPONENT_REFERENCE = re.compile(r"^(?:azureml:)?(?P<name>[^:/@]+):(?P<version>[^:/@]+)$")


@dataclass(frozen=True)
class StepRunStatus:
    """One step of a submitted pipeline job: its Kedro nodes and its child job's state.

    Attributes:
        step: the step's name in the pipeline job.
        nodes: the Kedro nodes it runs.
        status: Azure ML's status of its child job (``NotStarted`` before it has one).
        compute: the compute it runs on.
        started: when its child job started, if it did.
        ended: when it ended, if it did.
        studio_url: its page in Azure ML studio, once it has a child job.
        run_id: its child job's name.
        error: the error Azure ML recorded, if any.
        log_files: its log files, by name, each a URL to read it from.
        cause: the one-line cause of a failure, when one can be read.
    """

    step: str
    nodes: tuple[str, ...]
    status: str = "NotStarted"
    compute: str | None = None
    started: datetime | None = None
    ended: datetime | None = None
    studio_url: str | None = None
    run_id: str | None = None
    error: str | None = None
    log_files: dict[str, str] = field(default_factory=dict)
    cause: str | None = None

    @property
    def page_state(self) -> str:
        return PAGE_STATES.get(self.status, "queued")

    def duration(self, now: datetime | None = None) -> float | None:
        """Seconds it ran, or has been running."""
        if self.started is None:
            return None
        end = self.ended or now or datetime.now(UTC)
        return max(0.0, (end - self.started).total_seconds())

    def progress(self, now: datetime | None = None) -> StepProgress:
        """The step as the plan page shows it; its log link is its Studio page."""
        detail = self.cause or (self.status if self.page_state in ("failed", "skipped") else None)
        return StepProgress(
            self.page_state,
            started=self.started.isoformat(timespec="seconds") if self.started else None,
            duration=self.duration(now),
            log=self.studio_url,
            detail=detail,
        )


@dataclass(frozen=True)
class PipelineJobStatus:
    """A submitted pipeline job and each of its steps.

    Attributes:
        name: the Azure ML job's name.
        status: its status.
        studio_url: its page in Azure ML studio.
        steps: its steps, in the job's order.
    """

    name: str
    status: str
    studio_url: str | None
    steps: tuple[StepRunStatus, ...]

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def step_of_node(self, node: str) -> StepRunStatus:
        """The step running Kedro node ``node``.

        Raises:
            SubmitError: no step of the job runs it (the message names the nodes it has).
        """
        for step in self.steps:
            if node in step.nodes:
                return step
        from kedro_azureml_deploy.config.problems import did_you_mean

        nodes = [name for step in self.steps for name in step.nodes]
        hint = did_you_mean(node, nodes)
        shown = ", ".join(nodes[:8]) + (f" (+{len(nodes) - 8} more)" if len(nodes) > 8 else "")
        raise SubmitError(
            f"job {self.name} has no node {node!r}{hint}: pass --node one of {shown} "
            f"(`kedro azureml status {self.name}` lists them)."
        )

    def progress(self, now: datetime | None = None) -> dict[str, StepProgress]:
        """Each step as the plan page shows it, by step name."""
        return {step.step: step.progress(now) for step in self.steps}


class JobStatusReader:
    """Reads the state of a submitted pipeline job, again and again (``--watch``): what was
    submitted (the steps and their nodes) is read once, the child jobs each time.

    Args:
        client: the signed-in ``MLClient`` of the job's workspace.
        target: that workspace, for messages.
        job_name: the Azure ML job's name (what ``kedro azureml run`` printed).
    """

    def __init__(self, client: MLClient, target: WorkspaceTarget, job_name: str) -> None:
        self._client = client
        self._target = target
        self.job_name = job_name
        self._steps: dict[str, tuple[str, tuple[str, ...], str | None]] | None = None

    def read(self, *, causes: bool = True) -> PipelineJobStatus:
        """The job now; with ``causes``, each failed step's log is read for its cause.

        Raises:
            SubmitError: no such job in the workspace, it is not a pipeline job, or Azure cannot
                be reached.
        """
        from kedro_azureml_deploy.azure.errors import azure_call
        from kedro_azureml_deploy.azure.failure_cause import failure_cause

        parent = self._parent()
        with azure_call(f"reading the steps of job {self.job_name}", self._target):
            children = list(self._client.jobs.list(parent_job_name=self.job_name))
        by_name: dict[str, Any] = {}
        for child in children:
            for key in (child.display_name, (child.properties or {}).get("azureml.nodeid")):
                if key:
                    by_name.setdefault(key, child)
        studio = _studio_url(parent)
        steps = []
        assert self._steps is not None
        for step, (display_name, nodes, compute) in self._steps.items():
            child = by_name.get(display_name) or by_name.get(step)
            if child is None:
                steps.append(StepRunStatus(step, nodes, compute=compute))
                continue
            details = self._details(child.name)
            error = _error_message(getattr(details, "error", None))
            status = StepRunStatus(
                step,
                nodes,
                status=_status_text(child.status or getattr(details, "status", None)),
                compute=_compute_name(getattr(details, "target", None) or child.compute) or compute,
                started=_utc(getattr(details, "start_time_utc", None)),
                ended=_utc(getattr(details, "end_time_utc", None)),
                studio_url=studio.replace(f"/runs/{self.job_name}", f"/runs/{child.name}")
                if studio
                else None,
                run_id=child.name,
                error=error,
                log_files=dict(getattr(details, "log_files", None) or {}),
            )
            if causes and status.page_state == "failed":
                log = self._read_log(status) if status.log_files else None
                cause = failure_cause(log, error)
                status = StepRunStatus(**{**status.__dict__, "cause": cause})
            steps.append(status)
        return PipelineJobStatus(
            name=self.job_name,
            status=_status_text(parent.status),
            studio_url=studio,
            steps=tuple(steps),
        )

    def log(self, step: StepRunStatus) -> str:
        """The text of ``step``'s log (empty before its child job writes one)."""
        return self._read_log(step) if step.log_files else ""

    def follow(
        self, node: str, *, poll_seconds: float = 5.0, sleep: Callable[[float], None] | None = None
    ) -> Iterator[str]:
        """The log of the step running ``node`` as it grows, until the step ends.

        Raises:
            SubmitError: see :meth:`read`, and for a node the job does not have.
        """
        import time

        sleep = sleep or time.sleep
        printed = 0
        while True:
            step = self.read(causes=False).step_of_node(node)
            text = self.log(step)
            if len(text) > printed:
                yield text[printed:]
                printed = len(text)
            if step.status in FINAL_STATUSES:
                return
            sleep(poll_seconds)

    def _parent(self) -> Any:
        from azure.ai.ml.entities import PipelineJob
        from azure.core.exceptions import ResourceNotFoundError

        from kedro_azureml_deploy.azure.errors import azure_call

        with azure_call(f"reading job {self.job_name}", self._target):
            try:
                parent = self._client.jobs.get(self.job_name)
            except ResourceNotFoundError:
                raise SubmitError(
                    f"no job {self.job_name!r} in {self._target.describe()}: pass the Azure ML "
                    "job name `kedro azureml run` printed (Studio lists them under Jobs), or "
                    "-w/--workspace for the workspace it ran in."
                ) from None
        if not isinstance(parent, PipelineJob):
            raise SubmitError(
                f"job {self.job_name} is a {parent.type} job, not a pipeline job: pass the name "
                "of a pipeline job `kedro azureml run` submitted."
            )
        if self._steps is None:
            self._steps = {
                name: (
                    step.display_name or name,
                    self._nodes_of(step),
                    _compute_name(getattr(step, "compute", None)),
                )
                for name, step in parent.jobs.items()
            }
        return parent

    def _nodes_of(self, step: Any) -> tuple[str, ...]:
        """The Kedro nodes a step runs: the ``--node`` arguments of its component's command."""
        component = getattr(step, "component", None)
        if isinstance(component, str):
            # azure-ai-ml gives a step's component as ``name:version`` (or as its ARM id)
            match = _COMPONENT_ID.search(component) or _COMPONENT_REFERENCE.match(component)
            if match is None:
                return ()
            from kedro_azureml_deploy.azure.errors import azure_call

            with azure_call(f"reading the component of step {step.name}", self._target):
                component = self._client.components.get(match["name"], version=match["version"])
        command = getattr(component, "command", None) or getattr(step, "command", None) or ""
        return node_arguments(command)

    def _details(self, run_id: str) -> Any:
        from kedro_azureml_deploy.azure.errors import azure_call

        # The run history's run details (times, error, log files) have no public method of
        # MLClient; ml_client.jobs.stream reads them through this same RunOperations.
        runs = self._client.jobs._runs_operations
        with azure_call(f"reading child job {run_id}", self._target):
            return runs.get_run_details(run_id)

    def _read_log(self, step: StepRunStatus) -> str:
        from kedro_azureml_deploy.azure.errors import azure_call

        names = sorted(step.log_files)
        chosen = [USER_LOG] if USER_LOG in step.log_files else names
        # The log URLs carry their own SAS token; azure-ai-ml reads them with the requests
        # pipeline of its job operations (retries, timeouts, proxy), as here.
        pipeline = self._client.jobs._requests_pipeline
        texts = []
        with azure_call(f"reading the log of step {step.step}", self._target):
            for name in chosen:
                answer = pipeline.get(step.log_files[name])
                if answer.status_code == 200:
                    texts.append(answer.text())
        return "".join(texts)


def node_arguments(command: str) -> tuple[str, ...]:
    """The Kedro nodes of a step's ``kedro azureml execute`` command line (``--node a --node b``
    or ``--node=a``)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return ()
    nodes = []
    for index, word in enumerate(words):
        if word == "--node" and index + 1 < len(words):
            nodes.append(words[index + 1])
        elif word.startswith("--node="):
            nodes.append(word.split("=", 1)[1])
    return tuple(nodes)


def _status_text(status: Any) -> str:
    """Azure ML's status as text (azure-ai-ml gives an enum member or a string)."""
    return str(getattr(status, "value", status) or "NotStarted")


def _studio_url(job: Any) -> str | None:
    url = getattr(job, "studio_url", None)
    return str(url) if url else None


def _compute_name(compute: Any) -> str | None:
    if not compute:
        return None
    return str(compute).rsplit("/", 1)[-1].removeprefix("azureml:")


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _error_message(error: Any) -> str | None:
    inner = getattr(error, "error", None)
    message = getattr(inner, "message", None) or getattr(error, "message", None)
    return str(message) if message else None


def open_job(
    config: AzureMLConfig,
    job_name: str,
    *,
    workspace: str | None = None,
    credential: TokenCredential | None = None,
    interactive: bool = False,
) -> JobStatusReader:
    """A reader of Azure ML job ``job_name`` in the workspace ``workspace`` names (the default
    workspace of ``azureml.yml`` when ``None``), signed in.

    Raises:
        ConfigError: ``workspace`` is not an entry of ``azureml.yml``.
        SubmitError: signing in fails, or the workspace cannot be reached.
    """
    from kedro_azureml_deploy.azure.clients import WorkspaceClients
    from kedro_azureml_deploy.azure.workspace_target import workspace_target

    target = workspace_target(config, None, workspace)
    clients = WorkspaceClients([target], credential=credential, interactive=interactive)
    return JobStatusReader(clients(target), target, job_name)


def status_lines(job: PipelineJobStatus, now: datetime | None = None) -> list[str]:
    """``kedro azureml status``: the job, then one row per Kedro node (its step's state, start,
    duration, compute and Studio page), then the cause of each failed step."""
    from kedro_azureml_deploy.plan_page.step_progress import format_duration

    header = ("node", "step", "state", "started", "duration", "compute", "studio")
    rows = [
        (
            node,
            step.step,
            step.status,
            step.started.astimezone().strftime("%Y-%m-%d %H:%M:%S") if step.started else "",
            format_duration(step.duration(now)),
            step.compute or "",
            step.studio_url or "",
        )
        for step in job.steps
        for node in step.nodes or ("(no node read)",)
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = [f"Job {job.name}: {job.status}" + (f"  {job.studio_url}" if job.studio_url else "")]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    lines += [f"{step.step}: {step.cause}" for step in job.steps if step.cause]
    return lines
