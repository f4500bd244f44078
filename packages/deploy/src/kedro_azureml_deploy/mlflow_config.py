"""The project's MLflow configuration: kedro-mlflow's ``mlflow.yml``, read as Kedro reads it.

Whether a project uses MLflow is whether it has ``mlflow.yml``: the compiler then gives every step
the variables the runtime's MLflow hook reads (see ``project_jobs``), and a local replay opens
MLflow runs (``replay.mlflow_runs``). ``mlflow`` itself is never imported here.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml_runtime.hooks.mlflow_hook import (
    MLFLOW_CONFIG_KEY,
    MLFLOW_CONFIG_PATTERNS,
    resolve_tracking_uri,
)

if TYPE_CHECKING:
    from kedro.config import AbstractConfigLoader

    from kedro_azureml_deploy.project import KedroProject

logger = logging.getLogger(__name__)

#: The files Kedro's ``OmegaConfigLoader`` reads.
CONFIG_SUFFIXES = {".yml", ".yaml", ".json"}
#: Where kedro-mlflow logs when neither ``mlflow.yml`` nor ``MLFLOW_TRACKING_URI`` says.
KEDRO_MLFLOW_DEFAULT_URI = "mlruns"


def read_mlflow_config(config_loader: AbstractConfigLoader) -> dict[str, Any] | None:
    """kedro-mlflow's ``mlflow.yml`` as ``config_loader`` reads it, ``None`` when the project has
    none (it does not use MLflow).

    A file that cannot be read here (an interpolation only kedro-mlflow's resolvers understand,
    when kedro-mlflow is not installed) counts as present and empty.
    """
    from kedro.config import MissingConfigException

    patterns = getattr(config_loader, "config_patterns", None)
    if patterns is not None and MLFLOW_CONFIG_KEY not in patterns:
        patterns[MLFLOW_CONFIG_KEY] = list(MLFLOW_CONFIG_PATTERNS)
    present = _has_mlflow_files(config_loader)
    if present is False:
        return None
    try:
        config = dict(config_loader[MLFLOW_CONFIG_KEY] or {})
    except (KeyError, MissingConfigException):
        return None
    except Exception as exc:  # a resolver or syntax problem: the file is there
        logger.warning("mlflow.yml cannot be read (%s); using kedro-mlflow's defaults.", exc)
        return {}
    # Where the files cannot be listed (a remote conf_source), an empty result means none: Kedro's
    # loader returns {} instead of raising when the run environment is the base one.
    if present is None and not config:
        return None
    return config


def _has_mlflow_files(config_loader: AbstractConfigLoader) -> bool | None:
    """Whether a local ``conf_source`` holds a file matching kedro-mlflow's patterns in the base
    or the run environment; ``None`` when this cannot be told (a remote or archived source)."""
    conf_source = getattr(config_loader, "conf_source", None)
    if conf_source is None or not Path(str(conf_source)).is_dir():
        return None
    run_env = getattr(config_loader, "env", None) or getattr(config_loader, "default_run_env", None)
    base_env = getattr(config_loader, "base_env", None)
    patterns = getattr(config_loader, "config_patterns", {}).get(
        MLFLOW_CONFIG_KEY, MLFLOW_CONFIG_PATTERNS
    )
    for env in {name for name in (base_env, run_env) if name}:
        folder = Path(str(conf_source)) / env
        for pattern in patterns:
            for path in folder.glob(pattern):
                relative = path.relative_to(folder).parts
                if (
                    path.suffix in CONFIG_SUFFIXES
                    and path.is_file()
                    and not any(part.startswith(".") for part in relative)
                ):
                    return True
    return False


def mlflow_experiment_name(config: Mapping[str, Any]) -> str | None:
    """``tracking.experiment.name`` of an ``mlflow.yml``, if set."""
    name = ((config.get("tracking") or {}).get("experiment") or {}).get("name")
    return str(name) if name else None


def mlflow_experiment(
    project: KedroProject, job_name: str, experiment_name: str | None
) -> str | None:
    """The MLflow experiment of job ``job_name`` when the project uses MLflow (it has
    kedro-mlflow's ``mlflow.yml``), else ``None``.

    The job's ``experiment_name`` wins, then ``tracking.experiment.name`` of ``mlflow.yml``, then
    the job's name (the experiment Azure ML files the job under when it has no
    ``experiment_name``).
    """
    config = read_mlflow_config(project.context.config_loader)
    if config is None:
        return None
    return experiment_name or mlflow_experiment_name(config) or job_name


def project_tracking_uri(project_path: Path, env: str | None) -> str:
    """The tracking URI kedro-mlflow would use in a ``kedro run --env env`` of the project."""
    uri = None
    config = read_mlflow_config(_config_loader(project_path, env))
    if config:
        uri = (config.get("server") or {}).get("mlflow_tracking_uri")
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or KEDRO_MLFLOW_DEFAULT_URI
    return resolve_tracking_uri(str(uri), project_path)


def _config_loader(project_path: Path, env: str | None) -> AbstractConfigLoader:
    """The project's config loader, as its settings make it (Kedro's defaults when the project is
    not bootstrapped in this process)."""
    from kedro.framework.project import settings

    conf_source = project_path / settings.CONF_SOURCE
    return settings.CONFIG_LOADER_CLASS(
        conf_source=str(conf_source), env=env, **settings.CONFIG_LOADER_ARGS
    )
