"""A Kedro project opened for deployment: its ``azureml.yml``, pipelines and catalog."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.errors import CompileError, ConfigError

if TYPE_CHECKING:
    from kedro.framework.context import KedroContext
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline

    from kedro_azureml_deploy.config import AzureMLConfig, JobConfig
    from kedro_azureml_deploy.snapshot.code_snapshot import CodeSnapshot


@dataclass
class KedroProject:
    """A bootstrapped Kedro project and its validated ``azureml.yml``.

    Attributes:
        path: the project's root folder.
        env: the Kedro environment the config, catalog and parameters were loaded with.
        config: the validated ``azureml.yml``.
        context: the project's ``KedroContext``.
    """

    path: Path
    env: str
    config: AzureMLConfig
    context: KedroContext
    _snapshots: dict[str, CodeSnapshot] = field(default_factory=dict, init=False, repr=False)

    def code_snapshot(self, code_directory: str) -> CodeSnapshot:
        """The code snapshot of ``code_directory`` (relative to the project), taken once for the
        opened project: ``doctor``, the dry run, the upload and the replay of one command all see
        the same files.

        Raises:
            SubmitError: the folder does not exist, or has nothing to upload.
        """
        if code_directory not in self._snapshots:
            from kedro_azureml_deploy.snapshot.code_snapshot import code_snapshot

            self._snapshots[code_directory] = code_snapshot(self.path, code_directory)
        return self._snapshots[code_directory]

    @cached_property
    def catalog(self) -> CatalogProtocol:
        """The project's catalog, made once (Kedro makes a new one each time it is asked).

        Raises:
            ConfigError: a catalog entry names credentials the environment does not define, or
                Kedro cannot read the catalog or the parameters (see :func:`kedro_config_errors`).
        """
        from kedro.framework.project import settings

        from kedro_azureml_runtime.parameter_datasets import with_explicit_parameter_copy_mode

        self._hand_catalog_config_to_kedro()
        # As `KedroSession.run` makes it (`context.catalog` would use Kedro's DataCatalog, not
        # the project's class), with parameters that do not import pandas.
        catalog_class = with_explicit_parameter_copy_mode(settings.DATA_CATALOG_CLASS)
        try:
            with kedro_config_errors(self.path, self.env):
                return self.context._get_catalog(catalog_class=catalog_class)
        except KeyError as exc:
            missing = re.search(r"Unable to find credentials '([^']+)'", str(exc))
            if not missing:
                raise
            raise ConfigError(
                f"a catalog entry uses credentials {missing[1]!r}, which conf/{self.env} does not "
                "define. Steps never get conf/local nor any credentials file (neither is "
                "uploaded or built into the image): give the dataset its secrets through "
                "environment variables, Azure Key Vault or the compute's managed identity (docs: "
                "'Migrate an existing project', section 'Secrets in steps')."
            ) from None

    @cached_property
    def catalog_config(self) -> dict[str, Any]:
        """The project's catalog configuration as Kedro reads it, read once: the catalog and the
        checks of ``doctor`` share it.

        Raises:
            ConfigError: Kedro cannot read it (see :func:`kedro_config_errors`).
            KeyError, MissingConfigException: the config loader has no catalog.
        """
        with kedro_config_errors(self.path, self.env):
            return dict(self.context.config_loader["catalog"])

    def _hand_catalog_config_to_kedro(self) -> None:
        """Set :attr:`catalog_config` on the context's config loader, which then returns it
        instead of reading the files again (``OmegaConfigLoader`` returns a key set on it as it
        is). Kedro turns its relative paths into absolute ones in place, hence the copy."""
        from kedro.config import MissingConfigException

        try:
            config = self.catalog_config
        except (KeyError, MissingConfigException):
            return  # Kedro reads it, and says what is wrong, as it makes the catalog
        self.context.config_loader["catalog"] = copy.deepcopy(config)

    @cached_property
    def configured_parameters(self) -> dict[str, Any]:
        """The parameters of ``conf/base`` and the environment, before ``--params`` overrides
        (empty when they cannot be read: the catalog reports that error)."""
        from kedro.framework.project import settings

        try:
            loader = settings.CONFIG_LOADER_CLASS(
                conf_source=str(self.path / settings.CONF_SOURCE),
                env=self.env,
                **settings.CONFIG_LOADER_ARGS,
            )
            return dict(loader["parameters"] or {})
        except Exception:  # reported, with the file, when the catalog is made
            return {}

    def pipeline_of(self, job_name: str, job: JobConfig) -> Pipeline:
        """The job's pipeline, filtered as its ``pipeline`` section says."""
        name = job.pipeline.pipeline_name
        registered = load_pipelines()
        if name not in registered:
            close = get_close_matches(name, list(registered), n=3)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise CompileError(
                f"job {job_name!r}: pipeline {name!r} is not registered{hint}; registered: "
                f"{', '.join(sorted(registered))}. Fix jobs.{job_name}.pipeline.pipeline_name."
            )
        try:
            return registered[name].filter(**job.pipeline.filter_kwargs())
        except ValueError as exc:
            raise CompileError(
                f"job {job_name!r}: its pipeline filters select nothing valid ({exc}). Fix "
                f"jobs.{job_name}.pipeline in azureml.yml."
            ) from None


def load_pipelines() -> dict[str, Pipeline]:
    """The project's registered pipelines (the project must be bootstrapped).

    Raises:
        CompileError: the project's own code fails to build them (``register_pipelines``, or a
            node Kedro refuses, such as one with an invalid name).
    """
    from kedro.framework.project import pipelines

    try:
        return dict(pipelines)
    except Exception as exc:  # the project's own code
        detail = str(exc).splitlines()[0] if str(exc) else "no details"
        raise CompileError(
            f"the project's pipelines cannot be loaded ({type(exc).__name__}: {detail}): fix "
            "pipeline_registry.py or the pipeline it names (`kedro registry list` shows the same "
            "error with its traceback)."
        ) from None


def open_project(
    project_path: Path, *, env: str, params: Mapping[str, Any] | None = None
) -> KedroProject:
    """Open the Kedro project at ``project_path`` (bootstrapped by the Kedro CLI or the caller).

    Raises:
        ConfigError: the environment does not exist, ``azureml.yml`` is missing or invalid, or
            Kedro cannot read the project's configuration (see :func:`kedro_config_errors`).
    """
    from kedro.config import MissingConfigException
    from kedro.framework.session import KedroSession

    from kedro_azureml_deploy.config import load_config

    try:
        with kedro_config_errors(project_path, env):
            session = KedroSession.create(
                project_path=project_path, env=env, runtime_params=dict(params or {}) or None
            )
            context = session.load_context()
    except MissingConfigException as exc:
        raise ConfigError(
            f"Kedro environment {env!r} cannot be loaded ({exc}). Pass an environment that has a "
            f"folder under conf/ with -e/--env."
        ) from None
    conf_source = Path(getattr(context.config_loader, "conf_source", project_path / "conf"))
    config = load_config(context.config_loader, conf_source=conf_source, env=env)
    load_pipelines()  # before anything reads the catalog, which loads them too
    return KedroProject(path=project_path, env=env, config=config, context=context)


@contextmanager
def kedro_config_errors(project_path: Path, env: str) -> Iterator[None]:
    """Turn the errors Kedro raises on a configuration it cannot read into one-line
    ``ConfigError``s that name what Kedro names: invalid YAML (file, line, position), an
    interpolation OmegaConf cannot resolve (the key and the entry holding it), duplicate keys, or
    a catalog entry Kedro cannot build. ``--verbose`` still shows Kedro's traceback (the cause).

    Inside, ``${azureml.keyvault:...}`` reads no secret and gives a placeholder: the deploy
    commands inspect the catalog and never load data, so compiling needs neither Key Vault nor a
    credential (the steps read the secrets).
    """
    import yaml
    from kedro.io import DatasetError
    from omegaconf.errors import OmegaConfBaseException

    from kedro_azureml_runtime.key_vault import secrets_left_unread

    try:
        with secrets_left_unread():
            yield
    except (yaml.YAMLError, OmegaConfBaseException, DatasetError) as exc:
        raise ConfigError(_config_error_message(exc, project_path, env)) from exc
    except ValueError as exc:
        if "Duplicate keys found" not in str(exc) and "Merging strategy" not in str(exc):
            raise
        raise ConfigError(_config_error_message(exc, project_path, env)) from exc


def _config_error_message(exc: Exception, project_path: Path, env: str) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    what = (lines[0] if lines else type(exc).__name__).rstrip(".")
    key = getattr(exc, "full_key", None)
    if key:
        what += f" (at {key})"
    root = str(project_path.resolve())
    what = what.replace(root + "/", "").replace(str(project_path) + "/", "")
    return (
        f"Kedro cannot read the project's configuration with environment {env!r}: "
        f"{type(exc).__name__}: {what}. Fix it in conf/ (kedro run fails the same way); "
        "--verbose shows Kedro's traceback."
    )
