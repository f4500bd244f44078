"""Compile a job of an opened Kedro project, checked by ``doctor`` first, and where its YAML goes.

This is where the pure compiler meets the project: its pipelines and catalog, its MLflow
configuration (which adds the MLflow variables to every step) and its code snapshot (which
``doctor`` checks). ``compile``, ``doctor``, ``run`` and ``schedule`` all compile through here.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from kedro_azureml_deploy.compiler.compiled_job import CompiledJob
from kedro_azureml_deploy.compiler.job_compiler import CompileOptions, compile_job
from kedro_azureml_deploy.doctor.checks import diagnose
from kedro_azureml_deploy.doctor.findings import Diagnosis
from kedro_azureml_deploy.errors import CompileError, ConfigError
from kedro_azureml_deploy.local_folder import COMPILED_FOLDER
from kedro_azureml_deploy.mlflow_config import mlflow_experiment
from kedro_azureml_deploy.project import KedroProject

logger = logging.getLogger(__name__)


def compile_project_job(
    project: KedroProject,
    job_name: str | None,
    options: CompileOptions,
    *,
    output: Path | None = None,
) -> CompiledJob:
    """Compile job ``job_name`` of ``project`` (the only job when ``None``), after ``doctor``.

    Args:
        project: the opened project.
        job_name: a job of ``azureml.yml``; may be omitted when exactly one is defined.
        options: command-line additions.
        output: where the YAML will be written; the code snapshot path in it is made relative to
            that file's folder so ``az ml job create -f`` finds the code. ``None`` keeps it relative
            to the project root.

    Raises:
        CompileError: ``doctor`` found errors (or, with ``options.strict``, warnings); with
            ``options.preflight`` off they are logged as warnings instead.
    """
    compiled, diagnosis = diagnose_project_job(project, job_name, options, output=output)
    if diagnosis.blocking(strict=options.strict) and options.preflight:
        raise CompileError(diagnosis.report())
    for finding in diagnosis.findings:
        logger.warning("%s", finding.line())
    return compiled


def diagnose_project_job(
    project: KedroProject,
    job_name: str | None,
    options: CompileOptions,
    *,
    output: Path | None = None,
) -> tuple[CompiledJob, Diagnosis]:
    """Compile job ``job_name`` without preflight and diagnose it (see ``doctor``)."""
    name, job = project.config.job(job_name)
    code_directory = project.path / project.config.execution.code_directory
    origin = output.resolve().parent if output is not None else project.path.resolve()
    code_path = PurePosixPath(Path(os.path.relpath(code_directory.resolve(), origin)).as_posix())
    pipeline = project.pipeline_of(name, job)
    compiled = compile_job(
        job_name=name,
        job=job,
        config=project.config,
        pipeline=pipeline,
        catalog=project.catalog,
        options=replace(
            options,
            code_path=str(code_path),
            mlflow_experiment=options.mlflow_experiment
            or mlflow_experiment(project, name, job.experiment_name),
            preflight=False,
        ),
    )
    snapshot = (
        project.code_snapshot(compiled.code_directory)
        if compiled.code_directory is not None
        else None
    )
    diagnosis = diagnose(
        job_name=name,
        compiled=compiled,
        pipeline=pipeline,
        catalog=project.catalog,
        project_path=project.path,
        env=options.env,
        snapshot=snapshot,
        catalog_config=_catalog_config(project),
        runtime_params=options.params,
        parameters=project.configured_parameters if options.params else None,
    )
    return compiled, diagnosis


def default_output_path(project_path: Path, job_name: str) -> Path:
    """``.azureml-local/compiled/<job>.yml``, which git ignores (see ``local_folder``): where
    ``compile``, the dry run and ``run --local`` write a job unless ``-o`` names a file.

    Raises:
        ConfigError: the job's name would put the file outside the project.
    """
    return path_inside_project(project_path, COMPILED_FOLDER / f"{job_name}.yml", job_name)


def path_inside_project(project_path: Path, relative: str | Path, job_name: str) -> Path:
    """``project_path / relative``, a file named after job ``job_name``, if it stays inside the
    project.

    ``azureml.yml`` refuses job names that are not file names; this is the second line, for a
    ``Config`` built in code or a name that slips through. The check is lexical (``..`` and absolute
    parts are resolved, symbolic links are not): a name can smuggle the former, while a link the
    user made inside the project is theirs to point elsewhere.

    Raises:
        ConfigError: the path leaves the project.
    """
    # abspath, not Path.resolve: it folds `..` without following symbolic links.
    root = Path(os.path.abspath(project_path))  # noqa: PTH100
    path = Path(os.path.abspath(root / relative))  # noqa: PTH100
    if not path.is_relative_to(root) or path == root:
        raise ConfigError(
            f"job `{job_name}`: its YAML would be written to `{Path(relative).as_posix()}`, outside "
            "the project; rename the job in azureml.yml with letters, digits, `_` and `-` only"
        )
    return path


def _catalog_config(project: KedroProject) -> dict[str, Any]:
    """The project's catalog configuration as Kedro reads it (empty when it has none)."""
    from kedro.config import MissingConfigException

    try:
        return project.catalog_config
    except (KeyError, MissingConfigException):
        return {}
