"""The repositories of a fleet: paths or git URLs, given on the command line or in a file.

A repository's *name* (the last part of its path or URL) names its files in the report folder and
its scratch clone: it is reduced to letters, digits, ``.``, ``_`` and ``-``, never ``..``, and made
unique, so a name read from a file or a URL cannot point outside those folders.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kedro_azureml_deploy.errors import FleetError

_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|[\w.-]+@[\w.-]+:|gh:|gl:)", re.IGNORECASE)


@dataclass(frozen=True)
class Repository:
    """A repository of the fleet: how the user named it, where it is, and its safe name."""

    spec: str
    name: str
    #: The folder of a local repository; ``None`` for a git URL.
    path: Path | None

    @property
    def source(self) -> str:
        """What ``git clone`` takes."""
        return str(self.path) if self.path is not None else expand_url(self.spec)


def is_url(spec: str) -> bool:
    """Whether ``spec`` is a git URL (``https://``, ``ssh://``, ``file://``, ``git@host:``,
    copier's ``gh:`` and ``gl:``) rather than a path."""
    return bool(_URL.match(spec))


def expand_url(spec: str) -> str:
    """Copier's ``gh:owner/name`` and ``gl:owner/name`` shorthands as the URLs git takes."""
    for prefix, host in (("gh:", "https://github.com/"), ("gl:", "https://gitlab.com/")):
        if spec.startswith(prefix):
            rest = spec[len(prefix) :]
            return host + rest + ("" if rest.endswith(".git") else ".git")
    return spec


def safe_name(spec: str) -> str:
    """The last part of ``spec``'s path or URL, as a file name that stays in its folder."""
    last = re.split(r"[/\\:]", spec.rstrip("/\\"))[-1]
    last = re.sub(r"\.git$", "", last)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", last).strip(".-")
    return name or "repository"


def read_repository_list(path: Path) -> list[str]:
    """The repositories of ``path``, one a line; blank lines and ``#`` comments are skipped.
    Relative paths are relative to the file's folder.

    Raises:
        FleetError: the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or exc
        raise FleetError(
            f"cannot read the repository list {path}: {reason}. Pass --repos with a "
            "file of one path or git URL a line."
        ) from None
    specs = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        specs.append(line if is_url(line) or Path(line).is_absolute() else str(path.parent / line))
    return specs


def repositories(specs: Iterable[str]) -> list[Repository]:
    """The repositories named by ``specs``, each once, with unique safe names.

    Raises:
        FleetError: no repository is named.
    """
    found: list[Repository] = []
    seen: set[str] = set()
    names: set[str] = set()
    for spec in specs:
        path = None if is_url(spec) else Path(spec).expanduser().absolute()
        key = str(path) if path is not None else spec
        if key in seen:
            continue
        seen.add(key)
        base = safe_name(spec)
        name, counter = base, 2
        while name.lower() in names:
            name, counter = f"{base}-{counter}", counter + 1
        names.add(name.lower())
        found.append(Repository(spec=spec, name=name, path=path))
    if not found:
        raise FleetError(
            "no repository given: pass paths or git URLs, or --repos with a file of one a line."
        )
    return found
