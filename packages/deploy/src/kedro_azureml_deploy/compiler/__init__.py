"""Kedro pipeline in, Azure ML pipeline job out: a pure function (see ``job_compiler``).

Nothing here opens the project, reads the code snapshot, runs ``doctor`` or talks to Azure: the
compiler takes a config, a pipeline, a catalog and options, and returns a ``CompiledJob``.
``kedro_azureml_deploy.project_jobs`` compiles a job of an opened project, with those checks.
"""

from kedro_azureml_deploy.compiler.compiled_job import CompiledJob, CompiledStep
from kedro_azureml_deploy.compiler.crossings import Crossing, Travel
from kedro_azureml_deploy.compiler.job_compiler import CompileOptions, compile_job

__all__ = [
    "CompileOptions",
    "CompiledJob",
    "CompiledStep",
    "Crossing",
    "Travel",
    "compile_job",
]
