"""``fleet update``: one repository brought to a template release in a scratch clone.

The user's working tree is never touched: the repository is cloned into a scratch folder, copier
updates the clone, and only a branch (``kedro-azureml/update-<version>``) travels back, into the
local repository, and with ``push`` to its remote. A branch that holds commits not made by the
fleet is never replaced.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kedro_azureml_deploy.fleet.checks import CheckResult, run_checks
from kedro_azureml_deploy.fleet.git import GitFailed, git
from kedro_azureml_deploy.fleet.repositories import Repository, expand_url, is_url
from kedro_azureml_deploy.fleet.status import (
    RepositoryStatus,
    _version,
    releases,
    repository_status,
)

#: The trailer of every commit the fleet makes: what tells it a branch is its own to replace.
TRAILER = "Kedro-AzureML-Fleet-Update"
#: Statuses a run may end with and still exit 0.
SUCCESS = ("updated", "would-update", "current")
_MARKER = re.compile(rb"^(?:<{7}|>{7}) ", re.MULTILINE)


@dataclass(frozen=True)
class UpdateOptions:
    """What ``fleet update`` was asked: the release, the branch, and what to do with it."""

    to: str | None = None
    branch: str | None = None
    dry_run: bool = False
    checks: bool = True
    trust: bool = False
    push: str | None = None


@dataclass
class UpdateResult:
    """The outcome for one repository (``status`` is one of ``updated``, ``would-update``,
    ``current``, ``conflicts``, ``checks-failed``, ``blocked``, ``failed``)."""

    repository: str
    name: str
    status: str
    message: str = ""
    template: str | None = None
    from_release: str | None = None
    to_release: str | None = None
    branch: str | None = None
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    template_changes: list[str] = field(default_factory=list)
    pushed: bool = False
    #: The default branch's commit the update starts from.
    base: str = ""
    diff: str = ""

    @property
    def checks_passed(self) -> bool | None:
        """Whether every check passed; ``None`` when none ran."""
        return all(check.passed for check in self.checks) if self.checks else None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("diff")
        return data


def _blocked(status: RepositoryStatus) -> UpdateResult:
    return UpdateResult(
        status.repository,
        status.name,
        "blocked",
        "; ".join(status.problems),
        template=status.template,
        from_release=status.recorded,
    )


def update_repository(repository: Repository, options: UpdateOptions) -> UpdateResult:
    """Update ``repository`` as ``options`` say; never raises for a problem of the repository
    (it becomes the result's ``blocked`` or ``failed`` status)."""
    status = repository_status(repository)
    if status.problems:
        return _blocked(status)
    assert status.template is not None and status.recorded is not None
    target = options.to or status.latest
    result = UpdateResult(
        repository.spec,
        repository.name,
        "current",
        template=status.template,
        from_release=status.recorded,
        to_release=target,
    )
    if target is None:
        return result
    known = {release.tag for release in releases(status.template)}
    if target in known and _version(status.recorded) >= _version(target):
        result.message = f"already at {status.recorded}"
        return result
    result.branch = options.branch or f"kedro-azureml/update-{target}"
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-fleet-") as scratch:
        clone = Path(scratch) / repository.name
        try:
            _update_in(clone, repository, options, result)
        except GitFailed as exc:
            result.status, result.message = "failed", f"git: {exc}"
        except OSError as exc:  # a file of the clone or the report that cannot be read
            result.status, result.message = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            shutil.rmtree(clone, ignore_errors=True)
    return result


def _update_in(
    clone: Path, repository: Repository, options: UpdateOptions, result: UpdateResult
) -> None:
    git(None, "clone", "--quiet", "--no-hardlinks", repository.source, str(clone))
    base = result.base = git(clone, "rev-parse", "HEAD").strip()
    default = git(clone, "rev-parse", "--abbrev-ref", "HEAD").strip()
    if result.branch == default:
        result.status = "blocked"
        result.message = f"--branch {default} is the default branch: the fleet never commits on it"
        return
    existing = _existing_branch(clone, result.branch or "", base)
    if existing == "foreign":
        result.status = "blocked"
        result.message = (
            f"branch {result.branch} has commits not made by kedro-azureml fleet: merge or delete "
            "it, or pass --branch with another name"
        )
        return
    error = _copier_update(clone, result.to_release, trust=options.trust)
    if error:
        result.status, result.message = "failed", error
        return
    git(clone, "add", "--all")
    _describe_changes(clone, base, result)
    if not (result.changed or result.added or result.deleted):
        result.message = "the template changed nothing"
        return
    result.template_changes = _template_changes(result, clone.parent)
    if options.checks:
        result.checks = run_checks(clone)
        if git(clone, "status", "--porcelain", "--", "uv.lock").strip():
            git(clone, "add", "--", "uv.lock")
    if result.conflicts:
        result.status = "conflicts"
        result.message = f"{len(result.conflicts)} file(s) in conflict"
    elif result.checks_passed is False:
        failed = [check.name for check in result.checks if not check.passed]
        result.status, result.message = "checks-failed", f"failed: {', '.join(failed)}"
    else:
        result.status = "would-update" if options.dry_run else "updated"
    if options.dry_run:
        return
    _commit_and_deliver(clone, repository, options, result)


def _existing_branch(clone: Path, branch: str, base: str, *, ref: str = "") -> str:
    """``none``, ``ours`` (every commit after ``base`` is the fleet's) or ``foreign``."""
    ref = ref or f"refs/remotes/origin/{branch}"
    if not git(clone, "rev-parse", "--verify", "--quiet", ref, check=False).strip():
        return "none"
    bodies = git(clone, "log", "--format=%B%x00", f"{base}..{ref}").split("\0")
    if all(f"{TRAILER}:" in body for body in bodies if body.strip()):
        return "ours"
    return "foreign"


def _copier_update(clone: Path, ref: str | None, *, trust: bool) -> str:
    """Run copier's update in ``clone`` (``--skip-answered --defaults``, inline conflict
    markers); the error, or ``""``."""
    import copier

    try:
        copier.run_update(
            clone,
            vcs_ref=ref,
            defaults=True,
            skip_answered=True,
            overwrite=True,
            unsafe=trust,
            conflict="inline",
            quiet=True,
        )
    except Exception as exc:  # copier, git and the template's own errors alike
        text = str(exc).strip().splitlines() or [type(exc).__name__]
        if type(exc).__name__ == "UnsafeTemplateError":
            return (
                "the template runs migrations or tasks: pass --trust if you trust "
                f"{_template_of(clone)}"
            )
        return f"copier update: {text[0]}"
    return ""


def _template_of(clone: Path) -> str:
    from kedro_azureml_deploy.fleet.status import ANSWERS_FILE, read_answers

    try:
        return str(read_answers((clone / ANSWERS_FILE).read_text()).get("_src_path", "it"))
    except OSError:
        return "it"


def _describe_changes(clone: Path, base: str, result: UpdateResult) -> None:
    for line in git(clone, "diff", "--cached", "--name-status", "--no-renames", base).splitlines():
        kind, _, name = line.partition("\t")
        {"A": result.added, "D": result.deleted}.get(kind[:1], result.changed).append(name)
    result.diff = git(clone, "diff", "--cached", "--binary", base)
    touched = [*result.changed, *result.added]
    result.conflicts = sorted(
        name
        for name in touched
        if name.endswith(".rej") or _MARKER.search(_read_bytes(clone / name))
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes() if path.is_file() and not path.is_symlink() else b""
    except OSError:
        return b""


def _template_changes(result: UpdateResult, scratch: Path) -> list[str]:
    """The template's commit subjects between the two releases; a template at a git URL is
    cloned (bare, without file contents) into ``scratch`` to read them."""
    source = result.template or ""
    span = f"{result.from_release}..{result.to_release}"
    if is_url(source):
        history = scratch / "template.git"
        if not history.exists():
            git(None, "clone", "--quiet", "--bare", "--filter=blob:none",
                expand_url(source), str(history), check=False)  # fmt: skip
        if not history.exists():
            return []
        return git(history, "log", "--format=%s", span, check=False).splitlines()
    if not Path(source).is_absolute() or not (Path(source) / ".git").exists():
        return []
    return git(Path(source), "log", "--format=%s", span, check=False).splitlines()


def _commit_and_deliver(
    clone: Path, repository: Repository, options: UpdateOptions, result: UpdateResult
) -> None:
    branch = result.branch or ""
    message = (
        f"chore: update to the kedro-azureml template {result.to_release}\n\n"
        f"From {result.from_release} to {result.to_release}, by `kedro-azureml fleet update`.\n\n"
        f"{TRAILER}: {result.to_release}\n"
    )
    git(clone, "switch", "--quiet", "-C", branch)
    git(clone, "commit", "--quiet", "--no-verify", "-m", message)
    # Into the local repository (a branch only: its working tree and current branch stay) ...
    if repository.path is not None:
        git(clone, "push", "--quiet", "--force", "origin", f"HEAD:refs/heads/{branch}")
    elif not options.push:
        result.message = "committed in the scratch clone only: pass --push origin to keep it"
    # ... and with --push, to its remote, unless its branch there holds work of someone else.
    if options.push:
        url = options.push
        if repository.path is not None:
            url = git(repository.path, "remote", "get-url", options.push).strip()
        git(clone, "fetch", "--quiet", url, f"+refs/heads/{branch}:refs/fleet/pushed", check=False)
        if _existing_branch(clone, branch, result.base, ref="refs/fleet/pushed") == "foreign":
            result.status = "blocked"
            result.message = (
                f"branch {branch} on {options.push} has commits not made by kedro-azureml fleet: "
                "merge or delete it there, or pass --branch with another name"
            )
            return
        git(clone, "push", "--quiet", "--force", url, f"HEAD:refs/heads/{branch}")
        result.pushed = True
