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

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.replay.replay_job import replay_job
from kedro_azureml_deploy.replay.report import ReplayReport, StepResult
from kedro_azureml_deploy.replay.run_store import RunStatus, StepStatus

__all__ = ["ReplayError", "ReplayReport", "RunStatus", "StepResult", "StepStatus", "replay_job"]
