"""``.azureml-local/``: what the tool writes into a project for itself, never committed.

Compiled jobs (``compile``'s default output, ``run --local``, the dry run) and replay runs live
there. The first write creates ``.azureml-local/.gitignore`` holding ``*``, so the folder ignores
itself and ``git status`` stays clean (``copier update`` refuses a dirty tree) without the user
editing their own ``.gitignore``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: The project folder the tool writes for itself, relative to the project root.
LOCAL_FOLDER = Path(".azureml-local")
#: Where compiled jobs go unless the user names a file: ``.azureml-local/compiled/<job>.yml``.
COMPILED_FOLDER = LOCAL_FOLDER / "compiled"

_GITIGNORE = "# Written by kedro-azureml for itself: never committed.\n*\n"


def ignored_folder(folder: Path) -> Path:
    """Create ``folder`` (and its parents) as a folder git ignores, and return it.

    The ``.gitignore`` goes into the nearest ``.azureml-local`` among ``folder`` and its parents,
    or into ``folder`` itself when it lies elsewhere (a ``--runs-dir`` of the user's choosing). An
    existing ``.gitignore`` is left as it is.
    """
    folder.mkdir(parents=True, exist_ok=True)
    root = next((p for p in (folder, *folder.parents) if p.name == LOCAL_FOLDER.name), folder)
    gitignore = root / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(_GITIGNORE, encoding="utf-8")
    return folder


def write_atomically(path: Path, text: str, *, durable: bool = True) -> None:
    """Replace ``path`` with ``text`` in one step (a temporary file renamed over it).

    A link at ``path`` is replaced, never written through: nothing outside the project is
    touched by what the tool writes for itself. ``durable``: the text is on disk before the
    rename (``fsync``), so even a machine's crash leaves the old text or the new one; without,
    only a crash of this process is covered (the kernel writes the file later), and the write
    costs no wait for the disk."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            if durable:
                os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
