"""The reuse cache: outputs of succeeded steps, addressed by their fingerprint.

``.azureml-local/cache/`` holds ``blobs/<digest>`` (each output file once, by its SHA-256) and
``entries/<fingerprint key>.json`` (a step's output folders as manifests of blobs). A step whose
fingerprint has an entry gets byte-identical copies of those files instead of running. The cache
keeps at most :data:`DEFAULT_LIMIT` bytes of blobs, or ``KEDRO_AZUREML_CACHE_SIZE`` (bytes, or a
size such as ``500MB``, ``2GiB``; ``0`` stores nothing); past it, the entries used least recently
go first.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro_azureml_deploy.errors import ReplayError
from kedro_azureml_deploy.local_folder import LOCAL_FOLDER, ignored_folder, write_atomically
from kedro_azureml_deploy.replay.fingerprint import file_digest, tree_manifest

#: Where the cache lives, relative to the project.
CACHE_FOLDER = LOCAL_FOLDER / "cache"
#: The environment variable that sets the cache's size limit.
SIZE_VARIABLE = "KEDRO_AZUREML_CACHE_SIZE"
#: The size limit when ``KEDRO_AZUREML_CACHE_SIZE`` is not set: 2 GiB.
DEFAULT_LIMIT = 2 * 2**30
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20}
_UNITS |= {"gib": 2**30, "tb": 10**12, "tib": 2**40}
_FOLDER = "dir"


def size_limit(environ: Mapping[str, str] = os.environ) -> int:
    """The cache's size limit in bytes.

    Raises:
        ReplayError: ``KEDRO_AZUREML_CACHE_SIZE`` is not a size.
    """
    text = environ.get(SIZE_VARIABLE, "").strip()
    if not text:
        return DEFAULT_LIMIT
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]*)", text)
    if match is None or match[2].lower() not in _UNITS:
        raise ReplayError(
            f"{SIZE_VARIABLE}={text!r} is not a size: write bytes or a size such as 500MB or 2GiB."
        )
    return int(float(match[1]) * _UNITS[match[2].lower()])


@dataclass(frozen=True)
class CacheEntry:
    """A step's outputs in the cache.

    Attributes:
        key: the step's fingerprint key.
        step: the step's name, and ``run_id`` the run that stored it.
        size: bytes of its files.
        used: when it was stored or last restored (seconds since the epoch).
    """

    key: str
    step: str
    run_id: str
    size: int
    used: float


class StepCache:
    """The content-addressed store of step outputs under ``folder``."""

    def __init__(self, folder: Path, *, limit: int | None = None) -> None:
        self.folder = folder
        self.limit = size_limit() if limit is None else limit

    @property
    def _entries(self) -> Path:
        return self.folder / "entries"

    @property
    def _blobs(self) -> Path:
        return self.folder / "blobs"

    def has(self, key: str) -> bool:
        return (self._entries / f"{key}.json").is_file()

    def store(self, key: str, step: str, run_id: str, outputs: Mapping[str, Path]) -> bool:
        """Keep the output folders of a succeeded step under ``key``; ``False`` when they do not
        fit under the size limit. Nothing is stored past the limit, older entries go first."""
        manifests = {port: tree_manifest(folder) for port, folder in outputs.items()}
        size = sum(
            (folder / path).stat().st_size
            for port, folder in outputs.items()
            for path, digest in manifests[port].items()
            if digest != _FOLDER and not digest.startswith("link:")
        )
        if size > self.limit:
            return False
        ignored_folder(self.folder)
        self._blobs.mkdir(exist_ok=True)
        self._entries.mkdir(exist_ok=True)
        for port, folder in outputs.items():
            for path, digest in manifests[port].items():
                blob = self._blobs / digest
                if digest == _FOLDER or digest.startswith("link:") or blob.exists():
                    continue
                partial = blob.with_name(f".{digest}.{os.getpid()}")
                shutil.copyfile(folder / path, partial)
                partial.replace(blob)
        entry = {"key": key, "step": step, "run_id": run_id, "size": size, "outputs": manifests}
        write_atomically(self._entries / f"{key}.json", json.dumps(entry, indent=1) + "\n")
        self.evict()
        return True

    def restore(self, key: str, outputs: Mapping[str, Path]) -> str | None:
        """Copy the outputs stored under ``key`` into the (empty) folders ``outputs``; the run that
        stored them, or ``None`` when the entry is gone or incomplete (nothing restored then)."""
        entry = self._read(key)
        if entry is None or set(entry["outputs"]) != set(outputs):
            return None
        files = [
            (port, path, digest)
            for port, manifest in entry["outputs"].items()
            for path, digest in manifest.items()
        ]
        if any(
            d != _FOLDER and not d.startswith("link:") and not (self._blobs / d).is_file()
            for _, _, d in files
        ):
            return None
        for port, path, digest in files:
            target = outputs[port] / path if path != "." else outputs[port]
            if digest == _FOLDER:
                target.mkdir(parents=True, exist_ok=True)
            elif digest.startswith("link:"):
                target.parent.mkdir(parents=True, exist_ok=True)
                target.symlink_to(digest.removeprefix("link:"))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self._blobs / digest, target)
                if file_digest(target) != digest:
                    raise ReplayError(
                        f"the reuse cache's copy of {target} is damaged: clear the cache with "
                        "`kedro azureml cache --clear`, then replay again."
                    )
        os.utime(self._entries / f"{key}.json")
        return str(entry["run_id"])

    def entries(self) -> list[CacheEntry]:
        """The entries, least recently used first."""
        found = []
        for path in self._entries.glob("*.json") if self._entries.is_dir() else []:
            entry = self._read(path.stem)
            if entry is not None:
                found.append(
                    CacheEntry(
                        key=path.stem,
                        step=str(entry["step"]),
                        run_id=str(entry["run_id"]),
                        size=int(entry["size"]),
                        used=path.stat().st_mtime,
                    )
                )
        return sorted(found, key=lambda e: (e.used, e.key))

    def size(self) -> int:
        """Bytes of blobs on disk."""
        if not self._blobs.is_dir():
            return 0
        return sum(blob.stat().st_size for blob in self._blobs.iterdir() if blob.is_file())

    def evict(self) -> list[CacheEntry]:
        """Remove the least recently used entries until the blobs fit under the limit."""
        entries = self.entries()
        removed = []
        while entries and self.size() > self.limit:
            oldest = entries.pop(0)
            (self._entries / f"{oldest.key}.json").unlink(missing_ok=True)
            removed.append(oldest)
            self._collect_garbage()
        return removed

    def clear(self) -> int:
        """Remove every entry and blob; the number of entries removed."""
        count = len(self.entries())
        if self.folder.exists():
            shutil.rmtree(self.folder)
        return count

    def _collect_garbage(self) -> None:
        used = set()
        for path in self._entries.glob("*.json"):
            entry = self._read(path.stem)
            for manifest in (entry or {}).get("outputs", {}).values():
                used.update(manifest.values())
        for blob in self._blobs.iterdir():
            if blob.name not in used:
                blob.unlink(missing_ok=True)

    def _read(self, key: str) -> dict[str, Any] | None:
        try:
            return json.loads((self._entries / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None


def project_cache(project_path: Path) -> StepCache:
    """The reuse cache of the project at ``project_path``."""
    return StepCache(project_path / CACHE_FOLDER)


def describe_size(size: int) -> str:
    """``1.5 MiB``."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"
