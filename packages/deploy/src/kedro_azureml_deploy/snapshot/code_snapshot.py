"""The code snapshot: the files of the code folder Azure ML gets, for submission, replay and doctor.

Azure ML's code upload (``azure.ai.ml._utils._asset_utils``: ``get_ignore_file``, ``IgnoreFile``,
``get_upload_files_from_folder``) walks the code folder following symbolic links and leaves out the
files its ``.amlignore`` excludes or, when there is none, its ``.gitignore``; ignore files of
subfolders are not read. A project without an ignore file, or with one that forgets a line, would
upload its local credentials and data, so :data:`ALWAYS_LEFT_OUT` is left out whatever the ignore
file says. One walker serves every caller: the submitter uploads a copy of the snapshot, the local
replay gives each step a copy of it, and ``doctor`` asks why a file is not in it.

Ignore files are applied as azure-ai-ml applies them (see ``ignore_rules``).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kedro_azureml_deploy.errors import SubmitError
from kedro_azureml_deploy.snapshot.ignore_rules import IgnoreRules

#: Folders left out wherever they are: version control, virtual environments, local replays.
ALWAYS_LEFT_OUT_FOLDERS = (".git", ".venv", ".azureml-local")
#: Folders left out at the project root: Kedro's local configuration and data.
ALWAYS_LEFT_OUT_ROOT_FOLDERS = ("conf/local", "data")
#: Files left out wherever they are: credentials and environment files.
ALWAYS_LEFT_OUT_FILES = ("credentials*.yml", "credentials*.yaml", ".env", ".env.*")
#: Everything above, as the documentation and the dry run show it.
ALWAYS_LEFT_OUT = (
    *(f"{name}/" for name in ALWAYS_LEFT_OUT_FOLDERS),
    *(f"/{name}/" for name in ALWAYS_LEFT_OUT_ROOT_FOLDERS),
    *ALWAYS_LEFT_OUT_FILES,
)


@dataclass(frozen=True)
class CodeSnapshot:
    """The files of a code folder that Azure ML gets.

    Attributes:
        source: the code folder.
        files: each file, relative to ``source``, in order.
        size: their total size in bytes.
        ignore_file: the ``.amlignore`` or ``.gitignore`` that applied, ``None`` if neither.
        left_out: what :data:`ALWAYS_LEFT_OUT` dropped, relative to ``source`` (a folder
            dropped whole is one entry ending with ``/``), whatever the ignore file says.
        project_path: the project the code folder belongs to.
    """

    source: Path
    files: tuple[PurePosixPath, ...]
    size: int
    ignore_file: Path | None
    left_out: tuple[str, ...]
    project_path: Path

    def describe(self) -> str:
        """One line: how many files, how big, which ignore file applied, and everything that is
        never uploaded whatever the ignore file says (all of it: a secret left out is worth
        seeing)."""
        rules = f"{self.ignore_file.name} applied" if self.ignore_file else "no ignore file"
        text = f"{len(self.files)} file(s), {_size(self.size)} ({rules}"
        if self.left_out:
            text += f"; never uploaded: {', '.join(self.left_out)}"
        return text + ")"

    def copy_to(self, target: Path) -> Path:
        """Copy the files into ``target`` (created; it must not exist) and return it."""
        target.mkdir(parents=True)
        for relative in self.files:
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.source / relative, destination)
        return target

    def why_left_out(self, path: PurePosixPath) -> str | None:
        """Why ``path`` (a file or folder, relative to the project) is not in the snapshot, or
        ``None`` when it is (for a folder: when at least one file under it is)."""
        if (self.project_path / path).resolve().is_relative_to(self.source):
            inside = PurePosixPath(
                (self.project_path / path).resolve().relative_to(self.source).as_posix()
            )
        else:
            return f"outside the code folder {self.source.name}/"
        if inside in self._file_set or any(f.is_relative_to(inside) for f in self.files):
            return None
        if _folder_left_out(self.project_path.resolve(), self.source / inside) or any(
            _folder_left_out(self.project_path.resolve(), self.source / parent)
            for parent in inside.parents
        ):
            return "always left out: " + next(
                rule for rule in ALWAYS_LEFT_OUT if _rule_covers(rule, path)
            )
        if _file_left_out(inside.name):
            return f"always left out: {inside.name}"
        rules = IgnoreRules(self.source)
        for candidate in (inside, inside / "_"):  # the path itself, or a file in the folder
            rule = rules.rule_for(self.source / candidate)
            if rule is not None:
                return f"{rules.file.name if rules.file else 'ignore file'}: {rule}"
        if not (self.project_path / path).exists():
            return "it does not exist in the project"
        return None

    @functools.cached_property
    def _file_set(self) -> frozenset[PurePosixPath]:
        return frozenset(self.files)


def code_snapshot(
    project_path: Path, code_directory: str = ".", *, leave_out: Path | None = None
) -> CodeSnapshot:
    """The files of ``code_directory`` (relative to ``project_path``) that Azure ML gets.

    Args:
        project_path: the project (``conf/local`` and ``data`` are left out at its root).
        code_directory: the code folder, relative to the project.
        leave_out: a folder neither walked nor listed (the replay's runs, wherever they are kept).

    Raises:
        SubmitError: the folder does not exist, or no file is left to upload.
    """
    root = project_path.resolve()
    source = (root / code_directory).resolve()
    if not source.is_dir():
        raise SubmitError(
            f"the code folder {code_directory!r} does not exist in the project: fix "
            "execution.code_directory in azureml.yml."
        )
    rules = IgnoreRules(source)
    skipped = leave_out.resolve() if leave_out is not None else None
    files: list[PurePosixPath] = []
    left_out: list[str] = []
    size = 0
    for folder, subfolders, names in os.walk(source, followlinks=True):
        here = Path(folder)
        walked = []
        for name in sorted(subfolders):
            if _folder_left_out(root, here / name):
                left_out.append(f"{(here / name).relative_to(source).as_posix()}/")
            elif (here / name).resolve() != skipped:
                walked.append(name)
        subfolders[:] = walked
        for name in sorted(names):
            relative = PurePosixPath((here / name).relative_to(source).as_posix())
            if _file_left_out(name):
                left_out.append(str(relative))
            elif not rules.excludes(here / name):
                files.append(relative)
                size += (here / name).stat().st_size
    if not files:
        raise SubmitError(
            f"the code folder {code_directory!r} has no file left to upload once "
            f"{rules.file.name if rules.file else 'the rules'} and the files never uploaded "
            f"({', '.join(ALWAYS_LEFT_OUT)}) are left out; Azure ML refuses an empty code folder."
        )
    return CodeSnapshot(
        source=source,
        files=tuple(sorted(files)),
        size=size,
        ignore_file=rules.file,
        left_out=tuple(sorted(left_out)),
        project_path=root,
    )


def _folder_left_out(root: Path, folder: Path) -> bool:
    if folder.name in ALWAYS_LEFT_OUT_FOLDERS:
        return True
    try:
        relative = folder.relative_to(root).as_posix()
    except ValueError:  # a linked folder outside the project
        return False
    return relative in ALWAYS_LEFT_OUT_ROOT_FOLDERS


def _file_left_out(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in ALWAYS_LEFT_OUT_FILES)


def _rule_covers(rule: str, path: PurePosixPath) -> bool:
    name = rule.strip("/")
    if rule.startswith("/"):
        return path == PurePosixPath(name) or path.is_relative_to(name)
    return name in path.parts


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
