"""Kedro pipeline in, Azure ML pipeline job out: a pure function (see ``job_compiler``).

Nothing here opens the project, reads the code snapshot, runs ``doctor`` or talks to Azure: the
compiler takes a config, a pipeline, a catalog and options, and returns a ``CompiledJob``.
``kedro_azureml_deploy.project_jobs`` compiles a job of an opened project, with those checks.

The names below are imported when first used, so that a module needing one small part of the
compiler (the replay reads parameter inputs with ``parameter_inputs``) does not import the
compiler and its configuration models: a replay of a compiled file starts without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kedro_azureml_deploy.lazy_names import lazy_names

if TYPE_CHECKING:
    from kedro_azureml_deploy.compiler.compiled_job import CompiledJob, CompiledStep
    from kedro_azureml_deploy.compiler.crossings import Crossing, Travel
    from kedro_azureml_deploy.compiler.job_compiler import CompileOptions, compile_job

_MODULE_OF = {
    "CompileOptions": "job_compiler",
    "CompiledJob": "compiled_job",
    "CompiledStep": "compiled_job",
    "Crossing": "crossings",
    "Travel": "crossings",
    "compile_job": "job_compiler",
}

__all__ = [
    "CompileOptions",
    "CompiledJob",
    "CompiledStep",
    "Crossing",
    "Travel",
    "compile_job",
]

__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)
