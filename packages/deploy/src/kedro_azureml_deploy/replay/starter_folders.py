"""The temporary folders of early warm starters, and the removal of those whose owner is gone.

``run --local`` starts its warm starter before the job is checked, in a folder of the system's
temporary folder, and deletes that folder at its end; one killed with ``kill -9`` cannot, so each
``run --local`` first removes the folders whose owner is gone.

Whether the owner is gone is asked of the kernel, not guessed from a pid: the owner holds an
``fcntl.flock`` on the folder's ``owner.lock`` for as long as it uses the folder, and the kernel
releases it when the owner ends, however it ends (as :mod:`.run_lock` does for a run). A pid in
the folder's name would be reused by a later process, which would keep a stale folder forever,
and means another process in another pid namespace sharing ``/tmp`` (a container), whose live
folder would be taken for a stale one. The lock file appears under its name only once locked (it
is locked under another name, then renamed), so a folder being made is never taken for stale.

A folder is removed only when it is a folder of this user (not a symlink), its lock file opens
without following a symlink, and its lock can be taken; a folder without a lock file (being made,
or made by an older version) is left alone. ``shutil.rmtree`` follows no symlink inside it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

PREFIX = "kedro-azureml-starter-"
OWNER_LOCK = "owner.lock"


class StarterFolder:
    """A temporary folder of this process's, locked until :meth:`remove`.

    Attributes:
        path: the folder.
    """

    def __init__(self, path: Path, lock: int) -> None:
        self.path = path
        self._lock: int | None = lock

    @classmethod
    def make(cls, temporary: Path | None = None) -> StarterFolder:
        """Remove the stale starter folders of ``temporary`` (the system's temporary folder by
        default), then make and lock a new one there."""
        remove_stale_folders(temporary)
        path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=temporary))
        try:
            pending = path / f"{OWNER_LOCK}.new"
            lock = os.open(pending, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)  # a new file: nobody else can hold it
            pending.rename(path / OWNER_LOCK)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        return cls(path, lock)

    def remove(self) -> None:
        """Delete the folder, then release its lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None


def remove_stale_folders(temporary: Path | None = None) -> None:
    """Remove the starter folders of ``temporary`` whose owner is gone (see the module docstring).
    Never raises: a folder that cannot be checked or removed is left as it is."""
    root = Path(temporary or tempfile.gettempdir())
    try:
        entries = [entry for entry in os.scandir(root) if entry.name.startswith(PREFIX)]
    except OSError:
        return
    for entry in entries:
        with contextlib.suppress(OSError):
            if not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_uid != os.getuid():
                continue
            lock = os.open(Path(entry.path, OWNER_LOCK), os.O_RDWR | os.O_NOFOLLOW)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held: its owner is alive
                shutil.rmtree(entry.path)
            finally:
                os.close(lock)
