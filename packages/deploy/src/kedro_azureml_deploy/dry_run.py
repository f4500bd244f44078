"""What a submission or a schedule would send to Azure ML, worked out without touching Azure.

``kedro azureml run --dry-run`` and ``kedro azureml schedule --dry-run`` print a :class:`SubmissionPreview`:
the workspace and experiment, the code snapshot, each step with its compute and environment, the
datasets that cross steps and how they travel, and the schedule with its next firings. It needs
no credential and opens no connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kedro_azureml_deploy.compiler.compute_target import describe_compute

if TYPE_CHECKING:
    from kedro_azureml_deploy.azure.workspace_target import WorkspaceTarget
    from kedro_azureml_deploy.compiler import CompiledJob, CompileOptions
    from kedro_azureml_deploy.config import ScheduleConfig
    from kedro_azureml_deploy.project import KedroProject
    from kedro_azureml_deploy.snapshot.code_snapshot import CodeSnapshot


@dataclass(frozen=True)
class SubmissionPreview:
    """A job of ``azureml.yml`` as it would be submitted or scheduled.

    Attributes:
        job_name: the job's name in ``azureml.yml``.
        compiled: the compiled pipeline job.
        target: the workspace it goes to.
        snapshot: the code that would be uploaded; ``None`` in image mode.
        schedule: the job's schedule, ``None`` if it has none.
        schedule_name: the Azure ML schedule's name, ``None`` without a schedule.
        yaml_path: where the compiled YAML was written, ``None`` if it was not.
    """

    job_name: str
    compiled: CompiledJob
    target: WorkspaceTarget
    snapshot: CodeSnapshot | None
    schedule: ScheduleConfig | None
    schedule_name: str | None
    yaml_path: Path | None

    @property
    def experiment_name(self) -> str:
        return str(self.compiled.spec["experiment_name"])

    def describe(self, now: datetime | None = None) -> str:
        """The preview as text, one fact per line.

        Args:
            now: the current local time of the schedule's time zone, for its next firings; the
                clock's when ``None``.
        """
        spec_steps = self.compiled.spec["jobs"]
        default = self.compiled.spec.get("settings", {}).get("default_compute")
        lines = [
            f"Job {self.job_name!r} -> {self.target.describe()}, experiment "
            f"{self.experiment_name!r}",
            f"  code: {self.snapshot.describe()}"
            if self.snapshot is not None
            else "  code: inside the environment images (execution.mode: image)",
            f"  steps ({len(self.compiled.steps)}):",
        ]
        for step in self.compiled.steps:
            spec = spec_steps[step.name]
            after = f"; after {', '.join(step.depends_on)}" if step.depends_on else ""
            lines.append(
                f"    {step.name}: compute {step.compute} ({describe_compute(spec, default)}), "
                f"environment {step.environment} ({_environment(spec['environment'])}){after}"
            )
        lines.append(f"  datasets crossing steps ({len(self.compiled.crossings)}):")
        for crossing in self.compiled.crossings:
            travel = crossing.travel.value if crossing.travel is not None else "cannot travel"
            lines.append(
                f"    {crossing.dataset}: {crossing.producer} -> "
                f"{', '.join(crossing.consumers)} ({travel})"
            )
        lines.append(f"  inputs ({len(self.compiled.parameter_inputs)}):")
        for parameter in self.compiled.parameter_inputs:
            value = self.compiled.spec["inputs"][parameter.name]
            lines.append(f"    {parameter.name} = {value!r} ({parameter.dataset})")
        tags = self.compiled.spec.get("tags") or {}
        lines.append("  tags: " + (", ".join(f"{k}={v}" for k, v in tags.items()) or "none"))
        notifications = self.compiled.notifications
        lines.append(
            "  notifications: none"
            if notifications is None
            else f"  notifications: email {', '.join(notifications.emails)} when a run ends "
            f"{'/'.join(notifications.on)}"
        )
        if self.schedule is None:
            lines.append("  schedule: none")
        else:
            lines.append(f"  schedule: {self.schedule_name}, {self.schedule.describe()}")
            if self.schedule.inputs:
                given = ", ".join(f"{k} = {v!r}" for k, v in self.schedule.inputs.items())
                lines.append(f"    inputs of its runs: {given}")
            lines.append(f"    next firings: {_next_firings(self.schedule, now)}")
        if self.yaml_path is not None:
            lines.append(f"  compiled YAML: {self.yaml_path}")
        return "\n".join(lines)


def preview_submission(
    project: KedroProject,
    job_name: str | None,
    options: CompileOptions,
    *,
    workspace: str | None = None,
    output: Path | None = None,
) -> SubmissionPreview:
    """Compile job ``job_name`` of ``project`` and work out what would be sent, offline.

    Args:
        project: the opened project.
        job_name: a job of ``azureml.yml`` (``None``: the only one).
        options: command-line additions to the job.
        workspace: an entry of ``workspace`` replacing the job's (``-w``).
        output: where to write the compiled YAML (its code path made relative to it); not
            written when ``None``.

    Raises:
        ConfigError: unknown job or workspace.
        CompileError: the job cannot be compiled.
        SubmitError: the code folder has nothing to upload, or the steps would run with
            Kedro environment ``local`` (as the submission refuses).
    """
    from kedro_azureml_deploy.azure.schedules import project_package, schedule_name
    from kedro_azureml_deploy.azure.submission import check_environment
    from kedro_azureml_deploy.azure.workspace_target import workspace_target
    from kedro_azureml_deploy.project_jobs import compile_project_job
    from kedro_azureml_deploy.source_tags import source_tags

    name, job = project.config.job(job_name)
    target = workspace_target(project.config, job, workspace)
    check_environment(project, options)  # refuse what the submission would refuse
    compiled = compile_project_job(project, name, options, output=output).with_tags(
        source_tags(project.path, options.env)
    )
    if output is not None:
        compiled.write(output)
    snapshot = (
        project.code_snapshot(compiled.code_directory)
        if compiled.code_directory is not None
        else None
    )
    schedule = project.config.schedule_of(job)
    return SubmissionPreview(
        job_name=name,
        compiled=compiled,
        target=target,
        snapshot=snapshot,
        schedule=schedule,
        schedule_name=(
            schedule_name(project_package(project.path), name) if schedule is not None else None
        ),
        yaml_path=output,
    )


#: How many firings the preview of a schedule lists.
FIRINGS_SHOWN = 3


def _next_firings(schedule: ScheduleConfig, now: datetime | None) -> str:
    """The next firings of ``schedule`` in words, worked out with croniter where the schedule's
    form allows it (see ``ScheduleConfig.firings``)."""
    firings = schedule.firings(FIRINGS_SHOWN, now)
    if firings is None:
        return "worked out by Azure ML when it creates the schedule (they depend on when it starts)"
    if not firings:
        return "none, the schedule has ended"
    trigger = schedule.cron or schedule.recurrence
    assert trigger is not None
    times = ", ".join(time.isoformat(sep=" ", timespec="minutes") for time in firings)
    return f"{times} ({trigger.time_zone})"


def _strip(reference: str) -> str:
    return reference.removeprefix("azureml:")


def _environment(environment: object) -> str:
    if isinstance(environment, dict):
        return f"image {environment.get('image')}"
    return _strip(str(environment))
