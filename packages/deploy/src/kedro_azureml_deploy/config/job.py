"""``jobs``: what ``kedro azureml compile/run/schedule -j <job>`` deploys, and how."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from kedro_azureml_deploy.config import names
from kedro_azureml_deploy.config.grouping import GroupingConfig, Strategy
from kedro_azureml_deploy.config.identity import IdentityReference
from kedro_azureml_deploy.config.notifications import NotificationsConfig
from kedro_azureml_deploy.config.schedule import ScheduleConfig
from kedro_azureml_deploy.config.strict_model import StrictModel

_DURATION = re.compile(r"(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")
_SECONDS_PER_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def _seconds(value: Any) -> Any:
    """A duration in seconds from ``"90s"``, ``"30m"``, ``"2h"``, ``"1d"``, combinations such
    as ``"1h30m"`` or digits (``"3600"``); anything else is left for the (strict) integer
    validation, so ``true`` or ``1e20`` are refused, not read as a number of seconds."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        raise ValueError(
            f"`{value}` is not a duration: give seconds (`3600`) or a duration such as `90s`, "
            "`30m`, `2h` or `1h30m`"
        )
    return sum(_SECONDS_PER_UNIT[unit] * int(n) for unit, n in match.groupdict().items() if n)


#: The longest a step can run. Azure ML's "Manage and increase quotas and limits" page
#: (MicrosoftDocs/azure-ai-docs, articles/machine-learning/how-to-manage-quotas.md) gives a job
#: lifetime of 21 days on Azure ML compute (AmlCompute), the clusters steps run on, and a maximum
#: run time of 30 days for any run: a step timeout above 21 days would never take effect.
MAX_TIMEOUT_SECONDS = 21 * 86400


def _at_most_the_longest_job(seconds: int) -> int:
    if seconds > MAX_TIMEOUT_SECONDS:
        raise ValueError(
            f"{seconds} s is longer than Azure ML lets a job on a compute cluster run, 21 days "
            f"({MAX_TIMEOUT_SECONDS} s); give at most `21d`, or leave `timeout` out"
        )
    return seconds


def _schedule_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "schedule name"
    if isinstance(value, dict | ScheduleConfig):
        return "inline schedule"
    return None


def _grouping_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "strategy"
    if isinstance(value, dict | GroupingConfig):
        return "grouping"
    return None


GroupingReference = Annotated[
    Annotated[Strategy, Tag("strategy")] | Annotated[GroupingConfig, Tag("grouping")],
    Discriminator(
        _grouping_kind,
        custom_error_type="grouping_type",
        custom_error_message="expected `none`, `chains`, `namespaces` or `tags`, or a mapping "
        "with `by` and `ungrouped`",
    ),
]
ScheduleReference = Annotated[
    Annotated[str, Tag("schedule name")] | Annotated[ScheduleConfig, Tag("inline schedule")],
    Discriminator(
        _schedule_kind,
        custom_error_type="schedule_type",
        custom_error_message="expected the name of an entry under `schedules`, or a schedule "
        "with `cron` or `recurrence`",
    ),
]
Seconds = Annotated[
    StrictInt,
    BeforeValidator(_seconds),
    Field(gt=0),
    AfterValidator(_at_most_the_longest_job),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "exclusiveMinimum": 0, "maximum": MAX_TIMEOUT_SECONDS},
                {"type": "string", "pattern": r"^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$", "minLength": 2},
            ]
        }
    ),
]


class PipelineFilter(StrictModel):
    """Which nodes a job runs: a registered pipeline, narrowed down by the filters of
    `kedro run`. Filters combine like Kedro's `Pipeline.filter`: a node must pass all of them."""

    pipeline_name: str = Field(
        default="__default__", min_length=1, description="The registered pipeline to run."
    )
    tags: list[str] | None = Field(
        default=None, min_length=1, description="Only nodes with at least one of these tags."
    )
    from_nodes: list[str] | None = Field(
        default=None, min_length=1, description="Only these nodes and the nodes downstream of them."
    )
    to_nodes: list[str] | None = Field(
        default=None, min_length=1, description="Only these nodes and the nodes upstream of them."
    )
    node_names: list[str] | None = Field(
        default=None, min_length=1, description="Only the nodes with these names."
    )
    from_inputs: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Only the nodes downstream of these datasets.",
    )
    to_outputs: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Only the nodes needed to produce these datasets.",
    )
    node_namespaces: list[str] | None = Field(
        default=None, min_length=1, description="Only the nodes in these namespaces."
    )

    def filter_kwargs(self) -> dict[str, list[str]]:
        """The filters that are set, as keyword arguments of Kedro's ``Pipeline.filter``."""
        names = (
            "tags",
            "from_nodes",
            "to_nodes",
            "node_names",
            "from_inputs",
            "to_outputs",
            "node_namespaces",
        )
        return {name: value for name in names if (value := getattr(self, name)) is not None}


class JobConfig(StrictModel):
    """A job: the nodes it runs, where, and with which settings of the Azure ML pipeline job."""

    pipeline: PipelineFilter = Field(
        default_factory=PipelineFilter,
        description="The nodes the job runs; the whole `__default__` pipeline when left out.",
    )
    experiment_name: Annotated[str, AfterValidator(names.experiment_name)] | None = Field(
        default=None,
        description="The Azure ML experiment the job's runs are grouped under; the job's name "
        "when left out.",
    )
    display_name: str | None = Field(
        default=None, description="The run's name in Azure ML studio; the job's name when left out."
    )
    description: str | None = Field(default=None, description="The run's description.")
    tags: dict[str, str] = Field(
        default={}, description="Azure ML tags of the pipeline job, a mapping of strings."
    )
    workspace: str = Field(
        default="__default__", description="The entry of `workspace` the job is submitted to."
    )
    compute: str | None = Field(
        default=None,
        description="The entry of `compute` for nodes no tag routes elsewhere; "
        "`__default__` when left out.",
    )
    environment: str | None = Field(
        default=None,
        description="The entry of `environment` for nodes no tag routes elsewhere; "
        "`__default__` when left out.",
    )
    schedule: ScheduleReference | None = Field(
        default=None,
        description="When `kedro azureml schedule` makes the job run: the name of an entry of "
        "`schedules`, or a schedule written in place.",
    )
    timeout: Seconds | None = Field(
        default=None,
        description="The longest a step may run before Azure ML stops it: seconds, or a duration "
        "such as `90s`, `30m`, `2h` or `1h30m`, at most 21 days (the longest Azure ML "
        "runs a job on a compute cluster). No limit when left out.",
    )
    retries: StrictInt = Field(
        default=0,
        ge=0,
        le=10,
        description="How many times a failed step runs again (0-10) before it counts as failed.",
    )
    env_vars: dict[Annotated[str, AfterValidator(names.env_var_name)], str] = Field(
        default={}, description="Environment variables of every step, a mapping of strings."
    )
    identity: IdentityReference | None = Field(
        default=None,
        description="The identity the job and its steps act as on Azure: `managed` (the "
        "compute's managed identity), `user_identity` (the identity of whoever submits the job), "
        "or `{client_id: <GUID>}` (a user-assigned managed identity attached to the compute, also "
        "given to each step as `AZURE_CLIENT_ID`). Azure ML's default (its own token) when left "
        "out.",
    )
    notifications: NotificationsConfig | None = Field(
        default=None,
        description="Emails Azure ML sends when a run of the job ends: `emails` (who) and `on` "
        "(`failed`, `completed`, `canceled`; `[failed]` when left out). No email when left out.",
    )
    continue_on_step_failure: StrictBool = Field(
        default=False,
        description="Keep running the steps that do not depend on a failed step.",
    )
    force_rerun: StrictBool = Field(
        default=False,
        description="Run every step even when Azure ML holds outputs it could reuse.",
    )
    step_reuse: StrictBool = Field(
        default=False,
        description="Let Azure ML reuse a step's outputs from an earlier run when its code, "
        "inputs and settings are unchanged, and `run --local` reuse those of an earlier local run "
        "when the step's fingerprint is unchanged. Off by default: a node may read data Azure ML "
        "cannot see change.",
    )

    grouping: GroupingReference = Field(
        default="none",
        validate_default=True,
        description="How the job's nodes are grouped into steps (each step is one container "
        "start on Azure ML): `none` (one step per node), `chains`, `namespaces` or `tags`, or a "
        "mapping with `by` and `ungrouped`. `kedro azureml plan` shows the steps it makes.",
    )

    @field_validator("grouping", mode="after")
    @classmethod
    def _grouping_config(cls, value: Strategy | GroupingConfig) -> GroupingConfig:
        return value if isinstance(value, GroupingConfig) else GroupingConfig(by=value)

    @model_validator(mode="after")
    def _reuse_or_rerun(self) -> JobConfig:
        if self.force_rerun and self.step_reuse:
            raise ValueError(
                "`force_rerun: true` turns `step_reuse: true` off; keep only one of them"
            )
        return self
