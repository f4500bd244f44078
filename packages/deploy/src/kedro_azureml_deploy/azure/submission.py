"""Submit jobs of ``azureml.yml`` to Azure ML as pipeline jobs (``kedro azureml run``).

For each job: the job is compiled (``compile_project_job``), the credential gives its tokens
before anything is uploaded, an ``MLClient`` checks the workspace exists, the code snapshot (see
``snapshot.code_snapshot``) is uploaded by azure-ai-ml while it creates the pipeline job in the job's
experiment, and the Studio URL is reported. Optionally the submitter waits for the job to end and
calls a user function with the created job.

    from kedro_azureml_deploy.azure.submission import submit_jobs

    report = submit_jobs(project, ["train"], CompileOptions(), wait=True, echo=print)
    if not report.ok:
        print(report.summary())
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.azure.reports import JobOutcome, JobsReport
from kedro_azureml_deploy.errors import KedroAzureMLError, SubmitError

if TYPE_CHECKING:
    from azure.ai.ml import MLClient
    from azure.core.credentials import TokenCredential

    from kedro_azureml_deploy.azure.clients import WorkspaceClients
    from kedro_azureml_deploy.azure.request_log import Leftovers, RequestLog
    from kedro_azureml_deploy.azure.workspace_target import WorkspaceTarget
    from kedro_azureml_deploy.compiler import CompileOptions
    from kedro_azureml_deploy.project import KedroProject

#: The statuses after which an Azure ML job does not change any more.
FINAL_STATUSES = ("Completed", "Failed", "Canceled", "NotResponding")
#: The final statuses of a job that did not succeed.
FAILED_STATUSES = ("Failed", "Canceled", "NotResponding")

Echo = Callable[[str], None]


def _silent(_: str) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Submission(JobOutcome):
    """One job of ``azureml.yml`` sent to Azure ML, or the reason it was not.

    Attributes:
        job_name: the job's name in ``azureml.yml``.
        workspace: the workspace it went to, as ``WorkspaceTarget.describe`` says.
        experiment_name: the Azure ML experiment.
        run_name: the Azure ML job's name; ``None`` if it was not created.
        studio_url: where to follow it in Azure ML studio.
        status: its last known status (``NotStarted`` right after creation, the final status
            after ``wait``).
        error: why it failed to be submitted or followed, ``None`` if it did not.
        exception: the exception behind ``error``.
    """

    workspace: str
    experiment_name: str | None = None
    run_name: str | None = None
    studio_url: str | None = None
    status: str | None = None

    @property
    def ok(self) -> bool:
        """Submitted, and (when waited for) not failed."""
        return self.error is None and self.status not in FAILED_STATUSES

    def failure(self) -> str:
        if self.error is not None:
            return self.error
        return (
            f"Azure ML job {self.run_name} of job {self.job_name!r} ended {self.status}: "
            f"{self.studio_url}"
        )

    def describe(self) -> str:
        if self.error is not None:
            return f"{self.job_name}: not submitted: {self.error}"
        return f"{self.job_name}: {self.run_name} {self.status} {self.studio_url or ''}".rstrip()


#: The outcome of ``submit_jobs``: one ``Submission`` per job, in order.
SubmissionReport = JobsReport[Submission]


def submit_jobs(
    project: KedroProject,
    job_names: Sequence[str | None],
    options: CompileOptions,
    *,
    workspace: str | None = None,
    credential: TokenCredential | None = None,
    interactive: bool = False,
    wait: bool = False,
    on_job_scheduled: str | None = None,
    poll_interval: float = 5.0,
    echo: Echo = _silent,
) -> SubmissionReport:
    """Submit each job of ``job_names``; a job that fails does not stop the next ones.

    Args:
        project: the opened project.
        job_names: jobs of ``azureml.yml`` (``None``: the only job).
        options: command-line additions to every job.
        workspace: an entry of ``workspace`` in ``azureml.yml`` for every job, instead of each
            job's own (``-w``).
        credential: the Azure credential; by default ``DefaultAzureCredential`` for the
            workspace's cloud (see ``azure.credentials.build_credential``).
        interactive: let the default credential sign in with a browser.
        wait: follow each job until it ends.
        on_job_scheduled: ``module:function`` called with each created job.
        poll_interval: seconds between the first status checks when waiting (then longer).
        echo: where progress lines go.

    Raises:
        ConfigError: an unknown job or workspace.
        SubmitError: signing in fails (nothing is uploaded), ``on_job_scheduled`` cannot be
            imported, a ``KEDRO_AZUREML_*`` setting is invalid, or Ctrl+C stopped the submission
            (the message says what exists). Errors of one job are in its ``Submission`` instead,
            with what the job's requests left behind in the workspace.
    """
    from kedro_azureml_deploy.azure.clients import WorkspaceClients
    from kedro_azureml_deploy.azure.workspace_target import workspace_target

    jobs = [project.config.job(name) for name in job_names]
    targets = {name: workspace_target(project.config, job, workspace) for name, job in jobs}
    callback = load_callback(on_job_scheduled) if on_job_scheduled else None
    check_environment(project, options)
    clients = WorkspaceClients(targets.values(), credential=credential, interactive=interactive)
    submissions = []
    for name, _job in jobs:
        target = targets[name]
        mark = clients.requests.mark()
        try:
            submission = _submit(project, name, options, target, clients, callback, echo)
        except KeyboardInterrupt:
            raise SubmitError(
                interrupted_message(name, target, clients.requests, mark, submissions)
            ) from None
        except KedroAzureMLError as exc:
            submission = _failed(name, target, exc, clients.requests.leftovers(mark))
        submissions.append(submission)
    if wait:  # every job is submitted before the first is followed: they run side by side
        submissions = [
            _follow(
                clients(targets[s.job_name]),
                s,
                targets[s.job_name],
                poll_interval,
                echo,
                clients.requests,
            )
            if s.run_name is not None
            else s
            for s in submissions
        ]
    return JobsReport(tuple(submissions))


def _failed(
    name: str, target: WorkspaceTarget, exc: KedroAzureMLError, leftovers: Leftovers
) -> Submission:
    message = str(exc)
    if not leftovers.nothing or leftovers.job_unanswered:
        message = f"{message.rstrip()} {leftovers.describe(az_workspace_args(target))}"
        said = SubmitError(message)
        said.__cause__ = exc
        exc = said
    return Submission(job_name=name, workspace=target.describe(), error=message, exception=exc)


def az_workspace_args(target: WorkspaceTarget) -> str:
    """The options of ``az ml`` commands for ``target``'s workspace."""
    config = target.config
    return (
        f"--workspace-name {config.name} --resource-group {config.resource_group} "
        f"--subscription {config.subscription_id}"
    )


def interrupted_message(
    name: str,
    target: WorkspaceTarget,
    requests: RequestLog,
    mark: int,
    submitted: Sequence[Submission] = (),
) -> str:
    """What exists after Ctrl+C stopped the submission of job ``name``: its code upload, its
    pipeline job, and the jobs submitted before it."""
    leftovers = requests.leftovers(mark)
    pending = requests.pending(mark)
    during = (
        f" while waiting for {pending[-1].service} ({pending[-1].describe()})" if pending else ""
    )
    if leftovers.code:
        code = "its code was uploaded (code asset {}:{})".format(*leftovers.code[-1])
    elif leftovers.blobs:
        code = f"its code upload was under way ({len(leftovers.blobs)} file(s) uploaded)"
    else:
        code = "no code was uploaded"
    if leftovers.job_created:
        job = f"pipeline job {leftovers.job} was created and runs"
    elif leftovers.job_unanswered:
        job = f"pipeline job {leftovers.job} was sent but not answered, so it may exist"
    else:
        job = "no pipeline job was created"
    before = [s for s in submitted if s.run_name is not None]
    earlier = (
        " Submitted before: "
        + ", ".join(f"{s.job_name} as {s.run_name} ({s.studio_url})" for s in before)
        + "."
        if before
        else ""
    )
    cleanup = ""
    if not leftovers.nothing or leftovers.job_unanswered:
        cleanup = " " + leftovers.describe(az_workspace_args(target))
    return f"interrupted submitting job {name!r}{during}: {code}; {job}.{cleanup}{earlier}"


def submit_job(
    project: KedroProject,
    job_name: str | None,
    options: CompileOptions,
    **kwargs: Any,
) -> Submission:
    """Submit one job (see ``submit_jobs`` for the keyword arguments).

    Raises:
        ConfigError, CompileError, SubmitError: the job was not submitted, or (``wait``) did not
            succeed.
    """
    report = submit_jobs(project, [job_name], options, **kwargs)
    report.raise_for_failures()
    return report.results[0]


def load_callback(reference: str) -> Callable[[Any], Any]:
    """The function ``module:function`` names (``function`` may be dotted, ``Class.method``).

    Raises:
        SubmitError: not ``module:function``, the module cannot be imported, or it has no such
            callable.
    """
    module_name, sep, attribute = reference.partition(":")
    if not sep or not module_name or not attribute:
        raise SubmitError(
            f"--on-job-scheduled {reference!r} is not `module:function`, e.g. "
            "`my_project.hooks:notify`."
        )
    try:
        target: Any = importlib.import_module(module_name)
    except Exception as exc:
        raise SubmitError(
            f"--on-job-scheduled {reference!r}: cannot import module {module_name!r} "
            f"({type(exc).__name__}: {exc}). Check the name, and that the module is importable "
            "from the project (its package is under src/)."
        ) from exc
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise SubmitError(
                f"--on-job-scheduled {reference!r}: module {module_name!r} has no {attribute!r}."
            )
        target = getattr(target, part)
    if not callable(target):
        raise SubmitError(f"--on-job-scheduled {reference!r}: {attribute!r} is not callable.")
    return target  # type: ignore[no-any-return]


def wait_for_job(
    client: MLClient,
    run_name: str,
    *,
    poll_interval: float = 5.0,
    max_interval: float = 60.0,
    echo: Echo = _silent,
) -> str:
    """Poll Azure ML job ``run_name`` until it ends, reporting each new status; its final status.

    The first checks are ``poll_interval`` seconds apart, then 1.5 times longer each time, up to
    ``max_interval``.
    """
    interval = poll_interval
    last = None
    started = time.monotonic()
    while True:
        status = _status(client.jobs.get(run_name))
        if status != last:
            echo(f"  {run_name}: {status} ({_duration(time.monotonic() - started)})")
            last = status
        if status in FINAL_STATUSES:
            return status
        time.sleep(interval)
        interval = min(interval * 1.5, max_interval)


def _submit(
    project: KedroProject,
    name: str,
    options: CompileOptions,
    target: WorkspaceTarget,
    clients: WorkspaceClients,
    callback: Callable[[Any], Any] | None,
    echo: Echo,
) -> Submission:
    from kedro_azureml_deploy.azure.code_upload import (
        bounded_code_upload,
        pipeline_job_with_snapshot,
    )
    from kedro_azureml_deploy.azure.errors import azure_call
    from kedro_azureml_deploy.project_jobs import compile_project_job
    from kedro_azureml_deploy.source_tags import source_tags

    client = clients(target)
    compiled = compile_project_job(project, name, options).with_tags(
        source_tags(project.path, options.env)
    )
    experiment = str(compiled.spec["experiment_name"])
    snapshot = (
        project.code_snapshot(compiled.code_directory)
        if compiled.code_directory is not None
        else None
    )
    with pipeline_job_with_snapshot(compiled, project.path, snapshot) as (pipeline_job, snapshot):
        code = f", code {snapshot.describe()}" if snapshot is not None else ""
        echo(
            f"Submitting job {name!r} to {target.describe()}, experiment {experiment!r}: "
            f"{len(compiled.steps)} step(s){code}"
        )
        with (
            bounded_code_upload(clients.network, clients.requests),
            azure_call(
                f"creating the pipeline job of {name!r}",
                target,
                requests=clients.requests,
                network=clients.network,
            ),
        ):
            created = client.jobs.create_or_update(pipeline_job, experiment_name=experiment)
    submission = Submission(
        job_name=name,
        workspace=target.describe(),
        experiment_name=experiment,
        run_name=created.name,
        studio_url=created.studio_url,
        status=_status(created),
    )
    echo(f"Submitted job {name!r} as Azure ML job {created.name}: {created.studio_url}")
    if callback is not None:
        try:
            callback(created)
        except Exception as exc:
            raise SubmitError(
                f"the --on-job-scheduled function failed for Azure ML job {created.name} (the "
                f"job was created and runs: {created.studio_url}): {type(exc).__name__}: {exc}"
            ) from exc
    return submission


def _follow(
    client: MLClient,
    submission: Submission,
    target: WorkspaceTarget,
    poll_interval: float,
    echo: Echo,
    requests: RequestLog | None = None,
) -> Submission:
    from dataclasses import replace

    from kedro_azureml_deploy.azure.errors import azure_call

    assert submission.run_name is not None
    echo(f"Waiting for Azure ML job {submission.run_name} (job {submission.job_name!r})")
    try:
        with azure_call(f"following Azure ML job {submission.run_name}", target, requests=requests):
            status = wait_for_job(
                client, submission.run_name, poll_interval=poll_interval, echo=echo
            )
    except KeyboardInterrupt:
        raise SubmitError(
            f"stopped waiting for Azure ML job {submission.run_name}; it keeps running, as do "
            f"the other jobs submitted: {submission.studio_url}"
        ) from None
    except SubmitError as exc:
        return replace(submission, error=str(exc), exception=exc)
    return replace(submission, status=status)


def check_environment(project: KedroProject, options: CompileOptions) -> None:
    """Refuse a Kedro environment that cannot exist on Azure ML: ``local`` in code-upload mode,
    since conf/local is never uploaded. Submissions, schedules and their dry runs all check it,
    so a dry run refuses what the real command would refuse.

    Raises:
        SubmitError: ``options.env`` is ``local`` and the code is uploaded.
    """
    if project.config.execution.mode == "code_upload" and options.env == "local":
        raise SubmitError(
            "the steps would run with Kedro environment `local`, but conf/local is never "
            "uploaded to Azure ML. Submit with another environment (-e base, the default, or "
            "one of your own such as -e prod) and keep secrets out of the code (Azure Key "
            "Vault, datastore credentials)."
        )


def _status(job: Any) -> str:
    status = getattr(job, "status", None)
    return str(getattr(status, "value", status))


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}m {seconds:02d}s" if minutes else f"{seconds}s"
