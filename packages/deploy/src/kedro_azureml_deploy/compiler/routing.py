"""Which compute cluster and environment each node's step uses, from its Kedro tags."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from kedro_azureml_deploy.errors import CompileError


class Tagged(Protocol):
    tags: list[str]


def route_by_tags(
    *,
    node_name: str,
    node_tags: Iterable[str],
    entries: Mapping[str, Tagged],
    fallback: str,
    section: str,
) -> str:
    """The entry of ``entries`` whose ``tags`` match the node's tags, else ``fallback``.

    Raises:
        CompileError: two entries match the node (the message names node, entries and tags).
    """
    tags = set(node_tags)
    matches = sorted(name for name, entry in entries.items() if tags & set(entry.tags))
    if len(matches) > 1:
        detail = ", ".join(
            f"{name} (tags {sorted(tags & set(entries[name].tags))})" for name in matches
        )
        raise CompileError(
            f"node {node_name!r} matches several {section} entries by tag: {detail}. Keep one of "
            f"these tags on the node, or move the tags so one {section} entry claims it."
        )
    return matches[0] if matches else fallback
