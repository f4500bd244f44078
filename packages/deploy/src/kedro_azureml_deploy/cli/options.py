"""The options deploy commands share, each defined once, and the groups they come in.

One style: every option is a module-level ``click.option``; a command takes them with
:func:`with_options`, or takes a group (:data:`COMPILE_OPTIONS` through :func:`compile_options`,
which hands the command one ``CompileOptions``). Values are parsed by click callbacks, as Kedro
parses its own ``--params`` and ``--load-versions``, so a bad value is a usage error before the
command runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from kedro_azureml_deploy.config.names import env_var_name
from kedro_azureml_runtime.step_contract import (
    KEDRO_ENV_VARIABLE,
    load_versions_callback,
    params_callback,
)

F = TypeVar("F", bound=Callable[..., Any])


def with_options(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Apply ``options`` to a command, the first one shown first in ``--help``."""

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


def _env_vars_callback(
    ctx: click.Context, param: click.Parameter, items: tuple[str, ...]
) -> dict[str, str]:
    variables: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"--env-var {item!r} is not KEY=VALUE.", ctx=ctx)
        try:
            variables[env_var_name(key.strip())] = value
        except ValueError as exc:
            raise click.UsageError(f"--env-var {item!r}: {exc}.", ctx=ctx) from None
    return variables


JOBS_OPTION = click.option(
    "-j",
    "--job",
    "jobs",
    multiple=True,
    help="Job of azureml.yml; repeatable. Optional when only one job is defined.",
)
ENV_OPTION = click.option(
    "-e",
    "--env",
    envvar=KEDRO_ENV_VARIABLE,
    default="base",
    show_default="$KEDRO_ENV, else base",
    help="Kedro environment: azureml.yml, the catalog and the parameters are read in it, and the "
    "steps run with it (conf/local never ships to Azure).",
)
PARAMS_OPTION = click.option(
    "--params",
    default="",
    callback=params_callback,
    help="Runtime parameters, as `kedro run --params` takes them (key=value,...), or a JSON "
    "object: they set the job's inputs (the parameters its nodes read); keys no node reads go to "
    "every step.",
)
ENV_VARS_OPTION = click.option(
    "--env-var",
    "env_vars",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_env_vars_callback,
    help="Environment variable of every step; repeatable.",
)
LOAD_VERSIONS_OPTION = click.option(
    "--load-versions",
    default="",
    callback=load_versions_callback,
    help="Dataset versions every step loads: name:version,...",
)


def _aml_env_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    from kedro_azureml_deploy.config.environment import environment_reference

    try:
        return environment_reference(value)
    except ValueError as exc:
        raise click.UsageError(f"--aml-env: {exc}", ctx=ctx) from None


AML_ENV_OPTION = click.option(
    "--aml-env",
    default=None,
    callback=_aml_env_callback,
    help="Azure ML environment (name@latest or name:version) for every step.",
)
SKIP_PREFLIGHT_OPTION = click.option(
    "--skip-preflight",
    is_flag=True,
    help="Compile even when doctor finds errors, reporting them as warnings (to watch a replay "
    "fail as Azure would).",
)
STRICT_OPTION = click.option(
    "--strict", is_flag=True, help="Doctor's warnings stop the command too."
)

#: The options that shape a compiled job (see :func:`compile_options`).
COMPILE_OPTIONS = (
    ENV_OPTION,
    PARAMS_OPTION,
    ENV_VARS_OPTION,
    LOAD_VERSIONS_OPTION,
    AML_ENV_OPTION,
    SKIP_PREFLIGHT_OPTION,
    STRICT_OPTION,
)


def compile_options(command: F) -> F:
    """Add :data:`COMPILE_OPTIONS` to ``command`` and pass them on as one ``CompileOptions``
    (keyword ``options``)."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        env: str,
        params: dict[str, Any],
        env_vars: dict[str, str],
        load_versions: dict[str, str],
        aml_env: str | None,
        skip_preflight: bool,
        strict: bool,
        **kwargs: Any,
    ) -> Any:
        from kedro_azureml_deploy.compiler import CompileOptions

        options = CompileOptions(
            env=env,
            params=params,
            env_vars=env_vars,
            load_versions=load_versions,
            aml_env=aml_env,
            preflight=not skip_preflight,
            strict=strict,
        )
        return command(*args, options=options, **kwargs)

    return with_options(*COMPILE_OPTIONS)(wrapper)  # type: ignore[return-value]


OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(),
    help="File to write (one job), or folder (several jobs, an existing folder, or a path ending "
    "with /), for a job you want to commit. Default: .azureml-local/compiled/<job>.yml, which git "
    "ignores.",
)

PYTHON_OPTION = click.option(
    "--python",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Python of the environment the steps run with. Default: one built like the step image "
    "from the project's uv.lock or requirements.txt (without kedro-azureml-deploy), once, in the "
    "user cache (KEDRO_AZUREML_STEP_ENVS relocates it; `kedro azureml cache --step-envs` shows "
    "it); this one when the project has neither file.",
)
MAX_PARALLEL_OPTION = click.option(
    "--max-parallel",
    type=click.IntRange(min=1),
    default=None,
    help="Steps running at once (default: the number of CPUs).",
)


def _inputs_callback(
    ctx: click.Context, param: click.Parameter, items: tuple[str, ...]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"--input {item!r} is not NAME=VALUE.", ctx=ctx)
        values[name.strip()] = _typed_input(ctx, name.strip(), value)
    return values


def _typed_input(ctx: click.Context, name: str, value: str) -> Any:
    """``value`` typed (see :func:`_input_value`); a value Kedro cannot parse is refused with
    ``parse_params``' own message, ``--input`` in place of ``--params``."""
    from kedro_azureml_runtime.errors import ParamsError
    from kedro_azureml_runtime.params import parse_params

    try:
        return _input_value(name, value, parse_params)
    except ParamsError as exc:
        raise click.UsageError(str(exc).replace("--params", "--input"), ctx=ctx) from None


def _input_value(name: str, value: str, parse_params: Callable[[str], dict[str, Any]]) -> Any:
    """``value`` typed as ``kedro run --params NAME=VALUE`` types it. Kedro splits its option at
    commas, so a value holding one (a JSON mapping, a sentence) is typed by the parser Kedro
    applies to each item after splitting, OmegaConf's dot list."""
    if "," not in value:
        return parse_params(f"{name}={value}")[name]
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.from_dotlist([f"{name}={value}"]))[name]  # type: ignore[index]


INPUT_OPTION = click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="NAME=VALUE",
    callback=_inputs_callback,
    help="Set input NAME of the job (a Kedro parameter its nodes read, e.g. "
    "model_options__test_size) to VALUE, typed as `kedro run --params` types it, as a "
    "resubmission with new inputs would; repeatable.",
)
RESUME_OPTION = click.option(
    "--resume",
    metavar="RUN_ID",
    help="Re-run the failed, skipped and not-started steps of a replay, and every succeeded step "
    "whose fingerprint changed (its inputs, code, parameters, command or environment).",
)
NO_REUSE_OPTION = click.option(
    "--no-reuse",
    is_flag=True,
    help="Run every step: keep none on --resume, take none from the reuse cache (step_reuse).",
)
COLD_OPTION = click.option(
    "--cold",
    is_flag=True,
    help="Start every step as a new interpreter, as Azure ML does, instead of forking it from a "
    "process that imported Kedro once (to debug import-time side effects, native libraries that "
    "are not fork-safe, or to measure real start-up).",
)
#: The options of a local replay (``run --local``, ``replay``).
REPLAY_OPTIONS = (PYTHON_OPTION, MAX_PARALLEL_OPTION, RESUME_OPTION, NO_REUSE_OPTION, COLD_OPTION)

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
WAIT_OPTION = click.option(
    "--wait",
    is_flag=True,
    help="Follow each job until it ends; exit non-zero if one does not complete.",
)
ON_JOB_SCHEDULED_OPTION = click.option(
    "--on-job-scheduled",
    metavar="MODULE:FUNCTION",
    help="Function called with each created Azure ML job (azure.ai.ml PipelineJob).",
)
#: The options of a submission to Azure ML (``run`` without ``--local``).
SUBMIT_OPTIONS = (
    WORKSPACE_OPTION,
    WAIT_OPTION,
    DRY_RUN_OPTION,
    INTERACTIVE_OPTION,
    ON_JOB_SCHEDULED_OPTION,
)
