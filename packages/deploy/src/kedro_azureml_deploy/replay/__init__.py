"""Local replay: run a compiled Azure ML pipeline job on this machine, as Azure ML would.

The replay executes the compiled job file, not the Kedro pipeline. It snapshots the code the way
Azure ML uploads it (``.amlignore``, else ``.gitignore``), gives each step a fresh working copy,
empty output folders and read-only input folders, expands ``${{inputs.*}}`` and
``${{outputs.*}}``, and runs each step's command in its own process group with the step's
environment variables, independent steps in parallel. What cannot cross a step boundary on Azure
ML cannot cross it here either. It does not reproduce the compute, the environment image (steps
use a local Python environment, by default one built like it from the project's lock: see
``replay.step_environment``) or the download of data assets (they are read from the project's
local asset cache).

    from kedro_azureml_deploy.replay import replay_job

    report = replay_job(Path(".azureml-local/compiled/train.yml"), project_path=Path("."))
    if not report.ok:
        ...  # report.steps say which step failed; report.run_id resumes the run
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.lazy_names import lazy_names

if TYPE_CHECKING:
    from kedro_azureml_deploy.replay.job_replay import replay_job
    from kedro_azureml_deploy.replay.report import ReplayReport, StepResult
    from kedro_azureml_deploy.replay.run_store import RunStatus, StepStatus

#: Where each public name is defined, imported on first use: ``kedro azureml run --local``
#: imports ``replay.starter_at_kedro_start`` as Kedro's CLI starts, when the engine is not needed
#: yet (about 10 ms before the starter starts). No name is also a module's: importing a module
#: ``replay_job`` would set the package's ``replay_job`` to it.
_MODULE_OF = {
    "replay_job": "job_replay",
    "ReplayReport": "report",
    "StepResult": "report",
    "RunStatus": "run_store",
    "StepStatus": "run_store",
}

__all__ = ["ReplayError", "ReplayReport", "RunStatus", "StepResult", "StepStatus", "replay_job"]

__getattr__, __dir__ = lazy_names(__name__, _MODULE_OF)
