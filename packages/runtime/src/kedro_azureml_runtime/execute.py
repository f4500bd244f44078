"""``kedro azureml execute``: run node(s) of a Kedro pipeline inside one Azure ML step.

A full ``KedroSession`` runs them, so every hook of ``settings.py`` and of installed plugins fires as
in ``kedro run --nodes``; ``AzurePipelinesRunner`` connects the node's datasets to the folders Azure
ML mounted for the step. Parameters go into the catalog with the copy mode Kedro would infer, but
without importing pandas, NumPy and ibis to infer it (``parameter_datasets``), and a catalog
without interpolations is read without OmegaConf's round trip (``catalog_config``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from difflib import get_close_matches
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml_runtime.catalog_config import plain_catalog_reading
from kedro_azureml_runtime.errors import ExecuteError, runtime_error_behind
from kedro_azureml_runtime.parameter_datasets import explicit_parameter_copy_mode
from kedro_azureml_runtime.runner import AzurePipelinesRunner

if TYPE_CHECKING:
    from kedro.pipeline import Pipeline

logger = logging.getLogger(__name__)


def execute_step(
    *,
    project_path: Path,
    env: str | None,
    pipeline: str,
    nodes: Sequence[str],
    inputs: Mapping[str, str],
    outputs: Mapping[str, str],
    params: Mapping[str, Any] | None = None,
    load_versions: Mapping[str, str] | None = None,
    retries: int = 0,
) -> dict[str, Any]:
    """Run ``nodes`` of registered pipeline ``pipeline`` with a full ``KedroSession``.

    Arguments are checked before anything runs or is written: an unknown pipeline or node, an input
    mount that does not exist, or a mount for a dataset the nodes do not use raise ``ExecuteError``.

    Args:
        project_path: the Kedro project's root folder (bootstrapped by the caller, as the Kedro CLI
            does).
        env: the Kedro configuration environment.
        pipeline: the registered pipeline the nodes belong to.
        nodes: names of the nodes to run; several run in topological order.
        inputs: dataset name to the folder mounted for it as an input.
        outputs: dataset name to the folder mounted for it as an output.
        params: runtime parameters, as ``kedro run --params``.
        load_versions: dataset name to the version to load, as ``kedro run --load-versions``.
        retries: how many more times to run the nodes when they fail. Azure ML command steps have
            no retry setting, so the step retries itself; each attempt is a new ``KedroSession``
            (hooks fire again, outputs are overwritten).

    Returns:
        What ``KedroSession.run`` returns: the free outputs of the nodes.
    """
    env = step_env(project_path, env)
    selected = select_nodes(pipeline, nodes)
    check_mounts(selected, inputs, outputs)
    for folder in outputs.values():
        Path(folder).mkdir(parents=True, exist_ok=True)

    attempt = 1
    while True:
        try:
            return _run_once(
                project_path, env, pipeline, nodes, inputs, outputs, params, load_versions
            )
        except ExecuteError:
            raise
        except Exception as exc:
            # A user error met while Kedro builds the session or the catalog (a Key Vault secret
            # that cannot be read): the same on every attempt, and said in one line.
            user_error = runtime_error_behind(exc)
            if user_error is not None:
                raise user_error from None
            if attempt > retries:
                raise
            logger.warning(
                "Attempt %d of %d failed (%s: %s); running the step again.",
                attempt,
                retries + 1,
                type(exc).__name__,
                exc,
            )
            attempt += 1


def _run_once(
    project_path: Path,
    env: str | None,
    pipeline: str,
    nodes: Sequence[str],
    inputs: Mapping[str, str],
    outputs: Mapping[str, str],
    params: Mapping[str, Any] | None,
    load_versions: Mapping[str, str] | None,
) -> dict[str, Any]:
    from kedro.framework.session import KedroSession

    runner = AzurePipelinesRunner(inputs=inputs, outputs=outputs)
    with (
        explicit_parameter_copy_mode(),
        plain_catalog_reading(),
        KedroSession.create(
            project_path=project_path, env=env, runtime_params=dict(params or {}) or None
        ) as session,
    ):
        return session.run(
            **pipeline_selection(session, pipeline),
            node_names=list(nodes),
            runner=runner,
            load_versions=dict(load_versions or {}) or None,
        )


def pipeline_selection(session: Any, pipeline: str) -> dict[str, Any]:
    """The keyword that makes ``session.run`` run registered pipeline ``pipeline``.

    ``KedroSession.run`` takes ``pipeline_names`` from Kedro 1.2 on, which deprecates
    ``pipeline_name``, the only keyword Kedro 1.0 has.
    """
    if "pipeline_names" in inspect.signature(session.run).parameters:
        return {"pipeline_names": [pipeline]}
    return {"pipeline_name": pipeline}


def step_env(project_path: Path, env: str | None) -> str | None:
    """The Kedro environment a step can run with.

    ``conf/local`` holds credentials and is never part of a step's code, yet it is Kedro's default
    run environment: when it is missing the step runs with ``conf/base`` alone instead of failing
    with ``MissingConfigException``. Any other missing environment is an error.
    """
    from kedro.framework.project import settings

    if env is None or env == "base":
        return env
    conf_source = Path(project_path) / settings.CONF_SOURCE
    if (conf_source / env).is_dir() or not conf_source.is_dir():
        return env
    if env == "local":
        logger.warning(
            "conf/local is not in this step's code (it never ships: it holds credentials); running "
            "with conf/base only. Give steps settings through environment variables."
        )
        return "base"
    raise ExecuteError(
        f"Kedro environment {env!r} has no folder {settings.CONF_SOURCE}/{env} in this step's "
        "code: ship it (check .amlignore), or compile the job with another -e/--env."
    )


def select_nodes(pipeline: str, nodes: Sequence[str]) -> Pipeline:
    """The part of registered pipeline ``pipeline`` made of ``nodes``, checking every name."""
    from kedro.framework.project import pipelines

    set_requested = getattr(pipelines, "set_requested", None)  # Kedro >= 1.5 loads pipelines lazily
    if set_requested is not None:
        set_requested([pipeline])
    try:
        registered = pipelines[pipeline]
    except KeyError:
        if set_requested is not None:
            set_requested(None)
        raise ExecuteError(
            f"pipeline {pipeline!r} is not registered{_did_you_mean(pipeline, list(pipelines))}: "
            "check --pipeline against register_pipelines() in pipeline_registry.py."
        ) from None
    if not nodes:
        raise ExecuteError("no node given: pass --node NAME (repeat it for several nodes).")
    known = {node.name for node in registered.nodes}
    for name in nodes:
        if name not in known:
            raise ExecuteError(
                f"node {name!r} is not in pipeline {pipeline!r}{_did_you_mean(name, known)}: "
                "recompile the job after renaming nodes (`kedro azureml compile`)."
            )
    # only_nodes, not filter(node_names=...): filter first copies the whole registered pipeline
    # (a topological sort of every node), which session.run does again.
    return registered.only_nodes(*nodes)


def check_mounts(selected: Pipeline, inputs: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    """Every mount names a dataset the nodes use in that direction; input folders exist."""
    node_names = ", ".join(sorted(node.name for node in selected.nodes))
    reads, writes = selected.inputs(), selected.all_outputs()
    for name, folder in inputs.items():
        if name not in reads:
            raise ExecuteError(
                f"--az-input {name}: node(s) {node_names} do not read {name!r}"
                f"{_did_you_mean(name, reads)}; inputs they read: {', '.join(sorted(reads))}."
            )
        if not Path(folder).exists():
            raise ExecuteError(f"--az-input {name}: the mounted path {folder} does not exist.")
    for name, folder in outputs.items():
        if name not in writes:
            raise ExecuteError(
                f"--az-output {name}: node(s) {node_names} do not write {name!r}"
                f"{_did_you_mean(name, writes)}; outputs they write: {', '.join(sorted(writes))}."
            )
        if Path(folder).exists() and not Path(folder).is_dir():
            raise ExecuteError(f"--az-output {name}: {folder} exists and is not a folder.")


def _did_you_mean(name: str, candidates: Any) -> str:
    matches = get_close_matches(name, sorted(candidates), n=3)
    return f" (did you mean {' or '.join(repr(match) for match in matches)}?)" if matches else ""
