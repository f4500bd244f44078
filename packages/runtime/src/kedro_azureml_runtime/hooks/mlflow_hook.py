"""Gives each step one MLflow run: Azure ML's run for the step, which kedro-mlflow then logs into.

Azure ML opens an MLflow run for every step of a pipeline job and tells the step about it
(``MLFLOW_RUN_ID``, ``MLFLOW_EXPERIMENT_ID``, ``MLFLOW_EXPERIMENT_NAME``, ``MLFLOW_TRACKING_URI``).
kedro-mlflow opens a run of its own unless one is already active when its ``after_context_created``
hook runs. This hook runs before it (``tryfirst``) and makes the step's run the active one, so
kedro-mlflow, ``mlflow.log_*`` calls in nodes and Azure ML all write to the same run. It tags
the run with what the step ran, and with the error when the step fails.

It is active only in steps compiled from a project that uses MLflow: ``kedro azureml compile``
then gives every step :data:`MLFLOW_EXPERIMENT_VARIABLE` and :data:`JOB_NAME_VARIABLE`. Everywhere
else (``kedro run``, projects without MLflow) each hook returns at once and ``mlflow`` is never
imported; importing this module costs nothing beyond Kedro's hook marker.

Which run a step logs to, in order:

1. a run already active in the process (a retry of the step, or an orchestrator in-process);
2. the run ``MLFLOW_RUN_ID`` names (Azure ML, or a local replay): resumed, never ended here;
   its owner (Azure ML, the replay) sets its final status;
3. otherwise a run this hook opens in experiment :data:`MLFLOW_EXPERIMENT_VARIABLE`, and ends
   ``FINISHED`` or ``FAILED`` with the step.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from kedro.framework.hooks import hook_impl

from kedro_azureml_runtime.errors import AzureMLRuntimeError
from kedro_azureml_runtime.step_contract import JOB_NAME_VARIABLE, MLFLOW_EXPERIMENT_VARIABLE

if TYPE_CHECKING:
    from types import ModuleType

    from kedro.framework.context import KedroContext
    from kedro.pipeline import Pipeline
    from kedro.pipeline.node import Node

logger = logging.getLogger(__name__)

#: The run of the step, as Azure ML (or a local replay) creates it before the step starts.
RUN_ID_VARIABLE = "MLFLOW_RUN_ID"

#: Tags this hook sets on the step's run.
JOB_TAG = "kedro_azureml.job"
PIPELINE_TAG = "kedro_azureml.pipeline"
NODES_TAG = "kedro_azureml.nodes"
ENV_TAG = "kedro_azureml.env"
ERROR_TAG = "kedro_azureml.error"
FAILED_NODE_TAG = "kedro_azureml.failed_node"

#: MLflow refuses tag values longer than 8000 characters (``MAX_TAG_VAL_LENGTH``).
_MAX_TAG_LENGTH = 5000
#: kedro-mlflow's config loader key and file patterns for ``mlflow.yml``.
MLFLOW_CONFIG_KEY = "mlflow"
MLFLOW_CONFIG_PATTERNS = ["mlflow*", "mlflow*/**", "**/mlflow*"]


class MlflowAzureMLHook:
    """Makes the step's MLflow run the active run before kedro-mlflow looks for one, tags it, and
    records failures on it (see the module docstring for which run that is).

    Registered by the ``kedro.hooks`` entry point of kedro-azureml-runtime, like kedro-mlflow's own
    hook, so ``settings.py`` needs nothing. Kedro makes one instance per process; every session
    (``execute --retries`` runs several) starts from a clean state in ``after_context_created``.
    """

    def __init__(self) -> None:
        #: Error tags set in this process, by run: a retry that succeeds removes them.
        self._error_tags: dict[str, set[str]] = {}
        self._reset()

    def _reset(self) -> None:
        self._mlflow: ModuleType | None = None
        self._run_id: str | None = None
        self._owns_run = False
        self._env: str | None = None
        self._failed = False

    @hook_impl(tryfirst=True)
    def after_context_created(self, context: KedroContext) -> None:
        self._reset()
        experiment = os.environ.get(MLFLOW_EXPERIMENT_VARIABLE)
        if not experiment:
            return
        try:
            import mlflow
        except ImportError:
            logger.warning(
                "%s is set but mlflow is not installed: this step logs nothing to MLflow. Install "
                "kedro-azureml-runtime[mlflow] in the step's environment.",
                MLFLOW_EXPERIMENT_VARIABLE,
            )
            return
        _check_tracking_store(mlflow)
        self._mlflow = mlflow
        self._env = context.env
        active = mlflow.active_run()
        run_id = os.environ.get(RUN_ID_VARIABLE)
        if active is not None:
            self._run_id = active.info.run_id
            logger.info("Logging this step to the active MLflow run %s.", self._run_id)
        elif run_id:
            run = mlflow.start_run(run_id=run_id)
            # Runs the node code starts (nested or not) land in the same experiment.
            mlflow.set_experiment(experiment_id=run.info.experiment_id)
            self._run_id = run_id
            logger.info("Logging this step to its MLflow run %s (%s).", run_id, RUN_ID_VARIABLE)
        else:
            uri = _configured_tracking_uri(context)
            if uri:
                mlflow.set_tracking_uri(uri)
            mlflow.set_experiment(experiment)
            self._run_id = mlflow.start_run().info.run_id
            self._owns_run = True
            logger.info(
                "No %s: logging this step to a new MLflow run %s of experiment %r.",
                RUN_ID_VARIABLE,
                self._run_id,
                experiment,
            )

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Pipeline) -> None:
        if self._run_id is None:
            return
        names = run_params.get("pipeline_names") or run_params.get("pipeline_name")
        if isinstance(names, str):
            names = [names]
        nodes = ",".join(sorted(node.name for node in pipeline.nodes))
        tags = {
            JOB_TAG: os.environ.get(JOB_NAME_VARIABLE, ""),
            PIPELINE_TAG: "+".join(names or ["__default__"]),
            NODES_TAG: nodes,
            ENV_TAG: run_params.get("env") or self._env or "",
        }
        self._set_tags({key: value for key, value in tags.items() if value})
        if self._owns_run:
            self._client().update_run(self._run_id, name=nodes)

    @hook_impl(tryfirst=True)
    def on_node_error(self, error: Exception, node: Node) -> None:
        if self._run_id is None:
            return
        self._failed = True
        self._set_error_tags({ERROR_TAG: _describe(error), FAILED_NODE_TAG: node.name})

    @hook_impl(trylast=True)
    def after_pipeline_run(self) -> None:
        """Ends a run this hook opened, after every other hook (kedro-mlflow logs models here)."""
        if self._run_id is None:
            return
        for stale in sorted(self._error_tags.pop(self._run_id, ())):  # an earlier attempt failed
            self._client().delete_tag(self._run_id, stale)
        self._end("FINISHED")

    @hook_impl(trylast=True)
    def on_pipeline_error(self, error: Exception) -> None:
        if self._run_id is None:
            return
        if not self._failed:  # the error did not come from a node (a hook, a runner)
            self._set_error_tags({ERROR_TAG: _describe(error)})
        self._end("FAILED")

    def _end(self, status: str) -> None:
        """End the run if this hook opened it; a resumed run is left to its owner."""
        assert self._mlflow is not None and self._run_id is not None
        if self._owns_run:
            ended = False
            # kedro-mlflow re-enters the run before each node: it may be on the stack many times.
            while (active := self._mlflow.active_run()) and active.info.run_id == self._run_id:
                self._mlflow.end_run(status=status)
                ended = True
            if not ended:  # not active in this thread
                self._client().set_terminated(self._run_id, status=status)
        self._reset()

    def _set_tags(self, tags: dict[str, str]) -> None:
        """Set ``tags`` on the step's run in one request (thread-agnostic: by run id)."""
        assert self._run_id is not None
        from mlflow.entities import RunTag

        self._client().log_batch(
            self._run_id, tags=[RunTag(key, value) for key, value in tags.items()]
        )

    def _set_error_tags(self, tags: dict[str, str]) -> None:
        assert self._run_id is not None
        self._set_tags(tags)
        self._error_tags.setdefault(self._run_id, set()).update(tags)

    def _client(self) -> Any:
        assert self._mlflow is not None
        return self._mlflow.MlflowClient()


def _describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= _MAX_TAG_LENGTH else text[: _MAX_TAG_LENGTH - 1] + "…"


def _check_tracking_store(mlflow: ModuleType) -> None:
    """Azure ML's ``azureml://`` tracking URI needs the azureml-mlflow plugin: say so plainly."""
    uri = mlflow.get_tracking_uri()
    if str(uri).startswith("azureml:"):
        import importlib.util

        try:
            plugin = importlib.util.find_spec("azureml.mlflow")
        except ModuleNotFoundError:  # no azureml namespace at all
            plugin = None
        if plugin is None:
            raise AzureMLRuntimeError(
                "MLFLOW_TRACKING_URI is an azureml:// URI (the Azure ML workspace's tracking "
                "server), which MLflow reaches only with azureml-mlflow: install "
                "kedro-azureml-runtime[mlflow] (or azureml-mlflow) in the step's environment."
            )


def _configured_tracking_uri(context: KedroContext) -> str | None:
    """``server.mlflow_tracking_uri`` of kedro-mlflow's ``mlflow.yml``, as kedro-mlflow resolves
    it (a relative path is relative to the project), or ``None``."""
    loader = context.config_loader
    patterns = getattr(loader, "config_patterns", None)
    if patterns is not None and MLFLOW_CONFIG_KEY not in patterns:
        patterns[MLFLOW_CONFIG_KEY] = list(MLFLOW_CONFIG_PATTERNS)
    try:
        config = loader[MLFLOW_CONFIG_KEY] or {}
        uri = (config.get("server") or {}).get("mlflow_tracking_uri")
    except Exception:  # no mlflow.yml, or one kedro-mlflow's resolvers must read first
        return None
    if not uri:
        return None
    return resolve_tracking_uri(str(uri), Path(context.project_path))


def resolve_tracking_uri(uri: str, project_path: Path) -> str:
    """A tracking URI of ``mlflow.yml`` as kedro-mlflow reads it: a path becomes a ``file://`` URI,
    anchored at ``project_path`` when relative; ``databricks`` and URIs stay as they are."""
    from urllib.parse import urlparse

    if uri in ("databricks", "databricks-uc"):
        return uri
    if PurePath(uri).is_absolute():
        return Path(uri).as_uri()
    if not urlparse(uri).scheme:
        return (project_path / uri).as_uri()
    return uri


mlflow_azureml_hook = MlflowAzureMLHook()

__all__ = [
    "JOB_NAME_VARIABLE",
    "MLFLOW_EXPERIMENT_VARIABLE",
    "RUN_ID_VARIABLE",
    "MlflowAzureMLHook",
    "mlflow_azureml_hook",
]
