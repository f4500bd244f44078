"""The code snapshot of a replay run: what a submission would upload, copied once per run.

The files are the ones :func:`kedro_azureml_deploy.snapshot.code_snapshot.code_snapshot` lists for the
submitter (Azure ML's ignore-file rules plus what never leaves the machine), so a step of a replay
sees exactly the code a step on Azure ML would.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kedro_azureml_deploy.errors import ReplayError, SubmitError
from kedro_azureml_deploy.snapshot.code_snapshot import CodeSnapshot, code_snapshot


@dataclass(frozen=True)
class Snapshot:
    """A code snapshot on disk.

    Attributes:
        path: the folder holding the copied files.
        files: how many files were copied.
        size: their total size in bytes.
        ignore_file: the ``.amlignore`` or ``.gitignore`` that was applied, ``None`` if neither.
    """

    path: Path
    files: int
    size: int
    ignore_file: Path | None


def take_snapshot(
    source: Path,
    target: Path,
    *,
    project_path: Path,
    leave_out: Path | None = None,
    listing: CodeSnapshot | None = None,
) -> Snapshot:
    """Copy into ``target`` (which must not exist) the files of the code folder ``source`` that a
    submission would upload; ``leave_out`` is a folder neither walked nor copied (the runs).
    ``listing`` is the snapshot of ``source`` the command already took (``doctor`` did), copied
    as it is instead of walking the folder again.

    Raises:
        ReplayError: the folder is missing, or no file is left to upload (a submission is refused
            then too).
    """
    snapshot = listing
    if snapshot is None or snapshot.source != source.resolve():
        code_directory = os.path.relpath(source.resolve(), project_path.resolve())
        try:
            snapshot = code_snapshot(project_path, code_directory, leave_out=leave_out)
        except SubmitError as exc:
            raise ReplayError(str(exc)) from None
    snapshot.copy_to(target)
    return Snapshot(
        path=target, files=len(snapshot.files), size=snapshot.size, ignore_file=snapshot.ignore_file
    )


def copy_snapshot(snapshot: Path, target: Path) -> None:
    """A fresh working copy of ``snapshot`` at ``target``, as each Azure ML step gets.

    Links are copied as links, never followed (so a loop cannot recurse), and a link that leads
    out of the snapshot, or to nothing, is not copied: a step's working copy never reaches out of
    it. (The run's snapshot holds no link: :meth:`CodeSnapshot.copy_to` copies contents.)
    """
    shutil.copytree(snapshot, target, symlinks=True, ignore=_links_leaving(snapshot))


def _links_leaving(snapshot: Path) -> Callable[[str, list[str]], set[str]]:
    inside = snapshot.resolve()

    def ignore(folder: str, names: list[str]) -> set[str]:
        leaving = set()
        for name in names:
            path = Path(folder, name)
            if path.is_symlink():
                target = Path(os.path.realpath(path))
                if not target.exists() or not target.is_relative_to(inside):
                    leaving.add(name)
        return leaving

    return ignore
