"""Read-only inputs, as Azure ML mounts them (``ro_mount``).

Permissions do the work where they apply: a finished step's output folders lose their write bits
while the replay runs, so a step that writes into its input fails as it would on Azure. They do
not stop root (containers, CI), so the replay also takes a fingerprint of every input before a
step starts and compares it when the step ends.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

#: Relative path, size and modification time of every entry under a folder (``None`` if missing).
Fingerprint = frozenset[tuple[str, int, int]] | None

WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def fingerprint(path: Path) -> Fingerprint:
    """What changes when anything under ``path`` is created, deleted, resized or rewritten."""
    if not path.exists():
        return None
    if path.is_file():
        info = path.stat()
        return frozenset({(".", info.st_size, info.st_mtime_ns)})
    entries = set()
    for folder, folders, files in os.walk(path):
        for name in (*folders, *files):
            entry = Path(folder) / name
            info = entry.lstat()
            size = 0 if stat.S_ISDIR(info.st_mode) else info.st_size
            entries.add((entry.relative_to(path).as_posix(), size, info.st_mtime_ns))
    return frozenset(entries)


def make_read_only(path: Path) -> None:
    """Remove the write bits of ``path`` and of everything under it."""
    for entry in _tree(path):
        entry.chmod(stat.S_IMODE(entry.lstat().st_mode) & ~WRITE_BITS)


def make_writable(path: Path) -> None:
    """Give the owner back the write bit on ``path`` and on everything under it."""
    for entry in _tree(path):
        entry.chmod(stat.S_IMODE(entry.lstat().st_mode) | stat.S_IWUSR)


def remove_folder(path: Path) -> None:
    """Delete ``path`` and everything under it, read-only entries included."""
    if path.exists():
        make_writable(path)
        shutil.rmtree(path)


def _tree(path: Path) -> list[Path]:
    """``path`` and every entry under it, symbolic links left out (chmod would follow them);
    nothing when ``path`` does not exist."""
    if not path.exists():
        return []
    entries = [path]
    for folder, folders, files in os.walk(path):
        entries += [Path(folder) / name for name in (*folders, *files)]
    return [entry for entry in entries if not entry.is_symlink()]
