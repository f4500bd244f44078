"""The models of ``conf/<env>/azureml.yml``, and how it is loaded and validated.

The file has six sections, each a model here: ``workspace`` (``WorkspaceConfig``, ``CloudConfig``),
``compute`` (``ComputeConfig``), ``environment`` (``EnvironmentConfig``), ``execution``
(``ExecutionConfig``), ``schedules`` (``ScheduleConfig``, ``CronSchedule``, ``RecurrenceSchedule``,
``RecurrencePattern``) and ``jobs`` (``JobConfig``, ``PipelineFilter``). ``AzureMLConfig`` is the
whole file; ``load_config`` reads it through the project's Kedro config loader.

The names below are imported on first use: ``kedro azureml --help`` loads the ``schema`` command
from this package, and should not pay for pydantic and the models to do so.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kedro_azureml_deploy.config.azureml_config import AzureMLConfig
    from kedro_azureml_deploy.config.compute import ComputeConfig
    from kedro_azureml_deploy.config.environment import EnvironmentConfig
    from kedro_azureml_deploy.config.execution import ExecutionConfig
    from kedro_azureml_deploy.config.job import JobConfig, PipelineFilter
    from kedro_azureml_deploy.config.json_schema import config_json_schema
    from kedro_azureml_deploy.config.loader import AZUREML_CONFIG_KEY, load_config, parse_config
    from kedro_azureml_deploy.config.schedule import (
        CronSchedule,
        RecurrencePattern,
        RecurrenceSchedule,
        ScheduleConfig,
    )
    from kedro_azureml_deploy.config.workspace import CloudConfig, WorkspaceConfig
    from kedro_azureml_deploy.errors import ConfigError

__all__ = [
    "AZUREML_CONFIG_KEY",
    "AzureMLConfig",
    "CloudConfig",
    "ComputeConfig",
    "ConfigError",
    "CronSchedule",
    "EnvironmentConfig",
    "ExecutionConfig",
    "JobConfig",
    "PipelineFilter",
    "RecurrencePattern",
    "RecurrenceSchedule",
    "ScheduleConfig",
    "WorkspaceConfig",
    "config_json_schema",
    "load_config",
    "parse_config",
]

_MODULE_OF = {
    "AZUREML_CONFIG_KEY": "kedro_azureml_deploy.config.loader",
    "AzureMLConfig": "kedro_azureml_deploy.config.azureml_config",
    "CloudConfig": "kedro_azureml_deploy.config.workspace",
    "ComputeConfig": "kedro_azureml_deploy.config.compute",
    "ConfigError": "kedro_azureml_deploy.errors",
    "CronSchedule": "kedro_azureml_deploy.config.schedule",
    "EnvironmentConfig": "kedro_azureml_deploy.config.environment",
    "ExecutionConfig": "kedro_azureml_deploy.config.execution",
    "JobConfig": "kedro_azureml_deploy.config.job",
    "PipelineFilter": "kedro_azureml_deploy.config.job",
    "RecurrencePattern": "kedro_azureml_deploy.config.schedule",
    "RecurrenceSchedule": "kedro_azureml_deploy.config.schedule",
    "ScheduleConfig": "kedro_azureml_deploy.config.schedule",
    "WorkspaceConfig": "kedro_azureml_deploy.config.workspace",
    "config_json_schema": "kedro_azureml_deploy.config.json_schema",
    "load_config": "kedro_azureml_deploy.config.loader",
    "parse_config": "kedro_azureml_deploy.config.loader",
}


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value
