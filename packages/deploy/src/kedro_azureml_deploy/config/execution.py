"""``execution``: how a step gets the project's code, uploaded with the job or baked in an image."""

from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, model_validator

from kedro_azureml_deploy.config.problems import ConfigProblems, Problem
from kedro_azureml_deploy.config.strict_model import StrictModel


def _project_relative_directory(value: str) -> str:
    if "\\" in value:
        raise ValueError(f"`{value}` contains `\\`; write the path with forward slashes")
    path = PurePosixPath(value)
    if path.is_absolute() or PureWindowsPath(value).drive:
        raise ValueError(
            f"`{value}` is absolute; give a folder relative to the project, such as `.` or `src`"
        )
    if ".." in path.parts:
        raise ValueError(
            f"`{value}` leaves the project; give a folder inside it, such as `.` or `src`"
        )
    return path.as_posix()


def _absolute_image_directory(value: str) -> str:
    path = PurePosixPath(value)
    if not path.is_absolute() or ".." in path.parts:
        raise ValueError(
            f"`{value}` is not an absolute path inside the image; give one such as `/app`"
        )
    return path.as_posix()


class ExecutionConfig(StrictModel):
    """How steps get the project's code: uploaded with each job (`code_upload`, the default), or
    already inside the container image (`image`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"mode": {"const": "image"}}, "required": ["mode"]},
            "then": {"required": ["working_directory"], "not": {"required": ["code_directory"]}},
            "else": {"not": {"required": ["working_directory"]}},
        }
    )

    mode: Literal["code_upload", "image"] = Field(
        default="code_upload",
        description="`code_upload`: Azure ML uploads `code_directory` with each job and runs steps "
        "in it. `image`: the project is baked into every environment's image, at "
        "`working_directory`.",
    )
    code_directory: Annotated[str, AfterValidator(_project_relative_directory)] = Field(
        default=".",
        description="Code upload mode only: the folder uploaded with each job, relative to the "
        "project (files listed in its `.amlignore` are left out).",
    )
    working_directory: Annotated[str, AfterValidator(_absolute_image_directory)] | None = Field(
        default=None,
        description="Image mode only, and required there: the absolute path of the project inside "
        "the image, where steps run.",
    )

    @model_validator(mode="after")
    def _keys_fit_the_mode(self) -> ExecutionConfig:
        problems = []
        if self.mode == "image":
            if self.working_directory is None:
                problems.append(
                    Problem(
                        ("working_directory",),
                        "required in image mode: give the project's folder inside the image, "
                        "such as `/app`",
                    )
                )
            if "code_directory" in self.model_fields_set:
                problems.append(
                    Problem(
                        ("code_directory",),
                        "applies to code_upload mode only (in image mode the code is in the "
                        "image); remove it",
                    )
                )
        elif self.working_directory is not None:
            problems.append(
                Problem(
                    ("working_directory",),
                    "applies to image mode only (code_upload steps run in the uploaded code); "
                    "remove it or set `mode: image`",
                )
            )
        if problems:
            raise ConfigProblems(problems)
        return self
