"""Adopt an existing Kedro project: give it the Azure ML layer of the kedro-azureml template.

``kedro azureml init`` renders the project template with ``adopt: true`` (the template then owns
only ``conf/base/azureml.yml``, ``.amlignore``, ``Dockerfile``, ``.dockerignore`` and
``azureml.schema.json``) into a scratch folder, compares each file with the project, and copies
what the project lacks. The answers file comes along, so ``copier update`` keeps the adopted files
up to date later, exactly as in a project made with ``copier copy``.

The render is compared before anything is written: a file the project already has is never
replaced unless the caller says so, and a failed render leaves the project untouched.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from kedro_azureml_deploy.adoption.answers import (
    ANSWERS_FILE,
    AzureAnswers,
    ProjectFacts,
    read_project,
    read_text,
)
from kedro_azureml_deploy.adoption.predecessors import (
    PredecessorConfig,
    find_predecessor_config,
    predecessor_references,
)
from kedro_azureml_deploy.adoption.template import RefusedAnswer, render_template
from kedro_azureml_deploy.errors import AdoptionError

#: The template's defaults for the workspace: a config holding one still needs filling in.
PLACEHOLDERS = (
    "00000000-0000-0000-0000-000000000000",
    "my-resource-group",
    "my-workspace",
    "myregistry.azurecr.io",
)


@dataclass
class Adoption:
    """What ``init`` did, or would do, to a project, file by file (relative POSIX paths).

    Attributes:
        source: the template source and the release rendered (``URL@v0.1.0``).
        added: files the project did not have.
        unchanged: files the project already had, identical to the template's.
        replaced: files the project had, replaced by the template's (asked or ``--force``).
        kept: files the project had and keeps, though the template's differ.
        backups: where each replaced file was saved (``<file>.orig``, never over an earlier
            backup).
        ignored: answers read from a predecessor's ``azureml.yml`` that the template refused,
            with the reason.
        written: whether the files were written (``False`` for a dry run).
        inherited: the predecessor's ``azureml.yml`` whose answers filled in those not given.
        next_steps: what the user does next, in order (empty for a dry run).
    """

    source: str
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    backups: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    written: bool = True
    inherited: PredecessorConfig | None = None
    next_steps: list[str] = field(default_factory=list)

    def report(self) -> str:
        """The adoption, file by file, then what to do next."""
        verb = "Adopted" if self.written else "Would adopt"
        lines = []
        if self.inherited:
            lines.append(
                f"Read the workspace, cluster and image of {self.inherited.path} "
                f"({self.inherited.plugin}'s format)."
            )
        lines.append(f"{verb} the project from the kedro-azureml template {self.source}:")
        for label, paths in (
            ("added", self.added),
            ("replaced", self.replaced),
            ("kept yours", self.kept),
            ("unchanged", self.unchanged),
        ):
            lines.extend(f"  {label:<10}  {path}" for path in paths)
        lines.extend(f"  (yours saved as {backup})" for backup in self.backups.values())
        lines.extend(f"  ignored     {answer}" for answer in self.ignored)
        if self.kept:
            lines.append("Files kept as they are: --force replaces them with the template's.")
        if self.next_steps:
            lines.append("Next steps:")
            lines.extend(f"  {n}. {step}" for n, step in enumerate(self.next_steps, start=1))
        return "\n".join(lines)


def init_project(
    project_path: Path,
    azure: AzureAnswers,
    *,
    template: str,
    ref: str | None,
    overwrite: Callable[[str], bool],
    force: bool = False,
    dry_run: bool = False,
) -> Adoption:
    """``kedro azureml init``: adopt the Kedro project at ``project_path``.

    Reads the project, fills in the answers ``azure`` lacks from a predecessor's ``azureml.yml``,
    renders the template's Azure ML layer and copies it in (see :func:`adopt_project`), and works
    out the next steps.

    Args:
        project_path: the Kedro project.
        azure: the answers about Azure given by the user (placeholders where ``None``).
        template: the template source: a git URL or a local git checkout.
        ref: the template release (tag, branch or commit).
        overwrite: asked, with the relative path, for each file the project has that differs
            from the template's (``--force`` answers yes without asking).
        force: replace differing files without asking, and adopt an adopted project again.
        dry_run: only report what would be done.

    Raises:
        AdoptionError: the project is already managed by a template, or the template cannot be
            fetched or rendered with these answers; nothing is written then.
    """
    facts = read_project(project_path, force=force)
    inherited = find_predecessor_config(facts.path)
    adoption = adopt_project(
        facts,
        azure,
        template=template,
        ref=ref,
        overwrite=(lambda _relpath: True) if force else overwrite,
        inherited=inherited,
        dry_run=dry_run,
    )
    adoption.inherited = inherited
    if not dry_run:
        adoption.next_steps = next_steps(facts, adoption, inherited)
    return adoption


def adopt_project(
    facts: ProjectFacts,
    azure: AzureAnswers,
    *,
    template: str,
    ref: str | None,
    overwrite: Callable[[str], bool],
    inherited: PredecessorConfig | None = None,
    dry_run: bool = False,
) -> Adoption:
    """Render the template's Azure ML layer for the project and copy it in.

    Args:
        facts: the project, read by :func:`read_project`.
        azure: the answers about Azure given by the user (placeholders where ``None``).
        template: the template source: a git URL or a local git checkout.
        ref: the template release (tag, branch or commit); ``None`` for its latest tag.
        overwrite: asked, with the relative path, for each file the project already has that
            differs from the template's; ``True`` replaces it (the old one is kept as
            ``<file>.orig``). Asked before anything is written.
        inherited: a predecessor's ``azureml.yml`` whose answers fill in those ``azure`` lacks;
            an answer of it the template refuses is left out, and reported.
        dry_run: only report what would be done.

    Raises:
        AdoptionError: the template cannot be fetched, or refuses an answer of ``azure``.
    """
    fallback = inherited.azure if inherited else AzureAnswers()
    ignored: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-init-") as scratch:
        while True:
            rendered = Path(scratch) / f"project-{len(ignored)}"
            try:
                commit = render_template(
                    template, ref, rendered, facts.answers(azure.or_else(fallback))
                )
                break
            except RefusedAnswer as refused:
                if (
                    inherited is None
                    or refused.question not in fallback.as_data()
                    or (refused.question in azure.as_data())
                ):
                    raise AdoptionError(
                        f"the template refused an answer: {refused.reason}. Fix the matching "
                        "init option."
                    ) from None
                ignored.append(
                    f"{refused.question} from {inherited.path}: {refused.reason.split(': ', 1)[-1]}"
                )
                fallback = fallback.without(refused.question)
        adoption = Adoption(source=f"{template}@{commit}", written=not dry_run, ignored=ignored)
        to_copy: list[str] = []
        for relpath in _files(rendered):
            target = facts.path / relpath
            if not target.exists():
                adoption.added.append(relpath)
                to_copy.append(relpath)
            elif target.is_file() and target.read_bytes() == (rendered / relpath).read_bytes():
                adoption.unchanged.append(relpath)
            elif target.is_file() and overwrite(relpath):
                adoption.replaced.append(relpath)
                adoption.backups[relpath] = _free_backup_name(facts.path, relpath)
                to_copy.append(relpath)
            else:
                adoption.kept.append(relpath)
        if not dry_run:
            # The answers file last: a project that has it counts as adopted.
            to_copy.sort(key=lambda relpath: relpath == ANSWERS_FILE)
            try:
                for relpath, backup in adoption.backups.items():
                    shutil.copy2(facts.path / relpath, facts.path / backup)
                for relpath in to_copy:
                    target = facts.path / relpath
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(rendered / relpath, target)
            except OSError as exc:
                raise AdoptionError(
                    f"could not write {exc.filename or 'a file'} ({exc.strerror or exc}): fix "
                    "the permissions and run init again (with --force for files it added)."
                ) from None
    return adoption


def next_steps(
    facts: ProjectFacts, adoption: Adoption, inherited: PredecessorConfig | None = None
) -> list[str]:
    """What the user does after ``init``, in order."""
    release = version("kedro-azureml-deploy")
    steps = []
    if inherited and inherited.path not in adoption.replaced:
        steps.append(
            f"{inherited.path} is in {inherited.plugin}'s format, which kedro-azureml does not "
            "read: "
            + (
                "delete it (conf/base/azureml.yml now holds its workspace and compute)"
                if inherited.path != "conf/base/azureml.yml"
                else "rerun init with --force to replace it (it is kept as .orig)"
            )
            + "; the tutorial 'Migrate an existing project' maps each of its keys to ours"
        )
    elif inherited:
        steps.append(
            f"move what else {inherited.path}.orig sets ({inherited.plugin}'s format) into "
            "conf/base/azureml.yml: the tutorial 'Migrate an existing project' maps each key"
        )
    references = predecessor_references(facts.path)
    if references:
        steps.append(
            f"{', '.join(references)} still refer to the previous plugin's package: import "
            "from kedro_azureml_runtime instead (kedro_azureml_runtime.datasets, "
            ".distributed), and drop its hook from HOOKS: ours registers itself"
        )
    if not _declares(facts.path, "kedro-azureml-runtime"):
        if facts.dependencies_from == "requirements.txt":
            steps.append(
                f"add `kedro-azureml-runtime=={release}` to requirements.txt (the Dockerfile "
                "installs it anyway; Azure ML environments built from the file need it)"
            )
        else:
            steps.append(
                f"uv add kedro-azureml-runtime=={release} && "
                f"uv add --dev kedro-azureml-deploy=={release}"
            )
    azureml = facts.path / "conf" / "base" / "azureml.yml"
    if any(placeholder in read_text(azureml) for placeholder in PLACEHOLDERS):
        steps.append(
            "fill in the workspace, compute and environment placeholders of conf/base/azureml.yml"
        )
    if ".dockerignore" in adoption.kept:
        steps.append(
            "make sure your .dockerignore keeps conf/local and credentials files out: the "
            "Dockerfile copies conf/ into the step image"
        )
    if (facts.path / ".gitignore").is_file() and ".amlignore" in adoption.added:
        steps.append(
            "review .amlignore: Azure ML reads it instead of .gitignore to decide what it uploads"
        )
    steps += [
        "git add . && git commit -m 'Adopt the kedro-azureml template' (copier update starts "
        "from a committed project)",
        "kedro azureml doctor -j default    # what would break on Azure ML, with the fix for each",
        "kedro azureml run -j default --local    # the job, step by step, on this machine",
    ]
    return steps


def _free_backup_name(project_path: Path, relpath: str) -> str:
    """``<file>.orig``, or ``<file>.orig.2``, ... when an earlier backup holds that name."""
    backup, number = f"{relpath}.orig", 1
    while (project_path / backup).exists():
        number += 1
        backup = f"{relpath}.orig.{number}"
    return backup


def _files(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def _declares(project_path: Path, distribution: str) -> bool:
    texts = (read_text(project_path / name) for name in ("requirements.txt", "pyproject.toml"))
    return any(distribution in text for text in texts)
