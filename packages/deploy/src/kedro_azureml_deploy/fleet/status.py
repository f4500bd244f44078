"""``fleet status``: the template release each repository records, the latest one, and what
would block its update."""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from kedro_azureml_deploy.fleet.git import GitFailed, git
from kedro_azureml_deploy.fleet.repositories import Repository, expand_url, is_url

ANSWERS_FILE = ".copier-answers.yml"
_DESCRIBED = re.compile(r"^(?P<tag>v?\d[^\s-]*)(?:-(?P<ahead>\d+)-g[0-9a-f]+)?$")


@dataclass(frozen=True)
class Release:
    """A release of the template: its tag and its PEP 440 version."""

    tag: str
    version: str


@dataclass
class RepositoryStatus:
    """Where a repository stands: the release it records, the template's latest, and problems."""

    repository: str
    name: str
    template: str | None = None
    recorded: str | None = None
    latest: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """``blocked``, ``current`` or ``behind``."""
        if self.problems:
            return "blocked"
        if self.recorded and self.latest and _version(self.recorded) >= _version(self.latest):
            return "current"
        return "behind"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "state": self.state}


def _version(tag: str) -> Any:
    """The PEP 440 version of ``tag`` (``v0.2.0``, or git describe's ``v0.1.0-3-gabc1234``)."""
    from packaging.version import InvalidVersion, Version

    match = _DESCRIBED.match(tag)
    if match is None:
        return Version("0")
    try:
        version = Version(match["tag"])
    except InvalidVersion:
        return Version("0")
    if match["ahead"]:
        return Version(f"{version.base_version}.post{match['ahead']}")
    return version


def releases(template: str) -> list[Release]:
    """The template's release tags, oldest first (pre-releases left out, as copier does).

    Raises:
        GitFailed: the template cannot be reached.
    """
    return list(_releases(expand_url(template)))


@cache
def _releases(source: str) -> tuple[Release, ...]:
    from packaging.version import InvalidVersion, Version

    found: list[tuple[Version, Release]] = []
    for line in git(None, "ls-remote", "--tags", "--refs", source).splitlines():
        tag = line.split("refs/tags/", 1)[-1].strip()
        try:
            version = Version(tag)
        except InvalidVersion:
            continue
        if not version.is_prerelease:
            found.append((version, Release(tag, str(version))))
    return tuple(release for _, release in sorted(found, key=lambda pair: pair[0]))


def read_answers(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    return data if isinstance(data, dict) else {}


def template_problems(answers: dict[str, Any]) -> list[str]:
    """What in a project's answers keeps copier from updating it in a scratch clone."""
    source = answers.get("_src_path")
    problems = []
    if not isinstance(source, str) or not source:
        return [f"{ANSWERS_FILE} has no _src_path: it was not rendered from a copier template"]
    if not is_url(source) and not Path(source).expanduser().is_absolute():
        problems.append(
            f"_src_path {source!r} is relative to the project's folder: set it to the template's "
            f"git URL in {ANSWERS_FILE} and commit"
        )
    elif not is_url(source) and not Path(source, ".git").exists():
        problems.append(
            f"_src_path {source!r} is not a git repository: copier updates only from git; set it "
            f"to the template's git URL in {ANSWERS_FILE} and commit"
        )
    if not answers.get("_commit"):
        problems.append(
            f"{ANSWERS_FILE} records no _commit (the template was not a git repository when "
            "rendered): run `copier update --vcs-ref <its release>` once by hand"
        )
    return problems


def local_problems(path: Path) -> list[str]:
    """What keeps the local repository at ``path`` from being updated (not git, dirty)."""
    if not path.is_dir():
        return [f"{path} is not a folder"]
    try:
        top = git(path, "rev-parse", "--show-toplevel").strip()
    except GitFailed:
        return [f"{path} is not a git repository"]
    if Path(top).resolve() != path.resolve():
        return [f"{path} is inside the git repository {top}, not its root"]
    try:
        git(path, "rev-parse", "--verify", "--quiet", "HEAD")
    except GitFailed:
        return [f"{path} has no commit yet"]
    if git(path, "status", "--porcelain").strip():
        return [
            f"{path} has uncommitted changes: commit or stash them (the fleet updates committed "
            "work only)"
        ]
    return []


def committed_answers(clone: Path) -> str | None:
    """The text of the answers file committed at HEAD of ``clone``, or ``None``."""
    try:
        return git(clone, "show", f"HEAD:{ANSWERS_FILE}")
    except GitFailed:
        return None


def repository_status(repository: Repository) -> RepositoryStatus:
    """The status of ``repository``; a repository at a git URL is cloned (shallow) to read it."""
    status = RepositoryStatus(repository=repository.spec, name=repository.name)
    if repository.path is not None:
        status.problems = local_problems(repository.path)
        if status.problems and "uncommitted" not in status.problems[0]:
            return status
        text = committed_answers(repository.path)
    else:
        with tempfile.TemporaryDirectory(prefix="kedro-azureml-fleet-") as scratch:
            clone = Path(scratch) / "clone"
            try:
                git(None, "clone", "--quiet", "--depth", "1", repository.source, str(clone))
            except GitFailed as exc:
                status.problems.append(f"cannot clone {repository.spec}: {exc}")
                return status
            text = committed_answers(clone)
    if text is None:
        status.problems.append(
            f"no {ANSWERS_FILE} committed: not made from the kedro-azureml template (adopt it "
            "with `kedro azureml init`)"
        )
        return status
    answers = read_answers(text)
    status.template = (
        answers.get("_src_path") if isinstance(answers.get("_src_path"), str) else None
    )
    status.recorded = str(answers["_commit"]) if answers.get("_commit") else None
    problems = template_problems(answers)
    status.problems.extend(problems)
    if not problems and status.template:
        try:
            found = releases(status.template)
        except GitFailed as exc:
            status.problems.append(f"cannot reach the template {status.template}: {exc}")
            return status
        if found:
            status.latest = found[-1].tag
        else:
            status.problems.append(f"the template {status.template} has no release tag")
    return status
