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
            help="Do not check that data crossing steps can travel (to watch a replay fail as "
            "Azure would).",
        ),
    ]
    for decorator in reversed(decorators):
        wrapper = decorator(wrapper)
    return wrapper  # type: ignore[return-value]


def open_jobs(metadata: Any, jobs: tuple[str, ...], options: Any) -> tuple[Any, list[str]]:
    """The opened project and the names of the jobs asked for (the only job when none is)."""
    from kedro_azureml_deploy.project import open_project

    project = open_project(metadata.project_path, env=options.env, params=options.params)
    return project, [project.config.job(name)[0] for name in (jobs or (None,))]


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
