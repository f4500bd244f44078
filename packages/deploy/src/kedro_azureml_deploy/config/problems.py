"""What is wrong at a key path of ``azureml.yml``, as the validators of the models report it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from difflib import get_close_matches
from typing import Any, NamedTuple

#: A key path into ``azureml.yml``, its keys and list indexes: ``("jobs", "train", "tags", 0)``.
KeyPath = tuple[str | int, ...]


class Problem(NamedTuple):
    """One thing wrong with ``azureml.yml``.

    Attributes:
        path: where, relative to the model that found it.
        message: what is wrong and how to fix it, e.g. "unknown schedule `nighty`; did you mean
            `nightly`? Otherwise add `nighty` under `schedules`".
    """

    path: KeyPath
    message: str


class ConfigProblems(ValueError):
    """Raised by a model validator that found problems below the model it validates.

    A plain ``ValueError`` would point at the model itself; this one carries a key path per problem,
    so the error message points at the key to fix (``jobs.train.schedule``, not the whole file).
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "\n".join(f"{format_key_path(p.path)}: {p.message}" for p in self.problems)
        )


def format_key_path(path: KeyPath) -> str:
    """``("jobs", "train", "tags", 0)`` as ``jobs.train.tags[0]``, the way a reader finds it."""
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else f".{segment}" if text else segment
    return text


def has_key(node: Any, segment: str | int) -> bool:
    """Whether ``node``, a mapping or a list loaded from YAML, has the key or index ``segment``."""
    if isinstance(node, Mapping):
        return segment in node
    return isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node)


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice ``word`` is most likely a misspelling of, if any is close enough."""
    matches = get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean `x`?"`` for the choice closest to ``word``, or ``""`` if none is close."""
    match = closest(word, choices)
    return f"; did you mean `{match}`?" if match else ""


def quoted_list(names: Iterable[str], conjunction: str = "and") -> str:
    """The names as a readable list: "`a`, `b` and `c`" (or "`a`, `b` or `c`")."""
    quoted = [f"`{name}`" for name in names]
    if len(quoted) <= 1:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} {conjunction} {quoted[-1]}"
