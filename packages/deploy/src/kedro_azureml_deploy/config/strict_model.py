"""The base of every ``azureml.yml`` model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A section of ``azureml.yml``: its fields mirror the YAML keys one to one, an unknown key is
    an error (a typo never passes silently) and a loaded value cannot be changed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
