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

import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import yaml

from kedro_azureml_deploy.config.loader import predecessor_format
from kedro_azureml_deploy.errors import AdoptionError

#: Where the template is released; ``--template`` (or ``$KEDRO_AZUREML_TEMPLATE``) chooses another
#: source (a fork, a mirror, a local checkout).
TEMPLATE_SOURCE = "https://github.com/kedro-azureml/kedro-azureml.git"
ANSWERS_FILE = ".copier-answers.yml"
#: The template's defaults for the workspace: a config holding one still needs filling in.
PLACEHOLDERS = (
    "00000000-0000-0000-0000-000000000000",
    "my-resource-group",
    "my-workspace",
    "myregistry.azurecr.io",
)
#: The Python versions the template offers (its ``python_version`` choices).
PYTHON_VERSIONS = ("3.11", "3.12", "3.13")


def default_template_ref() -> str:
    """The template release matching the installed kedro-azureml-deploy (``v0.1.0``)."""
    return f"v{version('kedro-azureml-deploy')}"


@dataclass(frozen=True)
class AzureAnswers:
    """The template's questions about Azure, as ``init`` options give them (``None``: the
    template's placeholder, to fill in ``conf/base/azureml.yml`` later)."""

    execution_mode: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    workspace: str | None = None
    compute_cluster: str | None = None
    container_registry: str | None = None
    image_name: str | None = None

    def or_else(self, other: AzureAnswers) -> AzureAnswers:
        """These answers, with ``other``'s where these have none."""
        return AzureAnswers(
            **{
                name: getattr(self, name) or getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )

    def as_data(self) -> dict[str, str]:
        """The template's answers (questions left out keep the template's placeholders)."""
        mode = self.execution_mode or ("docker_image" if self.container_registry else "code_upload")
        data = {"execution_mode": mode}
        data.update(
            {
                question: getattr(self, attr)
                for attr, question in QUESTIONS.items()
                if getattr(self, attr)
            }
        )
        return data

    def without(self, question: str) -> AzureAnswers:
        """These answers without the one to ``question``."""
        attr = next(attr for attr, name in QUESTIONS.items() if name == question)
        return replace(self, **{attr: None})


#: The template's question answered by each ``AzureAnswers`` field.
QUESTIONS = {
    "subscription_id": "azure_subscription_id",
    "resource_group": "azure_resource_group",
    "workspace": "azure_workspace",
    "compute_cluster": "azure_compute_cluster",
    "container_registry": "container_registry",
    "image_name": "image_name",
}


@dataclass(frozen=True)
class ProjectFacts:
    """What ``init`` reads from the project to answer the template's questions."""

    path: Path
    project_name: str
    package_name: str
    kedro_init_version: str
    python_version: str
    dependencies_from: str

    def answers(self, azure: AzureAnswers) -> dict[str, Any]:
        return {
            "adopt": True,
            "project_name": self.project_name,
            "package_name": self.package_name,
            "kedro_init_version": self.kedro_init_version,
            "python_version": self.python_version,
            "dependencies_from": self.dependencies_from,
            "example_pipeline": False,
            "use_mlflow": (self.path / "conf" / "base" / "mlflow.yml").is_file(),
            "ci_provider": "none",
            **azure.as_data(),
        }


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
    """

    source: str
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    backups: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    written: bool = True

    def report(self) -> str:
        verb = "Adopted" if self.written else "Would adopt"
        lines = [f"{verb} the project from the kedro-azureml template {self.source}:"]
        for label, paths in (
            ("added", self.added),
            ("replaced", self.replaced),
            ("kept yours", self.kept),
            ("unchanged", self.unchanged),
        ):
            lines.extend(f"  {label:<10}  {path}" for path in paths)
        lines.extend(f"  (yours saved as {backup})" for backup in self.backups.values())
        lines.extend(f"  ignored     {answer}" for answer in self.ignored)
        return "\n".join(lines)


@dataclass(frozen=True)
class PredecessorConfig:
    """An ``azureml.yml`` written for kedro-azureml (getindata) or kedro-azureml-pipeline.

    Attributes:
        path: the file, relative to the project.
        plugin: which plugin's format it is in.
        azure: the answers it gives (workspace, default cluster, image).
    """

    path: str
    plugin: str
    azure: AzureAnswers


def find_predecessor_config(project_path: Path) -> PredecessorConfig | None:
    """The predecessor's ``azureml.yml`` in ``conf/base`` or ``conf/local``, if any."""
    for relpath in ("conf/base/azureml.yml", "conf/local/azureml.yml"):
        try:
            config = yaml.safe_load(_read(project_path / relpath)) or {}
        except yaml.YAMLError:
            continue
        if not isinstance(config, dict):
            continue
        plugin = predecessor_format(config)
        if plugin == "kedro-azureml":
            azure = config["azure"]
            docker = config.get("docker") if isinstance(config.get("docker"), dict) else {}
            image = docker.get("image") if not azure.get("code_directory") else None
            return PredecessorConfig(
                relpath,
                plugin,
                _azure_answers(
                    workspace=azure,
                    workspace_name_key="workspace_name",
                    compute=azure.get("compute"),
                    image=image,
                ),
            )
        if plugin == "kedro-azureml-pipeline":
            execution = config["execution"]
            workspaces = (
                config.get("workspace") if isinstance(config.get("workspace"), dict) else {}
            )
            environment = execution.get("environment")
            image = environment if _looks_like_image(environment) else None
            return PredecessorConfig(
                relpath,
                plugin,
                _azure_answers(
                    workspace=workspaces.get("__default__"),
                    workspace_name_key="name",
                    compute=config.get("compute"),
                    image=image if not execution.get("code_directory") else None,
                ),
            )
    return None


#: A reference to a predecessor's package (``kedro_azureml.datasets``,
#: ``kedro_azureml_pipeline.hooks``), not to ours (``kedro_azureml_runtime``).
_PREDECESSOR_REFERENCE = re.compile(r"\bkedro_azureml(?:_pipeline)?(?!\w)")


def predecessor_references(project_path: Path) -> list[str]:
    """The project's source and configuration files that still refer to kedro-azureml's or
    kedro-azureml-pipeline's package, relative to the project."""
    candidates = [
        *(project_path / "src").rglob("*.py"),
        *(project_path / "conf").rglob("*.yml"),
        *(project_path / "conf").rglob("*.yaml"),
    ]
    return sorted(
        path.relative_to(project_path).as_posix()
        for path in candidates
        if path.is_file() and _PREDECESSOR_REFERENCE.search(_read(path))
    )


def _azure_answers(
    *, workspace: Any, workspace_name_key: str, compute: Any, image: Any
) -> AzureAnswers:
    workspace = workspace if isinstance(workspace, dict) else {}
    default_compute = compute.get("__default__") if isinstance(compute, dict) else None
    cluster = default_compute.get("cluster_name") if isinstance(default_compute, dict) else None
    registry = image_name = None
    if isinstance(image, str) and "/" in image:
        registry, _, repository = image.partition("/")
        image_name = repository.split("@")[0].rsplit(":", 1)[0]

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) and value.strip() else None

    return AzureAnswers(
        execution_mode="docker_image" if registry else None,
        subscription_id=text(workspace.get("subscription_id")),
        resource_group=text(workspace.get("resource_group")),
        workspace=text(workspace.get(workspace_name_key)),
        compute_cluster=text(cluster),
        container_registry=text(registry),
        image_name=text(image_name),
    )


def _looks_like_image(reference: Any) -> bool:
    """A container image (``registry/name:tag``) rather than an environment (``name@latest``)."""
    return isinstance(reference, str) and "/" in reference and "@latest" not in reference


def read_project(project_path: Path, *, force: bool = False) -> ProjectFacts:
    """The facts ``init`` needs about the Kedro project at ``project_path`` (Kedro 1.x itself
    refuses to start a project made with an older Kedro).

    Raises:
        AdoptionError: a copier template already manages the project (an adopted project is
            adopted again with ``force``).
    """
    from kedro.framework.startup import _get_project_metadata

    metadata = _get_project_metadata(project_path)
    _refuse_managed_project(project_path, force=force)
    return ProjectFacts(
        path=project_path,
        project_name=metadata.project_name,
        package_name=metadata.package_name,
        kedro_init_version=str(metadata.kedro_init_version),
        python_version=_python_version(project_path),
        dependencies_from=_dependencies_from(project_path),
    )


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
                commit = _render(template, ref, rendered, facts.answers(azure.or_else(fallback)))
                break
            except _RefusedAnswer as refused:
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
    if any(placeholder in _read(azureml) for placeholder in PLACEHOLDERS):
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


def _render(template: str, ref: str | None, target: Path, answers: Mapping[str, Any]) -> str:
    """Render ``template`` at ``ref`` into ``target``; the release rendered."""
    import copier
    from plumbum import ProcessExecutionError

    try:
        worker = copier.run_copy(
            template,
            target,
            data=dict(answers),
            vcs_ref=ref,
            defaults=True,
            quiet=True,
            overwrite=True,
        )
    except ProcessExecutionError as exc:
        stderr = (exc.stderr or "").strip().splitlines()
        fatal = [line for line in stderr if line.startswith(("fatal:", "ERROR:"))]
        detail = (fatal or stderr or str(exc).splitlines())[0].rstrip(".")
        raise AdoptionError(
            f"could not fetch the kedro-azureml template from {template}: {detail}. Pass "
            "--template with a reachable git URL or a local clone of kedro-azureml."
        ) from None
    except ValueError as exc:
        message = str(exc)
        if message.startswith("Unknown revision"):
            raise AdoptionError(
                f"the template at {template} has no release {ref!r}. Pass --template-ref with one "
                "of its tags, a branch or a commit (HEAD: its latest commit)."
            ) from None
        if message.startswith("Local template must be a directory"):
            raise AdoptionError(
                f"the template {template} does not exist: pass --template with a git URL or the "
                "path of a local clone of kedro-azureml."
            ) from None
        refused = re.match(
            r"(?:Validation error|Invalid choice) for (?:question )?'(\w+)'", message
        )
        if refused:
            raise _RefusedAnswer(refused[1], message) from None
        raise AdoptionError(f"the template cannot be rendered: {message}") from None
    if "adopt" not in worker.template.questions_data:
        raise AdoptionError(
            f"the template {template} at {ref or 'its latest release'} cannot adopt a project "
            "(it has no `adopt` question: a release older than `kedro azureml init`, or another "
            "template). Pass --template-ref with a newer release of kedro-azureml."
        )
    commit = worker.answers.combined.get("_commit")
    if not commit:
        raise AdoptionError(
            f"the template {template} is not a git repository: copier update could not bring "
            "its later releases into the project. Pass --template with the git URL or a git "
            "clone of kedro-azureml."
        )
    return str(commit)


def _free_backup_name(project_path: Path, relpath: str) -> str:
    """``<file>.orig``, or ``<file>.orig.2``, ... when an earlier backup holds that name."""
    backup, number = f"{relpath}.orig", 1
    while (project_path / backup).exists():
        number += 1
        backup = f"{relpath}.orig.{number}"
    return backup


class _RefusedAnswer(Exception):
    def __init__(self, question: str, reason: str) -> None:
        super().__init__(reason)
        self.question, self.reason = question, reason


def _files(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


def _refuse_managed_project(project_path: Path, *, force: bool) -> None:
    answers_path = project_path / ANSWERS_FILE
    if not answers_path.is_file():
        return
    try:
        answers = yaml.safe_load(_read(answers_path)) or {}
    except yaml.YAMLError:
        answers = {}
    if not isinstance(answers, dict):
        answers = {}
    if force and answers.get("adopt"):
        return
    source = answers.get("_src_path", "a copier template")
    release = answers.get("_commit", "?")
    what = "already adopted" if answers.get("adopt") else "already made"
    raise AdoptionError(
        f"the project was {what} from {source} ({release}, see {ANSWERS_FILE}): bring the "
        "template's improvements in with `copier update --trust`"
        + (" (or adopt it again, from scratch, with --force)." if answers.get("adopt") else ".")
    )


def _python_version(project_path: Path) -> str:
    """The project's ``.python-version`` when it names a version the template offers, else the
    running interpreter's (the closest offered version)."""
    pinned = _read(project_path / ".python-version").strip().splitlines()
    if pinned:
        major_minor = ".".join(pinned[0].strip().split(".")[:2])
        if major_minor in PYTHON_VERSIONS:
            return major_minor
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running in PYTHON_VERSIONS:
        return running
    return PYTHON_VERSIONS[-1] if sys.version_info >= (3, 13) else PYTHON_VERSIONS[0]


def _dependencies_from(project_path: Path) -> str:
    """``uv.lock`` when the project has a lock file, else ``requirements.txt`` when it has one
    (Kedro's own template), else ``uv.lock`` (``uv lock`` makes it from pyproject.toml)."""
    if (project_path / "uv.lock").is_file():
        return "uv.lock"
    if (project_path / "requirements.txt").is_file():
        return "requirements.txt"
    return "uv.lock"


def _declares(project_path: Path, distribution: str) -> bool:
    texts = (_read(project_path / name) for name in ("requirements.txt", "pyproject.toml"))
    return any(distribution in text for text in texts)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""
