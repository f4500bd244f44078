"""Reading ``azureml.yml`` through the project's Kedro config loader, and validating it.

Going through the config loader gives ``azureml.yml`` what every Kedro config file has: the
environment layering (``conf/base`` overridden by ``conf/local`` or ``conf/<env>``), the OmegaConf
interpolations and the project's custom resolvers. Every error becomes one ``ConfigError`` with
one line per problem: ``<file>: <key path>: <what is wrong and how to fix it>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kedro_azureml_deploy.config.azureml_config import AzureMLConfig
from kedro_azureml_deploy.config.config_files import ConfigFiles
from kedro_azureml_deploy.config.problems import KeyPath, Problem, format_key_path, quoted_list
from kedro_azureml_deploy.config.validation_errors import validation_problems
from kedro_azureml_deploy.errors import ConfigError
from kedro_azureml_runtime.hooks.local_run_hook import AZUREML_CONFIG_KEY, AZUREML_CONFIG_PATTERNS

if TYPE_CHECKING:
    from kedro.config import AbstractConfigLoader

__all__ = ["AZUREML_CONFIG_KEY", "load_config", "parse_config"]

#: How an environment's ``azureml.yml`` overrides the base one, unless the project's settings say
#: otherwise (``CONFIG_LOADER_ARGS["merge_strategy"]``): key by key, so ``conf/prod`` can change one
#: job's experiment without repeating the whole ``jobs`` section.
MERGE_STRATEGY = "soft"


def load_config(
    config_loader: AbstractConfigLoader, *, conf_source: Path, env: str | None
) -> AzureMLConfig:
    """The project's ``azureml.yml``, read through its Kedro config loader and validated.

    Registers the ``azureml`` config pattern and its merge strategy on ``config_loader`` unless the
    project set them already.

    Args:
        config_loader: the project's config loader (``context.config_loader``).
        conf_source: the project's configuration folder, ``<project>/conf`` by default.
        env: the Kedro environment; the loader's own (``local`` by default) when ``None``.

    Raises:
        ConfigError: there is no ``azureml.yml``, or it is empty or invalid.
    """
    from kedro.config import MissingConfigException
    from omegaconf.errors import OmegaConfBaseException

    patterns = config_loader.config_patterns.setdefault(
        AZUREML_CONFIG_KEY, list(AZUREML_CONFIG_PATTERNS)
    )
    strategy = "destructive"  # Kedro's own default
    merge_strategy = getattr(config_loader, "merge_strategy", None)
    if isinstance(merge_strategy, dict):
        strategy = merge_strategy.setdefault(AZUREML_CONFIG_KEY, MERGE_STRATEGY)
    base_env = getattr(config_loader, "base_env", None) or "base"
    run_env = env or config_loader.env or getattr(config_loader, "default_run_env", None) or "local"
    conf_source = Path(conf_source)
    files = ConfigFiles.find(
        conf_source,
        base_env=base_env,
        run_env=run_env,
        patterns=patterns,
        whole_sections=strategy.lower() == "destructive",
    )
    files.check_syntax(list(AzureMLConfig.model_fields))
    try:
        data = config_loader[AZUREML_CONFIG_KEY]
    except MissingConfigException:
        folders = [f"{conf_source.name}/{name}" for name in dict.fromkeys((base_env, run_env))]
        missing = [folder for folder in folders if not (conf_source.parent / folder).is_dir()]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} is not a folder: create it, or choose another Kedro "
                "environment"
            ) from None
        raise ConfigError(
            f"no azureml.yml found in {' or '.join(folders)}: create conf/base/azureml.yml "
            "(`kedro azureml schema` gives its JSON Schema; the project template renders a "
            "complete one)"
        ) from None
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", "") or ""
        where = ", ".join(files.defining(tuple(key.split(".")))) if key else ", ".join(files.names)
        reason = str(getattr(exc, "msg", exc)).splitlines()[0]
        raise ConfigError(
            f"{where}: {key + ': ' if key else ''}{reason}; fix the `${{...}}` interpolation"
        ) from None
    except ValueError as exc:
        if not str(exc).startswith("Duplicate keys found"):
            raise
        raise ConfigError(
            f"{files.relative(str(exc))}: keep each top-level section in one file per environment"
        ) from None
    if not data:
        raise ConfigError(f"{', '.join(files.names)}: {_empty_file_message()}")
    return _validate(data, files.defining)


def parse_config(data: Any, *, source: str = "azureml.yml") -> AzureMLConfig:
    """Validate ``data``, the contents of an ``azureml.yml``.

    Args:
        data: the YAML file's contents, already loaded.
        source: the file name error messages give.

    Raises:
        ConfigError: ``data`` is empty or invalid.
    """
    if not data:
        raise ConfigError(f"{source}: {_empty_file_message()}")
    return _validate(data, lambda path: [source])


def _validate(data: Any, files_defining: Callable[[KeyPath], list[str]]) -> AzureMLConfig:
    if not isinstance(data, Mapping):
        sections = ", ".join(AzureMLConfig.model_fields)
        raise ConfigError(
            f"{', '.join(files_defining(()))}: expected a mapping of sections ({sections}) at "
            f"the top level, got a {type(data).__name__}"
        )
    try:
        return AzureMLConfig.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, data, AzureMLConfig)
        lines = [_line(p, files_defining(p.path)) for p in problems]
        predecessor = predecessor_format(data)
        if predecessor:
            lines.append(
                f"{', '.join(files_defining(()))}: written for {predecessor}: "
                "`kedro azureml init --force` "
                "writes ours with its workspace, cluster and image (yours kept as .orig), and the "
                "tutorial 'Migrate an existing project' maps the other keys."
            )
        raise ConfigError("\n".join(lines)) from None


def predecessor_format(data: Mapping[str, Any]) -> str | None:
    """The plugin an ``azureml.yml`` in another format was written for: kedro-azureml
    (getindata; an ``azure`` section) or kedro-azureml-pipeline (``execution.environment``)."""
    if isinstance(data.get("azure"), Mapping):
        return "kedro-azureml"
    execution = data.get("execution")
    if isinstance(execution, Mapping) and "environment" in execution:
        return "kedro-azureml-pipeline"
    return None


def _line(problem: Problem, files: list[str]) -> str:
    where = ", ".join(files)
    if problem.path:
        where += f": {format_key_path(problem.path)}"
    return f"{where}: {problem.message}"


def _empty_file_message() -> str:
    fields = AzureMLConfig.model_fields
    required = [name for name, field in fields.items() if field.is_required()]
    optional = [name for name, field in fields.items() if not field.is_required()]
    return (
        f"the file is empty. Add the sections {quoted_list(required)}, and {quoted_list(optional)} "
        "as needed (the project template renders a complete example)"
    )
