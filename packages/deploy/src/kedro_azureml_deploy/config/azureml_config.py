"""``AzureMLConfig``: the whole of ``azureml.yml``, with the references between its sections."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from kedro_azureml_deploy.config import names
from kedro_azureml_deploy.config.compute import ComputeConfig
from kedro_azureml_deploy.config.environment import EnvironmentConfig
from kedro_azureml_deploy.config.execution import ExecutionConfig
from kedro_azureml_deploy.config.job import JobConfig
from kedro_azureml_deploy.config.problems import (
    ConfigProblems,
    Problem,
    closest,
    did_you_mean,
    quoted_list,
)
from kedro_azureml_deploy.config.schedule import ScheduleConfig
from kedro_azureml_deploy.config.strict_model import StrictModel
from kedro_azureml_deploy.config.workspace import WorkspaceConfig
from kedro_azureml_deploy.errors import ConfigError

DEFAULT = "__default__"
_DEFAULT_ROLE = {
    "workspace": "the workspace jobs use unless they name another",
    "compute": "the compute of nodes that no tag routes elsewhere",
    "environment": "the environment of nodes that no tag routes elsewhere",
}


def _with_default(description: str) -> Any:
    return Field(description=description, json_schema_extra={"required": [DEFAULT]})


class AzureMLConfig(StrictModel):
    """The contents of `azureml.yml`: where jobs run (`workspace`, `compute`, `environment`),
    how steps get the code (`execution`), and the jobs with their schedules."""

    workspace: dict[str, WorkspaceConfig] = _with_default(
        "Azure ML workspaces by name; `__default__` is required."
    )
    compute: dict[str, ComputeConfig] = _with_default(
        "Compute clusters by name; `__default__` is required."
    )
    environment: dict[str, EnvironmentConfig] = _with_default(
        "Environments steps run in, by name; `__default__` is required."
    )
    execution: ExecutionConfig = Field(
        default_factory=ExecutionConfig,
        description="How steps get the project's code; code upload when left out.",
    )
    schedules: dict[Annotated[str, AfterValidator(names.schedule_name)], ScheduleConfig] = Field(
        default={},
        description="Schedules by name (letters, digits, `_` and `-`), for jobs to refer to.",
        json_schema_extra={"propertyNames": {"pattern": names.AZURE_ML_NAME_PATTERN}},
    )
    jobs: dict[Annotated[str, AfterValidator(names.job_name)], JobConfig] = Field(
        default={},
        description="Jobs by name (letters, digits, `_` and `-`): `kedro azureml run -j <name>` "
        "deploys one.",
        json_schema_extra={"propertyNames": {"pattern": names.AZURE_ML_NAME_PATTERN}},
    )

    @field_validator("workspace", "compute", "environment")
    @classmethod
    def _has_default_entry(cls, entries: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        if DEFAULT not in entries:
            section = info.field_name
            raise ValueError(
                f"no `{DEFAULT}` entry: add `{DEFAULT}` under `{section}`, "
                f"{_DEFAULT_ROLE[str(section)]}"
            )
        return entries

    @model_validator(mode="after")
    def _references_resolve(self) -> AzureMLConfig:
        problems = [
            *self._dangling_references(),
            *_tags_claimed_twice("compute", self.compute),
            *_tags_claimed_twice("environment", self.environment),
            *self._environments_without_code(),
        ]
        if problems:
            raise ConfigProblems(problems)
        return self

    def _dangling_references(self) -> list[Problem]:
        problems = []
        for job_name, job in self.jobs.items():
            references = {
                "workspace": (job.workspace, self.workspace),
                "compute": (job.compute, self.compute),
                "environment": (job.environment, self.environment),
                "schedule": (job.schedule, self.schedules),
            }
            for key, (name, entries) in references.items():
                if isinstance(name, str) and name not in entries:
                    section = "schedules" if key == "schedule" else key
                    problems.append(
                        Problem(
                            ("jobs", job_name, key), _unknown_entry(key, name, section, entries)
                        )
                    )
        return problems

    def _environments_without_code(self) -> list[Problem]:
        if self.execution.mode != "image":
            return []
        return [
            Problem(
                ("environment", name, "name"),
                "execution.mode is `image`, but an Azure ML environment by name does not contain "
                "the project's code; give `image:` instead, an image with the project inside",
            )
            for name, entry in self.environment.items()
            if entry.name is not None
        ]

    def job(self, name: str | None) -> tuple[str, JobConfig]:
        """The job called ``name``, with its name; ``None`` picks the only job there is.

        Raises:
            ConfigError: no such job, or ``name`` is ``None`` and there is not exactly one job.
        """
        if name is None:
            if len(self.jobs) == 1:
                return next(iter(self.jobs.items()))
            if not self.jobs:
                raise ConfigError(
                    "azureml.yml defines no job: add one under `jobs` (`jobs: {default: {}}` runs "
                    "the whole `__default__` pipeline)"
                )
            raise ConfigError(
                f"azureml.yml defines {len(self.jobs)} jobs, {quoted_list(self.jobs)}: choose "
                "one with `-j <job>`"
            )
        if name not in self.jobs:
            hint = did_you_mean(name, self.jobs)
            defined = f"defines {quoted_list(self.jobs)}" if self.jobs else "defines no job"
            raise ConfigError(f"unknown job `{name}`{hint or '.'} azureml.yml {defined}")
        return name, self.jobs[name]

    def require_schedule(self, name: str) -> ScheduleConfig:
        """The schedule of job ``name``, which must have one (``kedro azureml schedule``).

        Raises:
            ConfigError: no such job, or it has no schedule.
        """
        _, job = self.job(name)
        schedule = self.schedule_of(job)
        if schedule is None:
            raise ConfigError(
                f"job `{name}` has no schedule: add `schedule:` under jobs.{name} in azureml.yml "
                "(the name of an entry of `schedules`, or a `cron` or `recurrence` in place)"
            )
        return schedule

    def schedule_of(self, job: JobConfig) -> ScheduleConfig | None:
        """The schedule of ``job``: the entry of ``schedules`` it names, the one it holds, or
        ``None``."""
        if isinstance(job.schedule, str):
            return self.schedules[job.schedule]
        return job.schedule


def _unknown_entry(key: str, name: str, section: str, entries: Mapping[str, Any]) -> str:
    """What to say about ``name``, a reference to an entry that ``section`` does not have."""
    match = closest(name, entries)
    if match is not None:
        return (
            f"unknown {key} `{name}`; did you mean `{match}`? Otherwise add `{name}` under "
            f"`{section}`"
        )
    if entries:
        return (
            f"unknown {key} `{name}`: `{section}` defines {quoted_list(entries)}. Name one of "
            f"them, or add `{name}` there"
        )
    return f"unknown {key} `{name}`: `{section}` defines none. Add `{name}` under `{section}`"


def _tags_claimed_twice(section: str, entries: Mapping[str, Any]) -> list[Problem]:
    """A node tag routes a node to one entry of ``section``: a second claim is an error."""
    owners: dict[str, str] = {}
    problems = []
    for name, entry in entries.items():
        for index, tag in enumerate(entry.tags):
            owner = owners.setdefault(tag, name)
            if owner != name:
                problems.append(
                    Problem(
                        (section, name, "tags", index),
                        f"tag `{tag}` is already routed to {section} `{owner}`; a node tag can "
                        f"route to one {section} entry only",
                    )
                )
    return problems
