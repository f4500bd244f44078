"""Azure ML names for Kedro names: steps (``^[a-z_][a-z0-9_]*$``) and input/output ports.

Kedro allows dots, dashes, spaces and capitals where Azure ML does not. Two Kedro names that
sanitize to the same Azure name get distinct names (a numeric suffix), never a silent overwrite.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_LENGTH = 200
_INVALID = re.compile(r"[^a-z0-9_]+")


def sanitize(name: str) -> str:
    """``name`` lower-cased, with runs of other characters replaced by ``_``, not starting with a
    digit."""
    cleaned = _INVALID.sub("_", name.lower()).strip("_") or "x"
    if cleaned[0].isdigit():
        cleaned = f"_{cleaned}"
    return cleaned[:MAX_LENGTH]


def unique_names(names: Iterable[str]) -> dict[str, str]:
    """A distinct sanitized name for each of ``names`` (in order; names must be distinct).

    Names that sanitize to the same value keep it in order of appearance for the first and get
    ``_2``, ``_3``… for the next ones, skipping suffixes another name already produces.
    """
    names = list(names)
    return dict(zip(names, distinct_names(names), strict=True))


def distinct_names(names: Iterable[str]) -> list[str]:
    """``unique_names`` for a sequence that may repeat a name: one distinct sanitized name per
    position."""
    names = list(names)
    taken = {sanitize(name) for name in names}
    result: list[str] = []
    used: set[str] = set()
    for name in names:
        candidate = base = sanitize(name)
        counter = 1
        while candidate in used or (candidate != base and candidate in taken):
            counter += 1
            candidate = f"{base[: MAX_LENGTH - len(str(counter)) - 1]}_{counter}"
        used.add(candidate)
        result.append(candidate)
    return result
