"""Kedro pipeline in, Azure ML pipeline job out (see ``job_compiler``)."""

from kedro_azureml_deploy.compiler.compiled_job import CompiledJob, CompiledStep
from kedro_azureml_deploy.compiler.job_compiler import CompileOptions, compile_job
from kedro_azureml_deploy.compiler.preflight import Crossing, Travel
from kedro_azureml_deploy.compiler.project_jobs import (
    compile_project_job,
    default_output_path,
    diagnose_project_job,
)

__all__ = [
    "CompileOptions",
    "CompiledJob",
    "CompiledStep",
    "Crossing",
    "Travel",
    "compile_job",
    "compile_project_job",
    "default_output_path",
    "diagnose_project_job",
]
