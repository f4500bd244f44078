"""``jobs.<job>.grouping``: how a job's Kedro nodes are grouped into Azure ML steps.

Every step pays for a container start, an image pull and its mounts; grouping nodes into fewer
steps saves those, and the data between two nodes of one step stays in memory. The strategies
are applied by ``kedro_azureml_deploy.compiler.grouping``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from kedro_azureml_deploy.config.strict_model import StrictModel

#: The Kedro tag that puts a node into step ``<name>`` with ``grouping: tags``.
STEP_TAG_PREFIX = "step."

Strategy = Literal["none", "chains", "namespaces", "tags"]


class GroupingConfig(StrictModel):
    """How nodes are grouped into steps. Written as the strategy alone (`grouping: chains`), or
    as a mapping when nodes outside any group should follow chains
    (`grouping: {by: tags, ungrouped: chains}`)."""

    by: Strategy = Field(
        default="none",
        description="`none`: one step per node. `chains`: each maximal linear chain of nodes "
        "(a node whose only consumer has it as its only producer) is one step, so no "
        "parallelism is lost. `namespaces`: the nodes of one top-level Kedro namespace are one "
        f"step. `tags`: the nodes tagged `{STEP_TAG_PREFIX}<name>` are the step `<name>`.",
    )
    ungrouped: Literal["alone", "chains"] = Field(
        default="alone",
        description="With `namespaces` or `tags`, what the nodes outside any namespace or step "
        "tag do: `alone` (one step each) or `chains` (grouped as `by: chains` groups them).",
    )

    @model_validator(mode="after")
    def _ungrouped_needs_groups(self) -> GroupingConfig:
        if self.ungrouped != "alone" and self.by not in ("namespaces", "tags"):
            raise ValueError(
                f"`ungrouped: {self.ungrouped}` applies to `by: namespaces` or `by: tags`; with "
                f"`by: {self.by}` every node is already grouped that way: remove `ungrouped`"
            )
        return self

    def label(self) -> str:
        """The strategy as the plan shows it: ``chains``, ``tags``, ``tags+chains``..."""
        return self.by if self.ungrouped == "alone" else f"{self.by}+{self.ungrouped}"
