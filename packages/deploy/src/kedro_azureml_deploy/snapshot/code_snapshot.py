"""The code snapshot: the files of the code folder Azure ML gets, for submission, replay and doctor.

Azure ML's code upload (``azure.ai.ml._utils._asset_utils``: ``get_ignore_file``, ``IgnoreFile``,
``get_upload_files_from_folder``) walks the code folder following symbolic links and leaves out the
files its ``.amlignore`` excludes or, when there is none, its ``.gitignore``; ignore files of
subfolders are not read. A project without an ignore file, or with one that forgets a line, would
upload its local credentials, keys and data, so :data:`ALWAYS_LEFT_OUT` is left out whatever the
ignore file says. One walker serves every caller: the submitter uploads a copy of the snapshot, the
local replay gives each step a copy of it, and ``doctor`` asks why a file is not in it and which
files hold secrets (``secret_scan``).

The snapshot never leaves the project: the walk does not follow symbolic links blindly. A link is
resolved first; one that resolves outside the project, or to nothing, is left out (and listed in
:attr:`CodeSnapshot.links_out`); one to a file inside is uploaded as that file's content; one to a
folder inside is walked once, when it brings in a folder the snapshot has not walked yet (a folder
of the project outside the code folder), and left out otherwise (the folder is already there, or
it is an ancestor: a loop). Links are resolved with the rules of the target too, so a link to
``conf/local/credentials.yml`` is left out like the file itself.

Ignore files are applied as azure-ai-ml applies them (see ``ignore_rules``).
"""

from __future__ import annotations

import fnmatch
import functools
import os
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from kedro_azureml_deploy.errors import SubmitError
from kedro_azureml_deploy.snapshot.ignore_rules import IgnoreRules

if TYPE_CHECKING:
    from kedro_azureml_deploy.snapshot.secret_scan import SecretScan

#: Folders left out wherever they are: version control, virtual environments (and any folder
#: holding a ``pyvenv.cfg``: a virtual environment under another name), local replays, and the
#: folders of SSH keys and of the Azure and AWS command lines' credentials and token caches.
ALWAYS_LEFT_OUT_FOLDERS = (".git", ".venv", ".azureml-local", ".ssh", ".azure", ".aws")
#: Folders left out at the project root: Kedro's local configuration and data.
ALWAYS_LEFT_OUT_ROOT_FOLDERS = ("conf/local", "data")
#: Files left out wherever they are (matched case-insensitively): Kedro credentials, environment
#: files, private keys and certificates, and login files.
ALWAYS_LEFT_OUT_FILES = (
    "credentials*.yml",
    "credentials*.yaml",
    ".env*",
    "*.pem",
    "*.key",
    "*.pfx",
    "*.p12",
    "*.keytab",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".git-credentials",
    ".pgpass",
)
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
        links_out: each symbolic link left out because it resolves outside the project or to
            nothing, as (link relative to ``source``, its target); also in ``left_out``.
    """

    source: Path
    files: tuple[PurePosixPath, ...]
    size: int
    ignore_file: Path | None
    left_out: tuple[str, ...]
    project_path: Path
    links_out: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        """One line: how many files, how big, which ignore file applied, and everything that is
        never uploaded whatever the ignore file says (all of it: a secret left out is worth
        seeing)."""
        rules = f"{self.ignore_file.name} applied" if self.ignore_file else "no ignore file"
        text = f"{len(self.files)} file(s), {_size(self.size)} ({rules}"
        if self.left_out:
            text += f"; never uploaded: {', '.join(self.left_out)}"
        return text + ")"

    @functools.cached_property
    def secrets(self) -> SecretScan:
        """What detect-secrets finds in the files (scanned once, on first use)."""
        from kedro_azureml_deploy.snapshot.secret_scan import scan_files

        return scan_files(self.project_path, self.source, self.files)

    def copy_to(self, target: Path) -> Path:
        """Copy the files into ``target`` (created; it must not exist) and return it. A file
        reached through a link is copied as the content of its target: the copy holds no link."""
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
    links_out: list[tuple[str, str]] = []
    size = 0
    walked: set[Path] = set()  # the real folders walked, so none is walked twice
    trees: list[Path] = [source]  # the folders walked whole: the code folder, then linked ones
    folders: list[tuple[Path, PurePosixPath]] = [(source, PurePosixPath("."))]
    linked_folders: list[tuple[Path, PurePosixPath]] = []
    while folders or linked_folders:
        if not folders:  # linked folders last, so a folder is listed where it really is
            real, shown = linked_folders.pop(0)
            if any(real.is_relative_to(tree) for tree in trees):
                left_out.append(f"{shown}/")  # already in the snapshot
                continue
            trees.append(real)
            folders.append((real, shown))
        real, shown = folders.pop()
        if real in walked:
            left_out.append(f"{shown}/")
            continue
        walked.add(real)
        try:
            entries = sorted(os.scandir(real), key=lambda entry: entry.name)
        except OSError:  # unreadable: Azure ML could not read it either
            left_out.append(f"{shown}/")
            continue
        for entry in entries:
            relative = shown / entry.name
            path = source / relative  # where the upload sees it
            if entry.is_symlink():
                target = Path(os.path.realpath(entry.path))
                if not target.exists() or not target.is_relative_to(root):
                    left_out.append(str(relative))
                    links_out.append((str(relative), str(Path(entry.path).readlink())))
                elif target.is_dir():
                    if (
                        _folder_left_out(root, path)
                        or _in_left_out_folder(root, target)
                        or real.is_relative_to(target)  # a loop: the link is inside its target
                    ):
                        left_out.append(f"{relative}/")
                    elif skipped is None or not target.is_relative_to(skipped):
                        linked_folders.append((target, relative))
                elif (
                    _file_left_out(entry.name)
                    or _file_left_out(target.name)
                    or _in_left_out_folder(root, target.parent)
                ):
                    left_out.append(str(relative))
                elif target.is_file() and not rules.excludes(path):
                    files.append(relative)
                    size += target.stat().st_size
            elif entry.is_dir(follow_symlinks=False):
                if _folder_left_out(root, path) or _folder_left_out(root, Path(entry.path)):
                    left_out.append(f"{relative}/")
                elif Path(entry.path) != skipped:
                    folders.append((Path(entry.path), relative))
            elif entry.is_file(follow_symlinks=False):
                if _file_left_out(entry.name):
                    left_out.append(str(relative))
                elif not rules.excludes(path):
                    files.append(relative)
                    size += entry.stat(follow_symlinks=False).st_size
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
        links_out=tuple(sorted(links_out)),
    )


def _folder_left_out(root: Path, folder: Path) -> bool:
    if folder.name in ALWAYS_LEFT_OUT_FOLDERS or _is_virtual_environment(folder):
        return True
    try:
        relative = folder.relative_to(root).as_posix()
    except ValueError:  # a linked folder outside the project
        return False
    return relative in ALWAYS_LEFT_OUT_ROOT_FOLDERS


def _is_virtual_environment(folder: Path) -> bool:
    """A Python virtual environment, whatever its name (``.venv-step``, ``env``): never walked,
    never uploaded (its ``pyvenv.cfg`` marks it, as the ``venv`` module writes it)."""
    return (folder / "pyvenv.cfg").is_file()


def _in_left_out_folder(root: Path, folder: Path) -> bool:
    """Whether ``folder`` (inside ``root``) or a folder above it up to ``root`` is left out."""
    relative = PurePosixPath(folder.relative_to(root).as_posix())
    return any(
        _folder_left_out(root, root / part) for part in (relative, *relative.parents) if part.name
    )


def _file_left_out(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name.lower(), pattern) for pattern in ALWAYS_LEFT_OUT_FILES)


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
