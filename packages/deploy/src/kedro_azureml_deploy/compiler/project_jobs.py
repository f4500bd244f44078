"""Compile a job of an opened Kedro project, and where its YAML goes."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path, PurePosixPath

from kedro_azureml_deploy.compiler.compiled_job import CompiledJob
from kedro_azureml_deploy.compiler.job_compiler import CompileOptions, compile_job
from kedro_azureml_deploy.project import KedroProject


def compile_project_job(
    project: KedroProject,
    job_name: str | None,
    options: CompileOptions,
    *,
    output: Path | None = None,
) -> CompiledJob:
    """Compile job ``job_name`` of ``project`` (the only job when ``None``).

    Args:
        project: the opened project.
        job_name: a job of ``azureml.yml``; may be omitted when exactly one is defined.
        options: command-line additions.
        output: where the YAML will be written; the code snapshot path in it is made relative to
            that file's folder so ``az ml job create -f`` finds the code. ``None`` keeps it relative
            to the project root.
    """
    name, job = project.config.job(job_name)
    code_directory = project.path / project.config.execution.code_directory
    origin = output.resolve().parent if output is not None else project.path.resolve()
    code_path = PurePosixPath(Path(os.path.relpath(code_directory.resolve(), origin)).as_posix())
    return compile_job(
        job_name=name,
        job=job,
        config=project.config,
        pipeline=project.pipeline_of(name, job),
        catalog=project.catalog,
        options=replace(options, code_path=str(code_path)),
    )


def default_output_path(project_path: Path, job_name: str) -> Path:
    """``azureml-<job>.yml`` at the project root."""
    return project_path / f"azureml-{job_name}.yml"
