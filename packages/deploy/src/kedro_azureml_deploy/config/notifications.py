"""``jobs.<job>.notifications``: who Azure ML emails when a run of the job ends, and on which
endings."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from kedro_azureml_deploy.config.strict_model import StrictModel

#: An email address as Azure ML's recipient list takes it: no space, no comma (the separator).
EMAIL_PATTERN = r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$"
#: The longest recipient list Azure ML takes: the addresses joined with commas.
MAX_EMAILS_LENGTH = 499

Ending = Literal["completed", "failed", "canceled"]


def email(value: str) -> str:
    if not re.fullmatch(EMAIL_PATTERN, value):
        raise ValueError(f"`{value}` is not an email address: give one such as `team@example.com`")
    return value


class NotificationsConfig(StrictModel):
    """The emails Azure ML sends when a run of the job ends."""

    emails: list[Annotated[str, AfterValidator(email)]] = Field(
        min_length=1,
        description="Who gets the emails: a list of addresses, at most 499 characters joined "
        "with commas (Azure ML's limit).",
        json_schema_extra={"items": {"type": "string", "pattern": EMAIL_PATTERN}},
    )
    on: list[Ending] = Field(
        default=["failed"],
        min_length=1,
        description="Which endings of a run send an email: `failed`, `completed`, `canceled`; "
        "`[failed]` when left out.",
    )

    @model_validator(mode="after")
    def _within_azure_limit(self) -> NotificationsConfig:
        length = len(",".join(self.emails))
        if length > MAX_EMAILS_LENGTH:
            raise ValueError(
                f"the addresses of `emails` make {length} characters joined with commas, more "
                f"than Azure ML's {MAX_EMAILS_LENGTH}: send to fewer addresses, or to a group "
                "address"
            )
        return self
