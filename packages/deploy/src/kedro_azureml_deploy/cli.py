"""Commands kedro-azureml-deploy adds to ``kedro azureml`` (entry points ``kedro_azureml.commands``).

Each command parses its options, calls one function that does the work and reports the result.
This module is imported whenever a user lists or calls an ``azureml`` command, so it imports
click and the standard library only; errors a user can cause become one line and a non-zero exit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def reports_user_errors(command: F) -> F:
    """Add ``--verbose`` to ``command`` and turn the errors a user can cause into one
    ``Error: <message>`` and exit code 1; with ``--verbose`` the traceback is shown instead."""

    @click.option("--verbose", is_flag=True, help="Show the traceback when an error occurs.")
    @functools.wraps(command)
    def wrapper(*args: Any, verbose: bool, **kwargs: Any) -> Any:
        from kedro_azureml_deploy.errors import KedroAzureMLError
        from kedro_azureml_runtime.errors import AzureMLRuntimeError

        try:
            return command(*args, **kwargs)
        except (KedroAzureMLError, AzureMLRuntimeError) as exc:
            if verbose:
                raise
            raise click.ClickException(str(exc)) from None

    return wrapper  # type: ignore[return-value]


JOBS_OPTION = click.option(
    "-j",
    "--job",
    "jobs",
    multiple=True,
    help="Job of azureml.yml; repeatable. Optional when only one job is defined.",
)


def compile_options(command: F) -> F:
    """Add the options that shape a compiled job, and pass them on as one ``CompileOptions``
    (keyword ``options``)."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        env: str,
        params: str,
        env_vars: tuple[str, ...],
        load_versions: str,
        aml_env: str | None,
        skip_preflight: bool,
        strict: bool,
        **kwargs: Any,
    ) -> Any:
        from kedro_azureml_deploy.compiler import CompileOptions
        from kedro_azureml_runtime.params import parse_load_versions, parse_params

        options = CompileOptions(
            env=env,
            params=parse_params(params),
            env_vars=parse_env_vars(env_vars),
            load_versions=parse_load_versions(load_versions),
            aml_env=aml_env,
            preflight=not skip_preflight,
            strict=strict,
        )
        return command(*args, options=options, **kwargs)

    decorators = [
        click.option(
            "-e",
            "--env",
            envvar="KEDRO_ENV",
            default="base",
            show_default="$KEDRO_ENV, else base",
            help="Kedro environment the steps run with (conf/local is never shipped to Azure).",
        ),
        click.option(
            "--params", default="", help="Runtime parameters for every step: JSON, or key=value,..."
        ),
        click.option(
            "--env-var",
            "env_vars",
            multiple=True,
            metavar="KEY=VALUE",
            help="Environment variable of every step; repeatable.",
        ),
        click.option(
            "--load-versions",
            default="",
            help="Dataset versions every step loads: name:version,...",
        ),
        click.option(
            "--aml-env",
            default=None,
            help="Azure ML environment (name@latest or name:version) for every step.",
        ),
        click.option(
            "--skip-preflight",
            is_flag=True,
            help="Compile even when doctor finds errors, reporting them as warnings (to watch a "
            "replay fail as Azure would).",
        ),
        click.option("--strict", is_flag=True, help="Doctor's warnings stop the command too."),
    ]
    for decorator in reversed(decorators):
        wrapper = decorator(wrapper)
    return wrapper  # type: ignore[return-value]


def open_jobs(metadata: Any, jobs: tuple[str, ...], options: Any) -> tuple[Any, list[str]]:
    """The opened project and the names of the jobs asked for (the only job when none is)."""
    from kedro_azureml_deploy.project import open_project

    project = open_project(metadata.project_path, env=options.env, params=options.params)
    names = [project.config.job(name)[0] for name in (jobs or (None,))]
    project.catalog  # noqa: B018 (made now, so a catalog error is reported before any work)
    return project, names


@click.command()
def info() -> None:
    """Show the versions of kedro-azureml, Kedro and the Azure SDK in use, for bug reports."""
    from kedro_azureml_deploy.versions import installed_versions, version_problems

    versions = installed_versions()
    width = max(map(len, versions))
    for name, value in versions.items():
        click.echo(f"{name:<{width}}  {value or 'not installed'}")
    problems = version_problems(versions)
    for problem in problems:
        click.echo(f"Error: {problem}", err=True)
    if problems:
        raise SystemExit(1)


@click.command()
@click.option(
    "--subscription-id", help="Azure subscription id of the workspace (default: a placeholder)."
)
@click.option("--resource-group", help="Resource group of the workspace (default: a placeholder).")
@click.option("--workspace", help="Name of the Azure ML workspace (default: a placeholder).")
@click.option(
    "--cluster", "compute_cluster", help="Compute cluster the steps run on (default: cpu-cluster)."
)
@click.option(
    "--execution-mode",
    type=click.Choice(["code_upload", "docker_image"]),
    help="Upload the code with each job, or bake it into the Dockerfile's image. Default: "
    "docker_image when a previous azureml.yml names an image, else code_upload.",
)
@click.option("--registry", "container_registry", help="Registry of the step image (docker_image).")
@click.option("--image-name", help="Repository of the step image in the registry (docker_image).")
@click.option(
    "--template",
    envvar="KEDRO_AZUREML_TEMPLATE",
    show_envvar=True,
    help="The kedro-azureml template: a git URL or a local clone. Default: the released one.",
)
@click.option(
    "--template-ref",
    help="Template release (tag, branch or commit). Default: the tag of this kedro-azureml-deploy.",
)
@click.option("--force", is_flag=True, help="Replace files the project already has without asking.")
@click.option("--dry-run", is_flag=True, help="Show what would be added; write nothing.")
@click.pass_obj
@reports_user_errors
def init(
    metadata: Any,
    template: str | None,
    template_ref: str | None,
    force: bool,
    dry_run: bool,
    **azure: str | None,
) -> None:
    """Adopt this Kedro project: add conf/base/azureml.yml, .amlignore, Dockerfile and
    .dockerignore from the kedro-azureml template, recording the answers so that
    `copier update` keeps them up to date.

    A file the project already has is replaced only when you agree, or with --force, and kept
    as <file>.orig. Nothing else changes: `kedro run` works as before. The workspace, cluster
    and image of an azureml.yml written for kedro-azureml or kedro-azureml-pipeline fill in
    the options not given.
    """
    import sys

    from kedro_azureml_deploy.adoption import (
        TEMPLATE_SOURCE,
        AzureAnswers,
        adopt_project,
        default_template_ref,
        find_predecessor_config,
        next_steps,
        read_project,
    )

    facts = read_project(metadata.project_path, force=force)
    inherited = find_predecessor_config(facts.path)
    if inherited:
        click.echo(
            f"Reading the workspace, cluster and image of {inherited.path} ({inherited.plugin}'s "
            "format)."
        )
    interactive = sys.stdin.isatty() and not dry_run

    def overwrite(relpath: str) -> bool:
        if force:
            return True
        if not interactive:
            return False
        return click.confirm(f"{relpath} exists and differs from the template's. Replace it?")

    adoption = adopt_project(
        facts,
        AzureAnswers(**azure),  # type: ignore[arg-type]
        template=template or TEMPLATE_SOURCE,
        ref=template_ref or default_template_ref(),
        overwrite=overwrite,
        inherited=inherited,
        dry_run=dry_run,
    )
    click.echo(adoption.report())
    if adoption.kept:
        click.echo("Files kept as they are: --force replaces them with the template's.")
    if dry_run:
        return
    click.echo("Next steps:")
    for number, step in enumerate(next_steps(facts, adoption, inherited), start=1):
        click.echo(f"  {number}. {step}")


@click.command(name="compile")
@JOBS_OPTION
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="File to write (one job), or folder (several jobs). Default: azureml-<job>.yml at the "
    "project root.",
)
@compile_options
@click.pass_obj
@reports_user_errors
def compile_command(
    metadata: Any, jobs: tuple[str, ...], output: Path | None, options: Any
) -> None:
    """Compile job(s) of azureml.yml into Azure ML pipeline job YAML, without touching Azure."""
    from kedro_azureml_deploy.compiler import compile_project_job, default_output_path

    project, names = open_jobs(metadata, jobs, options)
    for name in names:
        target = _output_for(output, name, several=len(names) > 1) or default_output_path(
            project.path, name
        )
        compiled = compile_project_job(project, name, options, output=target)
        compiled.write(target)
        click.echo(
            f"Compiled job {name!r}: {len(compiled.steps)} step(s), {len(compiled.crossings)} "
            f"dataset(s) crossing steps -> {_display_path(target)}"
        )


@click.command()
@JOBS_OPTION
@compile_options
@click.pass_obj
@reports_user_errors
def doctor(metadata: Any, jobs: tuple[str, ...], options: Any) -> None:
    """Report what would break, or be lost, once job(s) run on Azure ML, with the fix for each.

    compile and run run the same checks; errors stop them (with --strict, warnings too).
    """
    from kedro_azureml_deploy.compiler import diagnose_project_job

    project, names = open_jobs(metadata, jobs, options)
    blocked = False
    for name in names:
        _, diagnosis = diagnose_project_job(project, name, options)
        click.echo(diagnosis.report())
        blocked |= bool(diagnosis.blocking(strict=options.strict))
    if blocked:
        raise SystemExit(1)


def parse_env_vars(items: tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` items of ``--env-var`` as a dictionary."""
    variables: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE.", param_hint="--env-var")
        variables[key.strip()] = value
    return variables


def _output_for(output: Path | None, job: str, *, several: bool) -> Path | None:
    if output is None:
        return None
    if several or output.is_dir():
        return output / f"azureml-{job}.yml"
    return output


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _replay_options(command: F) -> F:
    """Options shared by ``run --local`` and ``replay``."""
    options = [
        click.option(
            "--python",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Python of the environment the steps run with (default: this one), e.g. a venv "
            "built like the step image.",
        ),
        click.option(
            "--max-parallel",
            type=click.IntRange(min=1),
            default=None,
            help="Steps running at once (default: the number of CPUs).",
        ),
        click.option(
            "--resume",
            "resume",
            metavar="RUN_ID",
            help="Re-run the failed, skipped and not-started steps of a replay.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


WORKSPACE_OPTION = click.option(
    "-w",
    "--workspace",
    metavar="NAME",
    help="Entry of `workspace` in azureml.yml to use instead of each job's.",
)
INTERACTIVE_OPTION = click.option(
    "--interactive",
    is_flag=True,
    help="Also offer a sign-in in a browser when no other Azure credential works.",
)
DRY_RUN_OPTION = click.option(
    "--dry-run",
    is_flag=True,
    help="Print what would be sent and write the compiled YAML, without contacting Azure.",
)


def _submit_options(command: F) -> F:
    """Options of ``run`` that apply to a submission to Azure ML (not to ``--local``)."""
    options = [
        WORKSPACE_OPTION,
        click.option(
            "--wait",
            is_flag=True,
            help="Follow each job until it ends; exit non-zero if one does not complete.",
        ),
        DRY_RUN_OPTION,
        INTERACTIVE_OPTION,
        click.option(
            "--on-job-scheduled",
            metavar="MODULE:FUNCTION",
            help="Function called with each created Azure ML job (azure.ai.ml PipelineJob).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@JOBS_OPTION
@click.option(
    "--local",
    is_flag=True,
    help="Replay the compiled job on this machine, step by step, instead of submitting it.",
)
@_submit_options
@compile_options
@_replay_options
@click.pass_obj
@reports_user_errors
def run(
    metadata: Any,
    jobs: tuple[str, ...],
    local: bool,
    workspace: str | None,
    wait: bool,
    dry_run: bool,
    interactive: bool,
    on_job_scheduled: str | None,
    options: Any,
    python: Path | None,
    max_parallel: int | None,
    resume: str | None,
) -> None:
    """Compile job(s) of azureml.yml and run them: on Azure ML, or on this machine with --local.

    On Azure ML, each job's code is uploaded (without conf/local, credentials, .env, data/) and
    its pipeline job created in its experiment; the Studio URL is printed.
    """
    from kedro_azureml_deploy.compiler import compile_project_job
    from kedro_azureml_deploy.replay import replay_job

    submit_only = {"-w/--workspace": workspace, "--wait": wait, "--dry-run": dry_run}
    submit_only |= {"--interactive": interactive, "--on-job-scheduled": on_job_scheduled}
    local_only = {"--python": python, "--max-parallel": max_parallel, "--resume": resume}
    if not local:
        _reject_options(local_only, "apply to --local only")
        _submit_jobs(
            metadata,
            jobs,
            options,
            workspace=workspace,
            wait=wait,
            dry_run=dry_run,
            interactive=interactive,
            on_job_scheduled=on_job_scheduled,
        )
        return
    _reject_options(submit_only, "apply to a submission to Azure ML, not to --local")
    project, names = open_jobs(metadata, jobs, options)
    if resume and len(names) > 1:
        raise click.UsageError("--resume takes one job at a time.")
    failed = []
    for name in names:
        target = project.path / ".azureml-local" / "compiled" / f"{name}.yml"
        compile_project_job(project, name, options, output=target).write(target)
        report = replay_job(
            target,
            project_path=project.path,
            python=python,
            max_parallel=max_parallel,
            resume=resume,
        )
        if not report.ok:
            failed.append(f"{name} ({report.status}, run {report.run_id})")
    if failed:
        raise SystemExit(f"Error: replay did not succeed for {', '.join(failed)}.")


def _reject_options(given: dict[str, Any], why: str) -> None:
    used = [name for name, value in given.items() if value]
    if used:
        raise click.UsageError(f"{', '.join(used)} {why}.")


def _submit_jobs(
    metadata: Any, jobs: tuple[str, ...], options: Any, *, dry_run: bool, **submit: Any
) -> None:
    """``run`` without ``--local``: submit the jobs, or with ``dry_run`` print their plans."""
    from kedro_azureml_deploy.submitter import submit_jobs

    project, names = open_jobs(metadata, jobs, options)
    if dry_run:
        _print_plans(project, names, options, workspace=submit["workspace"])
        return
    report = submit_jobs(project, names, options, echo=click.echo, **submit)
    report.raise_for_failures()


def _print_plans(project: Any, names: list[str], options: Any, *, workspace: str | None) -> None:
    from kedro_azureml_deploy.compiler import default_output_path
    from kedro_azureml_deploy.job_plan import plan_job

    for name in names:
        output = default_output_path(project.path, name)
        plan = plan_job(project, name, options, workspace=workspace, output=output)
        click.echo(plan.describe().replace(str(output), _display_path(output)))
    click.echo("Dry run: nothing was sent to Azure.")


class _ScheduleGroup(click.Group):
    """``schedule`` whose options without a subcommand mean ``schedule create``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and args[0] not in ("--help", "-h"):
            args = ["create", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_ScheduleGroup)
def schedule() -> None:
    """Create, list, disable and delete the Azure ML schedules of the jobs of azureml.yml.

    `kedro azureml schedule -j JOB` is short for `kedro azureml schedule create -j JOB`.
    """


@schedule.command(name="create")
@JOBS_OPTION
@WORKSPACE_OPTION
@DRY_RUN_OPTION
@INTERACTIVE_OPTION
@compile_options
@click.pass_obj
@reports_user_errors
def schedule_create(
    metadata: Any,
    jobs: tuple[str, ...],
    workspace: str | None,
    dry_run: bool,
    interactive: bool,
    options: Any,
) -> None:
    """Create or update the schedule of job(s) of azureml.yml (their `schedule` key).

    The schedule is named <package>-<job> and tagged with the project, so running this again
    updates it. The code is uploaded now: the runs it starts use this snapshot.
    """
    from kedro_azureml_deploy.scheduler import schedule_jobs

    project, names = open_jobs(metadata, jobs, options)
    if dry_run:
        _print_plans(project, names, options, workspace=workspace)
        return
    report = schedule_jobs(
        project, names, options, workspace=workspace, interactive=interactive, echo=click.echo
    )
    report.raise_for_failures()


def _schedule_env_option(command: F) -> F:
    return click.option(
        "-e",
        "--env",
        envvar="KEDRO_ENV",
        default="base",
        show_default="$KEDRO_ENV, else base",
        help="Kedro environment whose azureml.yml is read.",
    )(command)


@schedule.command(name="list")
@WORKSPACE_OPTION
@INTERACTIVE_OPTION
@_schedule_env_option
@click.pass_obj
@reports_user_errors
def schedule_list(metadata: Any, workspace: str | None, interactive: bool, env: str) -> None:
    """List the project's schedules (in the workspaces of its jobs, or the one -w names)."""
    from kedro_azureml_deploy.project import open_project
    from kedro_azureml_deploy.scheduler import list_schedules

    project = open_project(metadata.project_path, env=env)
    found = list_schedules(project, workspace=workspace, interactive=interactive)
    for info in found:
        click.echo(info.describe())
    if not found:
        click.echo("The project has no schedule: create one with `kedro azureml schedule -j JOB`.")


@schedule.command(name="disable")
@click.argument("name")
@WORKSPACE_OPTION
@INTERACTIVE_OPTION
@_schedule_env_option
@click.pass_obj
@reports_user_errors
def schedule_disable(
    metadata: Any, name: str, workspace: str | None, interactive: bool, env: str
) -> None:
    """Stop the project's schedule NAME from firing (`schedule -j JOB` enables it again)."""
    from kedro_azureml_deploy.project import open_project
    from kedro_azureml_deploy.scheduler import disable_schedule

    project = open_project(metadata.project_path, env=env)
    info = disable_schedule(project, name, workspace=workspace, interactive=interactive)
    click.echo(f"Disabled schedule {info.name} ({info.workspace}).")


@schedule.command(name="delete")
@click.argument("name")
@WORKSPACE_OPTION
@INTERACTIVE_OPTION
@_schedule_env_option
@click.pass_obj
@reports_user_errors
def schedule_delete(
    metadata: Any, name: str, workspace: str | None, interactive: bool, env: str
) -> None:
    """Delete the project's schedule NAME (disabling it first); the jobs it started remain."""
    from kedro_azureml_deploy.project import open_project
    from kedro_azureml_deploy.scheduler import delete_schedule

    project = open_project(metadata.project_path, env=env)
    delete_schedule(project, name, workspace=workspace, interactive=interactive)
    click.echo(f"Deleted schedule {name}.")


@click.command()
@click.argument("job_file", type=click.Path(path_type=Path))
@_replay_options
@click.pass_obj
@reports_user_errors
def replay(
    metadata: Any, job_file: Path, python: Path | None, max_parallel: int | None, resume: str | None
) -> None:
    """Replay a compiled pipeline job YAML on this machine, step by step, as Azure ML would."""
    from kedro_azureml_deploy.replay import replay_job

    report = replay_job(
        job_file,
        project_path=metadata.project_path,
        python=python,
        max_parallel=max_parallel,
        resume=resume,
    )
    if not report.ok:
        raise SystemExit(f"Error: replay {report.status} (run {report.run_id}).")
