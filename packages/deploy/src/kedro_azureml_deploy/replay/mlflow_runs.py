"""MLflow runs of a local replay, laid out as Azure ML lays out those of a pipeline job.

On Azure ML a pipeline job is a parent run and each step a child run the step logs into (the
runtime's ``MlflowAzureMLHook`` resumes it, so kedro-mlflow logs there too). A local replay of a
project that uses MLflow does the same through :func:`start_replay_tracking`: one parent run for
the replay, and before each step starts, one child run whose id the step receives as
``MLFLOW_RUN_ID``.

The replay engine calls, for a compiled job ``spec``::

    tracking = start_replay_tracking(project_path, spec, run_name=run_id)   # None: no MLflow
    env = {**step_env, **tracking.step_environment(step)}                    # for each step
    tracking.step_finished(step, status)                                     # when it ends
    tracking.close(run_status)                                               # at the end

Whether a project uses MLflow is read from the compiled job itself: the compiler gives every step
``KEDRO_AZUREML_MLFLOW_EXPERIMENT`` when the project has kedro-mlflow's ``mlflow.yml``.
``mlflow`` is imported only then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.mlflow_config import project_tracking_uri
from kedro_azureml_runtime.hooks.mlflow_hook import RUN_ID_VARIABLE
from kedro_azureml_runtime.step_contract import JOB_NAME_VARIABLE, MLFLOW_EXPERIMENT_VARIABLE

logger = logging.getLogger(__name__)

#: Tags of the runs a replay creates.
REPLAY_TAG = "kedro_azureml.replay"
STEP_TAG = "kedro_azureml.step"
JOB_TAG = "kedro_azureml.job"
PARENT_RUN_TAG = "mlflow.parentRunId"

#: Replay statuses (``StepStatus``, ``RunStatus``) and MLflow's own, to MLflow run statuses.
_MLFLOW_STATUS = {
    "succeeded": "FINISHED",
    "completed": "FINISHED",
    "finished": "FINISHED",
    "failed": "FAILED",
    "timed_out": "FAILED",
    "interrupted": "KILLED",
    "skipped": "KILLED",
    "not_started": "KILLED",
    "canceled": "KILLED",
    "cancelled": "KILLED",
    "killed": "KILLED",
}


class ReplayTracking:
    """The MLflow runs of one local replay: a parent run, and a child run per step started.

    Made by :func:`start_replay_tracking`. Methods are safe to call from several threads.

    Attributes:
        tracking_uri: the tracking server every step logs to.
        experiment_id: the experiment of the runs.
        experiment_name: its name.
        parent_run_id: the replay's run.
    """

    def __init__(
        self,
        client: Any,
        *,
        tracking_uri: str,
        experiment_id: str,
        experiment_name: str,
        parent_run_id: str,
        steps: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self._client = client
        self.tracking_uri = tracking_uri
        self.experiment_id = experiment_id
        self.experiment_name = experiment_name
        self.parent_run_id = parent_run_id
        self._steps = steps
        self._children: dict[str, str] = {}
        self._open: set[str] = set()
        self._closed = False
        self._lock = threading.Lock()

    def child_run_id(self, step: str) -> str | None:
        """The run of ``step``, once :meth:`step_environment` created it."""
        return self._children.get(step)

    def step_environment(self, step: str) -> dict[str, str]:
        """Create the run of ``step`` (a child of the replay's run) and return the environment
        variables the step needs to log into it, as Azure ML gives them: ``MLFLOW_TRACKING_URI``,
        ``MLFLOW_RUN_ID``, ``MLFLOW_EXPERIMENT_ID``, ``MLFLOW_EXPERIMENT_NAME``, and the runtime
        hook's variables of the compiled step. Empty for a step the compiler gave no MLflow
        variable. Called again for the same step (a retry), it creates a new run."""
        spec = self._steps.get(step)
        if spec is None:
            return {}
        variables = _step_variables(spec)
        if MLFLOW_EXPERIMENT_VARIABLE not in variables:
            return {}
        tags = {
            PARENT_RUN_TAG: self.parent_run_id,
            STEP_TAG: step,
            REPLAY_TAG: "true",
        }
        if variables.get(JOB_NAME_VARIABLE):
            tags[JOB_TAG] = variables[JOB_NAME_VARIABLE]
        run_name = str(spec.get("display_name") or step)
        with self._lock:
            if self._closed:
                raise ReplayError(f"step {step!r} starts after the replay's MLflow run ended.")
            run = self._client.create_run(self.experiment_id, tags=tags, run_name=run_name)
            self._children[step] = run.info.run_id
            self._open.add(step)
        return {
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            RUN_ID_VARIABLE: run.info.run_id,
            "MLFLOW_EXPERIMENT_ID": self.experiment_id,
            "MLFLOW_EXPERIMENT_NAME": self.experiment_name,
            MLFLOW_EXPERIMENT_VARIABLE: variables[MLFLOW_EXPERIMENT_VARIABLE],
            **(
                {JOB_NAME_VARIABLE: variables[JOB_NAME_VARIABLE]}
                if JOB_NAME_VARIABLE in variables
                else {}
            ),
        }

    def step_finished(self, step: str, status: str) -> None:
        """Give the run of ``step`` the MLflow status of the replay's ``status`` (``succeeded``
        -> ``FINISHED``, ``failed``/``timed_out`` -> ``FAILED``, ``interrupted`` -> ``KILLED``).

        The replay's verdict wins over what the step process left: MLflow ends a resumed run
        ``FINISHED`` when the process exits, even after a failure."""
        with self._lock:
            run_id = self._children.get(step)
            if run_id is None or step not in self._open:
                return
            self._open.discard(step)
        self._terminate(run_id, mlflow_status(status))

    def close(self, status: str) -> None:
        """End the replay's run with the MLflow status of ``status``; a step's run still open
        (the replay stopped while it ran) ends ``KILLED``. Closing twice does nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            still_open = [self._children[step] for step in sorted(self._open)]
            self._open.clear()
        for run_id in still_open:
            self._terminate(run_id, "KILLED")
        self._terminate(self.parent_run_id, mlflow_status(status))

    def _terminate(self, run_id: str, status: str) -> None:
        if self._client.get_run(run_id).info.status != status:
            self._client.set_terminated(run_id, status=status)

    def __enter__(self) -> ReplayTracking:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        self.close("failed" if exc_type else "succeeded")


def start_replay_tracking(
    project_path: Path, job_spec: Mapping[str, Any], *, run_name: str
) -> ReplayTracking | None:
    """Open the MLflow run of a local replay of ``job_spec``, or return ``None`` when its steps
    carry no MLflow variable (the project does not use MLflow; nothing is imported then).

    The tracking server is the one a ``kedro run`` of the project would use: ``server.
    mlflow_tracking_uri`` of kedro-mlflow's ``mlflow.yml`` (in the steps' ``KEDRO_ENV``), else
    ``MLFLOW_TRACKING_URI``, else ``mlruns`` in the project. The experiment is the steps'
    ``KEDRO_AZUREML_MLFLOW_EXPERIMENT``, created when missing.

    Args:
        project_path: the Kedro project the job was compiled from (its ``conf`` and, for relative
            tracking URIs, its root).
        job_spec: the compiled pipeline job, as ``yaml.safe_load`` reads it.
        run_name: the name of the replay's run (for example the replay's run id).

    Raises:
        ReplayError: the tracking server cannot be reached or refuses the runs.
    """
    steps = {
        str(name): spec
        for name, spec in (job_spec.get("jobs") or {}).items()
        if isinstance(spec, Mapping)
    }
    tracked = [_step_variables(spec) for spec in steps.values()]
    tracked = [variables for variables in tracked if variables.get(MLFLOW_EXPERIMENT_VARIABLE)]
    if not tracked:
        return None
    try:
        from mlflow import MlflowClient
    except ImportError:
        logger.warning(
            "The job's steps log to MLflow but mlflow is not installed where the replay runs: the "
            "replay opens no parent run. Install kedro-azureml-runtime[mlflow]."
        )
        return None
    experiment_name = tracked[0][MLFLOW_EXPERIMENT_VARIABLE]
    project_path = Path(project_path).resolve()
    tracking_uri = project_tracking_uri(project_path, tracked[0].get("KEDRO_ENV"))
    try:
        client = MlflowClient(tracking_uri=tracking_uri)
        experiment = client.get_experiment_by_name(experiment_name)
        if experiment is None:
            experiment_id = client.create_experiment(experiment_name)
        else:
            experiment_id = experiment.experiment_id
            if experiment.lifecycle_stage == "deleted":
                client.restore_experiment(experiment_id)
        tags = {REPLAY_TAG: "true"}
        if tracked[0].get(JOB_NAME_VARIABLE):
            tags[JOB_TAG] = tracked[0][JOB_NAME_VARIABLE]
        parent = client.create_run(experiment_id, tags=tags, run_name=run_name)
    except Exception as exc:
        raise ReplayError(
            f"cannot open the replay's MLflow run at {tracking_uri} (experiment "
            f"{experiment_name!r}): {type(exc).__name__}: {exc}. Start the tracking server, or "
            "point mlflow.yml's server.mlflow_tracking_uri (or MLFLOW_TRACKING_URI) at one."
        ) from exc
    logger.info(
        "MLflow: replay run %s in experiment %r at %s.",
        parent.info.run_id,
        experiment_name,
        tracking_uri,
    )
    return ReplayTracking(
        client,
        tracking_uri=tracking_uri,
        experiment_id=str(experiment_id),
        experiment_name=experiment_name,
        parent_run_id=parent.info.run_id,
        steps=steps,
    )


def mlflow_status(status: str) -> str:
    """The MLflow run status for a replay status (or an MLflow status)."""
    key = str(status).lower()
    if key not in _MLFLOW_STATUS:
        raise ValueError(
            f"unknown status {status!r}: expected one of {', '.join(sorted(_MLFLOW_STATUS))}."
        )
    return _MLFLOW_STATUS[key]


def _step_variables(spec: Mapping[str, Any]) -> dict[str, str]:
    variables = spec.get("environment_variables") or {}
    return {str(key): str(value) for key, value in variables.items()}
