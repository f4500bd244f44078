"""A fleet of projects for the ``kedro-azureml fleet`` tests: a template with three releases, and
repositories rendered from them, each in a state the fleet must report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import copier
from template_testing import commit_all, git, snapshot_template

#: The releases of the fleet's template, oldest first; the last is this checkout's version, so
#: an updated project's pins resolve to the packages of the checkout.
RELEASES = ("v0.0.8", "v0.0.9", "v0.1.0")
AMLIGNORE_LINE = "notebooks/\n"
SETTINGS_LINE = "# kedro-azureml template: settings kept in step with the template\n"


def release_template(folder: Path) -> Path:
    """The template of this checkout at ``RELEASES[0]``, then two releases that change files the
    template shares with the project."""
    template = snapshot_template(folder, tag=RELEASES[0])
    project = template / "templates" / "kedro-azureml-project" / "project"
    amlignore = project / ".amlignore"
    amlignore.write_text(
        amlignore.read_text() + "\n# notebooks run on laptops only\n" + AMLIGNORE_LINE
    )
    commit_all(template, "ignore notebooks")
    git(template, "tag", RELEASES[1])
    settings = project / "src" / "{{ package_name }}" / "settings.py.jinja"
    settings.write_text(settings.read_text() + "\n" + SETTINGS_LINE)
    (project / ".editorconfig").write_text("root = true\n")
    commit_all(template, "settings note and .editorconfig")
    git(template, "tag", RELEASES[2])
    return template


def render_repository(template: Path | str, target: Path, release: str, **answers: Any) -> Path:
    """A git repository at ``target`` rendered from ``template`` at ``release`` and committed."""
    copier.run_copy(
        str(template), target, data=answers, vcs_ref=release, defaults=True, quiet=True,
        unsafe=True,
    )  # fmt: skip
    git(target, "init", "--quiet", "--initial-branch=main")
    commit_all(target, f"Start from the kedro-azureml template {release}")
    return target


def branches(repo: Path) -> dict[str, str]:
    """Each branch of ``repo`` and its commit."""
    listing = git(repo, "for-each-ref", "--format=%(refname:short) %(objectname)", "refs/heads")
    return dict(line.split(" ", 1) for line in listing.splitlines())


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
