"""Azure ML schedules for the jobs of ``azureml.yml`` (``kedro azureml schedule``).

A job with a ``schedule`` (a cron expression or a recurrence, in a time zone) becomes an Azure ML
``JobSchedule`` that creates the compiled pipeline job in the job's experiment each time it fires.
The schedule's name comes from the project's package and the job (``schedule_name``), so running
``schedule`` again updates the same schedule; its tags name the project and the job, which is how
``list_schedules``, ``disable_schedule`` and ``delete_schedule`` find the project's schedules and
leave everyone else's alone.

The code snapshot is uploaded when the schedule is created, like a submission's (see
``snapshot.code_snapshot``): every run the schedule starts uses that snapshot until the schedule is updated.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.azure.reports import JobOutcome, JobsReport
from kedro_azureml_deploy.errors import KedroAzureMLError, SubmitError

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import CronTrigger, RecurrenceTrigger
    from azure.core.credentials import TokenCredential

    from kedro_azureml_deploy.azure.clients import WorkspaceClients
    from kedro_azureml_deploy.azure.workspace_target import WorkspaceTarget
    from kedro_azureml_deploy.compiler import CompiledJob, CompileOptions
    from kedro_azureml_deploy.config import ScheduleConfig
    from kedro_azureml_deploy.project import KedroProject

#: Tag of every schedule this plugin creates: the project's package name.
PROJECT_TAG = "kedro-azureml-project"
#: Tag of every schedule this plugin creates: the job of ``azureml.yml`` it runs.
JOB_TAG = "kedro-azureml-job"
_INVALID_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9_-]+")

Echo = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True)
class ScheduleInfo:
    """An Azure ML schedule of the project.

    Attributes:
        name: the schedule's name in Azure ML.
        job_name: the job of ``azureml.yml`` it runs (from its tag).
        workspace: its workspace, as ``WorkspaceTarget.describe`` says.
        enabled: whether it fires.
        trigger: when it fires, in words.
    """

    name: str
    job_name: str | None
    workspace: str
    enabled: bool
    trigger: str

    def describe(self) -> str:
        state = "enabled" if self.enabled else "disabled"
        return f"{self.name}  job {self.job_name}  {state}  {self.trigger}  in {self.workspace}"


@dataclass(frozen=True, kw_only=True)
class ScheduledJob(JobOutcome):
    """A job of ``azureml.yml`` given its Azure ML schedule, or the reason it was not.

    Attributes:
        job_name: the job.
        schedule_name: the schedule's name in Azure ML.
        workspace: its workspace, as ``WorkspaceTarget.describe`` says.
        trigger: when it fires, in words.
        created: ``True`` for a new schedule, ``False`` when an existing one was updated.
        error: why it was not created or updated, ``None`` if it was.
        exception: the exception behind ``error``.
    """

    schedule_name: str | None = None
    workspace: str | None = None
    trigger: str | None = None
    created: bool = False


#: The outcome of ``schedule_jobs``: one ``ScheduledJob`` per job, in order.
ScheduleReport = JobsReport[ScheduledJob]


def project_package(project_path: Path) -> str:
    """The project's package name (``[tool.kedro] package_name`` of its ``pyproject.toml``)."""
    try:
        with (project_path / "pyproject.toml").open("rb") as stream:
            name = tomllib.load(stream)["tool"]["kedro"]["package_name"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        name = None
    return str(name) if name else project_path.resolve().name


def schedule_name(package: str, job_name: str) -> str:
    """The Azure ML schedule of job ``job_name`` of project ``package``: ``<package>-<job>``,
    with what Azure ML does not allow in a name replaced by ``-`` (at most 255 characters)."""
    name = _INVALID_NAME_CHARACTERS.sub("-", f"{package}-{job_name}").strip("-_")
    return name[:255] or "kedro-schedule"


def schedule_trigger(config: ScheduleConfig) -> CronTrigger | RecurrenceTrigger:
    """The azure-ai-ml trigger of ``config``: its times are local times of its time zone (a
    Windows id), as Azure ML expects."""
    from azure.ai.ml.entities import CronTrigger, RecurrencePattern, RecurrenceTrigger

    if config.cron is not None:
        cron = config.cron
        return CronTrigger(
            expression=cron.expression,
            start_time=cron.start_time,
            end_time=cron.end_time,
            time_zone=cron.time_zone,
        )
    recurrence = config.recurrence
    assert recurrence is not None
    pattern = recurrence.schedule
    return RecurrenceTrigger(
        frequency=recurrence.frequency,
        interval=recurrence.interval,
        schedule=RecurrencePattern(
            hours=pattern.hours,
            minutes=pattern.minutes,
            week_days=pattern.week_days,
            month_days=pattern.month_days,
        )
        if pattern is not None
        else None,
        start_time=recurrence.start_time,
        end_time=recurrence.end_time,
        time_zone=recurrence.time_zone,
    )


def schedule_jobs(
    project: KedroProject,
    job_names: Sequence[str | None],
    options: CompileOptions,
    *,
    workspace: str | None = None,
    credential: TokenCredential | None = None,
    interactive: bool = False,
    echo: Echo = _silent,
) -> ScheduleReport:
    """Create or update the Azure ML schedule of each job; a job that fails does not stop the
    next ones.

    Args:
        project: the opened project.
        job_names: jobs of ``azureml.yml`` with a ``schedule`` (``None``: the only job).
        options: command-line additions to every job.
        workspace: an entry of ``workspace`` for every job, instead of each job's own (``-w``).
        credential: the Azure credential; ``DefaultAzureCredential`` by default.
        interactive: let the default credential sign in with a browser.
        echo: where progress lines go.

    Raises:
        ConfigError: an unknown job or workspace, or a job without a schedule (before anything
            is sent).
        SubmitError: signing in fails (nothing is uploaded). Errors of one job are in its
            ``ScheduledJob`` instead.
    """
    from kedro_azureml_deploy.azure.clients import WorkspaceClients
    from kedro_azureml_deploy.azure.workspace_target import workspace_target

    jobs = [project.config.job(name) for name in job_names]
    for name, _job in jobs:
        project.config.require_schedule(name)
    targets = {name: workspace_target(project.config, job, workspace) for name, job in jobs}
    package = project_package(project.path)
    connect = WorkspaceClients(targets.values(), credential=credential, interactive=interactive)
    results = []
    for name, job in jobs:
        target = targets[name]
        mark = connect.requests.mark()
        try:
            result = _schedule(project, package, name, job, options, target, connect, echo)
        except KeyboardInterrupt:
            raise SubmitError(
                _interrupted(schedule_name(package, name), name, target, connect, mark)
            ) from None
        except KedroAzureMLError as exc:
            result = ScheduledJob(
                job_name=name, workspace=target.describe(), error=str(exc), exception=exc
            )
        results.append(result)
    return JobsReport(tuple(results))


def list_schedules(
    project: KedroProject,
    *,
    workspace: str | None = None,
    credential: TokenCredential | None = None,
    interactive: bool = False,
) -> list[ScheduleInfo]:
    """The project's schedules (tagged with its package name), enabled or not, in the workspace
    ``workspace`` names, or else in every workspace the project's jobs use."""
    from kedro_azureml_deploy.azure.clients import WorkspaceClients
    from kedro_azureml_deploy.azure.errors import azure_call

    package = project_package(project.path)
    targets = _project_workspaces(project, workspace)
    connect = WorkspaceClients(targets, credential=credential, interactive=interactive)
    found = []
    for target in targets:
        client = connect(target)
        listing = f"listing the schedules of {target.describe()}"
        with azure_call(listing, target, requests=connect.requests, network=connect.network):
            # "All": enabled and disabled (the SDK's enum lives in a private module).
            schedules = list(client.schedules.list(list_view_type="All"))
        found += [
            _info(schedule, target)
            for schedule in schedules
            if (schedule.tags or {}).get(PROJECT_TAG) == package
        ]
    return sorted(found, key=lambda info: info.name)


def disable_schedule(
    project: KedroProject,
    name: str,
    *,
    workspace: str | None = None,
    credential: TokenCredential | None = None,
    interactive: bool = False,
) -> ScheduleInfo:
    """Stop the project's schedule ``name`` from firing (it stays, and can be updated again by
    ``schedule_jobs``, which enables it).

    Raises:
        SubmitError: there is no such schedule, or it is not the project's.
    """
    from kedro_azureml_deploy.azure.clients import WorkspaceClients
    from kedro_azureml_deploy.azure.errors import azure_call

    target = _workspace_of_schedule(project, name, workspace)
    connect = WorkspaceClients([target], credential=credential, interactive=interactive)
    client = connect(target)
    _project_schedule(client, project, name, target)
    with azure_call(f"disabling schedule {name}", target, requests=connect.requests):
        disabled = client.schedules.begin_disable(name).result()
    return _info(disabled, target)


def delete_schedule(
    project: KedroProject,
    name: str,
    *,
    workspace: str | None = None,
    credential: TokenCredential | None = None,
    interactive: bool = False,
) -> None:
    """Delete the project's schedule ``name``, disabling it first (the jobs it already started
    are kept).

    Raises:
        SubmitError: there is no such schedule, or it is not the project's.
    """
    from kedro_azureml_deploy.azure.clients import WorkspaceClients
    from kedro_azureml_deploy.azure.errors import azure_call

    target = _workspace_of_schedule(project, name, workspace)
    connect = WorkspaceClients([target], credential=credential, interactive=interactive)
    client = connect(target)
    schedule = _project_schedule(client, project, name, target)
    log = connect.requests
    if schedule.is_enabled:
        with azure_call(f"disabling schedule {name} before deleting it", target, requests=log):
            client.schedules.begin_disable(name).result()
    with azure_call(f"deleting schedule {name}", target, requests=log):
        client.schedules.begin_delete(name).result()


def _schedule(
    project: KedroProject,
    package: str,
    name: str,
    job: Any,
    options: CompileOptions,
    target: WorkspaceTarget,
    connect: WorkspaceClients,
    echo: Echo,
) -> ScheduledJob:
    from azure.ai.ml.entities import JobSchedule
    from azure.core.exceptions import ResourceNotFoundError

    from kedro_azureml_deploy.azure.code_upload import (
        bounded_code_upload,
        pipeline_job_with_snapshot,
    )
    from kedro_azureml_deploy.azure.errors import azure_call
    from kedro_azureml_deploy.azure.submission import check_environment

    check_environment(project, options)
    config = project.config.schedule_of(job)
    assert config is not None
    compiled = scheduled_job(project, name, options)
    experiment = str(compiled.spec["experiment_name"])
    azure_name = schedule_name(package, name)
    client = connect(target)
    with azure_call(
        f"reading schedule {azure_name}", target, requests=connect.requests, network=connect.network
    ):
        try:
            existing = client.schedules.get(azure_name)
        except ResourceNotFoundError:
            existing = None
    if existing is not None and (existing.tags or {}).get(PROJECT_TAG) != package:
        raise SubmitError(
            f"{target.describe()} already has a schedule {azure_name} that project {package} "
            f"did not create (tags: {existing.tags or {}}); rename the job, or delete that "
            "schedule with `az ml schedule delete`."
        )
    snapshot = (
        project.code_snapshot(compiled.code_directory)
        if compiled.code_directory is not None
        else None
    )
    with pipeline_job_with_snapshot(compiled, project.path, snapshot) as (pipeline_job, snapshot):
        pipeline_job.experiment_name = experiment
        schedule = JobSchedule(
            name=azure_name,
            trigger=schedule_trigger(config),
            create_job=pipeline_job,
            display_name=f"{package}: {name}",
            description=f"Runs job {name!r} of Kedro project {package} (kedro azureml schedule).",
            tags={PROJECT_TAG: package, JOB_TAG: name},
            is_enabled=True,
        )
        code = f", code {snapshot.describe()}" if snapshot is not None else ""
        verb = "Updating" if existing is not None else "Creating"
        echo(
            f"{verb} schedule {azure_name} of job {name!r} in {target.describe()}, experiment "
            f"{experiment!r}: {config.describe()}{code}"
        )
        with (
            bounded_code_upload(connect.network, connect.requests),
            azure_call(
                f"creating schedule {azure_name}",
                target,
                requests=connect.requests,
                network=connect.network,
            ),
        ):
            client.schedules.begin_create_or_update(schedule).result()
    echo(f"Scheduled job {name!r}: {azure_name} ({'updated' if existing else 'created'})")
    return ScheduledJob(
        job_name=name,
        schedule_name=azure_name,
        workspace=target.describe(),
        trigger=config.describe(),
        created=existing is None,
    )


def scheduled_job(project: KedroProject, name: str, options: CompileOptions) -> CompiledJob:
    """Job ``name`` compiled as its schedule runs it: with the values its schedule's ``inputs``
    give the job's inputs.

    Raises:
        ConfigError: the job has no schedule, or its ``inputs`` name an input the job does not
            have or give one a value of another type.
        CompileError: the job cannot be compiled.
    """
    from kedro_azureml_deploy.project_jobs import compile_project_job
    from kedro_azureml_deploy.source_tags import source_tags

    job_name, job = project.config.job(name)
    config = project.config.require_schedule(job_name)
    where = (
        f"schedules.{job.schedule}.inputs"
        if isinstance(job.schedule, str)
        else f"jobs.{job_name}.schedule.inputs"
    )
    compiled = compile_project_job(project, job_name, options).with_tags(
        source_tags(project.path, options.env)
    )
    return compiled.with_inputs(config.inputs, where=f"azureml.yml {where}")


def _interrupted(
    azure_name: str, name: str, target: WorkspaceTarget, connect: WorkspaceClients, mark: int
) -> str:
    """What exists after Ctrl+C stopped scheduling job ``name``."""
    from kedro_azureml_deploy.azure.submission import az_workspace_args

    requests = connect.requests
    pending = requests.pending(mark)
    during = (
        f" while waiting for {pending[-1].service} ({pending[-1].describe()})" if pending else ""
    )
    leftovers = requests.leftovers(mark)
    sent = any("/schedules/" in r.path and r.method == "PUT" for r in requests.since(mark))
    args = az_workspace_args(target)
    schedule = (
        f"schedule {azure_name} was sent, so it may be created or updated: check with `az ml "
        f"schedule show --name {azure_name} {args}`"
        if sent
        else f"schedule {azure_name} was not changed"
    )
    left = f" {leftovers.describe(args)}" if not leftovers.nothing else ""
    return f"interrupted scheduling job {name!r}{during}: {schedule}.{left}"


def _project_workspaces(project: KedroProject, workspace: str | None) -> list[WorkspaceTarget]:
    """``workspace``'s entry, or one entry per distinct workspace of the project's jobs."""
    from kedro_azureml_deploy.azure.workspace_target import workspace_target

    config = project.config
    if workspace is not None or not config.jobs:
        return [workspace_target(config, None, workspace)]
    targets: dict[tuple[str, str, str], WorkspaceTarget] = {}
    for job in config.jobs.values():
        target = workspace_target(config, job)
        key = (
            target.config.subscription_id.lower(),
            target.config.resource_group.lower(),
            target.config.name.lower(),
        )
        targets.setdefault(key, target)
    return list(targets.values())


def _workspace_of_schedule(
    project: KedroProject, name: str, workspace: str | None
) -> WorkspaceTarget:
    """``workspace``'s entry, else the workspace of the job whose schedule is ``name``, else
    ``__default__``."""
    from kedro_azureml_deploy.azure.workspace_target import workspace_target

    if workspace is None:
        package = project_package(project.path)
        for job_name, job in project.config.jobs.items():
            if schedule_name(package, job_name) == name:
                return workspace_target(project.config, job)
    return workspace_target(project.config, None, workspace)


def _project_schedule(
    client: MLClient, project: KedroProject, name: str, target: WorkspaceTarget
) -> Any:
    from azure.core.exceptions import ResourceNotFoundError

    from kedro_azureml_deploy.azure.errors import azure_call

    package = project_package(project.path)
    with azure_call(f"reading schedule {name}", target):
        try:
            schedule = client.schedules.get(name)
        except ResourceNotFoundError:
            raise SubmitError(
                f"{target.describe()} has no schedule {name}: `kedro azureml schedule list` "
                "shows the project's schedules."
            ) from None
    owner = (schedule.tags or {}).get(PROJECT_TAG)
    if owner != package:
        raise SubmitError(
            f"schedule {name} in {target.describe()} does not belong to project {package} (its "
            f"{PROJECT_TAG} tag is {owner!r}); manage it with "
            "`az ml schedule` instead."
        )
    return schedule


def _info(schedule: Any, target: WorkspaceTarget) -> ScheduleInfo:
    return ScheduleInfo(
        name=schedule.name,
        job_name=(schedule.tags or {}).get(JOB_TAG),
        workspace=target.describe(),
        enabled=bool(schedule.is_enabled),
        trigger=_describe_trigger(schedule.trigger),
    )


def _describe_trigger(trigger: Any) -> str:
    if trigger is None:
        return "no trigger"
    time_zone = getattr(trigger.time_zone, "value", trigger.time_zone)
    expression = getattr(trigger, "expression", None)
    if expression is not None:
        return f'cron "{expression}" ({time_zone})'
    return f"every {trigger.interval} {trigger.frequency}(s) ({time_zone})"
