"""The secrets in a code snapshot, found by content with Yelp's detect-secrets before anything leaves
the machine.

Every file the snapshot lists is scanned with detect-secrets' default plugins (private keys, AWS,
Azure storage and other cloud keys, JWTs, high-entropy strings, passwords in assignments, ...) and
its default filters, except binary files and files over :data:`MAX_SCANNED_BYTES`. False positives
are allowed with detect-secrets' own mechanisms: a line ending with ``# pragma: allowlist secret``,
or a ``.secrets.baseline`` at the project root (``detect-secrets scan > .secrets.baseline``), whose
plugins, filters and known results then apply; a result it marks ``is_secret: true`` (audited as
real) is still reported. detect-secrets is imported when a scan runs, never with the package.

What a scan finds in each file is kept in the user's cache (:class:`ScanCache`, one file per
project, nothing written into the project) by the file's path and SHA-256 and the scan's settings
(detect-secrets' version, plugins and filters): a file unchanged since an earlier scan with the
same settings is not scanned again, so ``doctor``, ``compile`` and every ``run`` pay only for the
files that changed. A baseline's known results are applied after, to cached and fresh results
alike.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from kedro_azureml_deploy.local_folder import write_atomically
from kedro_azureml_deploy.user_cache import user_cache

#: The baseline detect-secrets reads, at the project root.
BASELINE_FILE = ".secrets.baseline"
#: Files larger than this are not scanned (``doctor`` warns about large files anyway).
MAX_SCANNED_BYTES = 2 * 2**20
#: A file whose first bytes hold a NUL byte is binary and not scanned.
_BINARY_PROBE_BYTES = 8192
#: The user cache's folder of earlier scans' results, one file per project.
CACHE_NAME = "secret-scan"
#: How many projects' results the cache keeps; past it, the least recently written go.
CACHE_PROJECTS = 256
#: The cache's own format; a file of another format is ignored (and replaced).
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class SecretFound:
    """One secret: where (a file relative to the project, a line) and what kind."""

    path: PurePosixPath
    line: int
    kind: str


@dataclass(frozen=True)
class SecretScan:
    """What the scan of a snapshot found.

    Attributes:
        secrets: each secret, by file and line.
        scanned: how many files were scanned, from the cache or afresh.
        not_scanned: the files left unscanned because they are larger than
            :data:`MAX_SCANNED_BYTES`, relative to the project (binary files are not listed).
        baseline: the ``.secrets.baseline`` that applied, ``None`` if none.
        baseline_problem: why the baseline could not be read, ``None`` when it could.
    """

    secrets: tuple[SecretFound, ...]
    scanned: int
    not_scanned: tuple[PurePosixPath, ...]
    baseline: Path | None
    baseline_problem: str | None = None
    #: Of ``scanned``, how many were unchanged since an earlier scan, and not scanned again.
    from_cache: int = 0


def scan_files(project_path: Path, source: Path, files: Iterable[PurePosixPath]) -> SecretScan:
    """Scan ``files`` (relative to the code folder ``source``) with detect-secrets, as seen from
    ``project_path`` (the paths a ``.secrets.baseline`` there records).

    Without a baseline, when every file is unchanged since an earlier scan with the default
    settings, detect-secrets is not even imported (see :func:`_default_settings_key`).

    Args:
        project_path: the project root, where ``.secrets.baseline`` is read.
        source: the code folder.
        files: the files of its code snapshot (see ``CodeSnapshot.secrets``).
    """
    root = project_path
    to_scan: dict[str, str] = {}  # each text file, as the baseline names it: its SHA-256
    too_large: list[PurePosixPath] = []
    for relative in files:
        path = source / relative
        shown = os.path.relpath(path, root).replace(os.sep, "/")
        if shown == BASELINE_FILE:
            continue  # hashes, not secrets
        if path.stat().st_size > MAX_SCANNED_BYTES:
            too_large.append(PurePosixPath(shown))
        elif (digest := _text_digest(path)) is not None:
            to_scan[shown] = digest
    has_baseline = (root / BASELINE_FILE).is_file()  # decided once: the key depends on it
    defaults_key = None if has_baseline else _default_settings_key()
    if defaults_key is not None:
        cached = ScanCache.open(root, defaults_key)
        hits = {shown: cached.get(shown, digest) for shown, digest in to_scan.items()}
        if all(secrets is not None for secrets in hits.values()):
            found = [
                SecretFound(PurePosixPath(filename), secret.line, secret.kind)
                for filename, secrets in hits.items()
                for secret in secrets or ()
            ]
            return SecretScan(
                secrets=tuple(sorted(found, key=lambda s: (s.path, s.line, s.kind))),
                scanned=len(to_scan),
                not_scanned=tuple(too_large),
                baseline=None,
                from_cache=len(to_scan),
            )
    return _scan_with_detect_secrets(root, to_scan, too_large, has_baseline, defaults_key)


def _scan_with_detect_secrets(
    root: Path,
    to_scan: dict[str, str],
    too_large: list[PurePosixPath],
    has_baseline: bool,
    defaults_key: str | None,
) -> SecretScan:
    """:func:`scan_files` with detect-secrets: the files the cache has no result for are scanned
    afresh, and a baseline's plugins, filters and known results apply. ``has_baseline``: whether
    the scan found a baseline, once (one that comes or goes meanwhile changes nothing of this
    scan, so that its results are kept under the settings they were found with); ``defaults_key``:
    the key of the default settings, which apply without a baseline."""
    from detect_secrets import SecretsCollection
    from detect_secrets.core import baseline as baselines
    from detect_secrets.settings import default_settings, get_plugins, transient_settings

    baseline_path = root / BASELINE_FILE
    known = SecretsCollection()
    problem = None
    found: list[SecretFound] = []
    with contextlib.ExitStack() as settings:
        if has_baseline:
            try:
                recorded = baselines.load_from_file(str(baseline_path))
                known = SecretsCollection.load_from_baseline(recorded)
                plugins = recorded.get("plugins_used") or _default_plugins()
                settings.enter_context(transient_settings({**recorded, "plugins_used": plugins}))
                with _quiet_detect_secrets():
                    get_plugins()  # loaded lazily: fail here, not in the middle of the scan
            except Exception as exc:  # detect-secrets raises bare errors on a bad baseline
                settings.close()  # back to the settings before the baseline
                problem = f"{type(exc).__name__}: {exc}".removesuffix(": ")
                known = SecretsCollection()
        if not has_baseline or problem is not None:
            settings.enter_context(default_settings())
        key = defaults_key if not has_baseline and defaults_key is not None else _settings_key()
        cache = ScanCache.open(root, key)
        results = {shown: cache.get(shown, digest) for shown, digest in to_scan.items()}
        collection = SecretsCollection(root=str(root))
        for shown, result in results.items():
            if result is None:
                collection.scan_file(shown)
        fresh: dict[str, list[Secret]] = {shown: [] for shown, r in results.items() if r is None}
        for filename, secret in collection:
            fresh[filename].append(Secret(secret.line_number, secret.type, secret.secret_hash))
        for shown, secrets in fresh.items():
            if _text_digest(root / shown) == to_scan[shown]:  # the file detect-secrets read
                cache.put(shown, to_scan[shown], secrets)  # not when it changed while scanned
        cache.save()
        allowed = {  # known to the baseline, and not audited as a real secret
            (filename, secret.type, secret.secret_hash)
            for filename, secret in known
            if secret.is_secret is not True
        }
        for filename, secrets in (results | fresh).items():
            for secret in secrets or ():
                if (filename, secret.kind, secret.hash) not in allowed:
                    found.append(SecretFound(PurePosixPath(filename), secret.line, secret.kind))
    return SecretScan(
        secrets=tuple(sorted(found, key=lambda s: (s.path, s.line, s.kind))),
        scanned=len(to_scan),
        not_scanned=tuple(too_large),
        baseline=baseline_path if has_baseline else None,
        baseline_problem=problem,
        from_cache=len(to_scan) - len(fresh),
    )


@dataclass(frozen=True)
class Secret:
    """One result of detect-secrets in a file, as the cache keeps it: no secret value, only
    its line, its kind and the hash a baseline records."""

    line: int
    kind: str
    hash: str


class ScanCache:
    """What earlier scans found in each file, for one set of scan settings.

    One file per project in the user cache (see :func:`cache_file`), so a command writes
    nothing into the project for it, not even for a job the checks refuse. The file holds
    ``{"format", "project", "settings", "files": {path: {"sha256", "secrets": [[line, kind,
    hash], ...]}}}``. It is read only when it is a plain file (a link is ignored, and replaced
    on save), only for the project it names and under the settings it was written with; anything
    unreadable is an empty cache. Entries of files this scan did not list are kept (another
    job's code folder), those of files that no longer exist are dropped. Saving is best effort:
    where the cache cannot be written, every scan is a full one.
    """

    def __init__(self, project_path: Path, settings: str, files: dict[str, Any]) -> None:
        self._project_path = project_path
        self._settings = settings
        self._files = files
        self._changed = False

    @classmethod
    def open(cls, project_path: Path, settings: str) -> ScanCache:
        """The cache of ``project_path`` for ``settings`` (see :func:`_settings_key`)."""
        files: dict[str, Any] = {}
        path = cache_file(project_path)
        if not path.is_symlink():
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(path.read_text(encoding="utf-8"))
                if (
                    isinstance(data, dict)
                    and data.get("format") == _CACHE_FORMAT
                    and data.get("project") == str(project_path.resolve())
                    and data.get("settings") == settings
                    and isinstance(data.get("files"), dict)
                ):
                    files = data["files"]
        return cls(project_path, settings, files)

    def get(self, shown: str, digest: str) -> list[Secret] | None:
        """What the file ``shown`` held when its content had SHA-256 ``digest``; ``None`` when
        it was not scanned so (or the entry is malformed)."""
        entry = self._files.get(shown)
        if not isinstance(entry, dict) or entry.get("sha256") != digest:
            return None
        try:
            return [
                Secret(int(line), str(kind), str(hash_)) for line, kind, hash_ in entry["secrets"]
            ]
        except (KeyError, TypeError, ValueError):
            return None

    def put(self, shown: str, digest: str, secrets: list[Secret]) -> None:
        """Keep what a scan found in ``shown`` with content ``digest``."""
        self._files[shown] = {
            "sha256": digest,
            "secrets": [[s.line, s.kind, s.hash] for s in secrets],
        }
        self._changed = True

    def save(self) -> None:
        """Write the cache back when a file was scanned afresh (best effort, see the class)."""
        if not self._changed:
            return
        files = {
            shown: entry
            for shown, entry in sorted(self._files.items())
            if (self._project_path / shown).is_file()
        }
        project = str(self._project_path.resolve())
        data = {"format": _CACHE_FORMAT, "project": project, "settings": self._settings}
        path = cache_file(self._project_path)
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, json.dumps(data | {"files": files}) + "\n")
            _forget_oldest(path.parent, keep=CACHE_PROJECTS)


def cache_file(project_path: Path) -> Path:
    """The cache file of the project at ``project_path``: named by its resolved path's digest."""
    digest = hashlib.sha256(str(project_path.resolve()).encode()).hexdigest()[:32]
    return user_cache(CACHE_NAME) / f"{digest}.json"


def _forget_oldest(folder: Path, *, keep: int) -> None:
    """Remove all but the ``keep`` most recently written cache files of ``folder``, and the
    temporary files of saves killed mid-write (over an hour old: no save takes that long)."""
    stale = time.time() - 3600
    for leftover in folder.glob(".*.json.*"):
        with contextlib.suppress(OSError):
            if not leftover.is_symlink() and leftover.stat().st_mtime < stale:
                leftover.unlink()
    files = [path for path in folder.glob("*.json") if not path.is_symlink()]
    if len(files) <= keep:
        return
    files.sort(key=lambda path: path.stat().st_mtime, reverse=True)
    for path in files[keep:]:
        path.unlink(missing_ok=True)


def _settings_key() -> str:
    """A digest of what decides a file's results besides its path and content: detect-secrets'
    version, the plugins and filters in force (the defaults, or a baseline's), and the content of
    every file those settings name (a baseline's own plugin or filter, ``file://...``, or a
    model): editing one of them must mean a fresh scan."""
    from importlib.metadata import version

    from detect_secrets.settings import get_settings

    settings = get_settings().json()
    digest = hashlib.sha256(f"{version('detect-secrets')}\n".encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for named in sorted(_named_files(settings)):
        digest.update(f"\n{named}\n".encode())
        try:
            digest.update(hashlib.sha256(Path(named).read_bytes()).digest())
        except OSError:
            digest.update(b"unreadable")
    return digest.hexdigest()


def _default_settings_key() -> str | None:
    """The settings key of a scan without a baseline (detect-secrets' default settings), worked
    out without importing detect-secrets (with ``requests``, which it imports, 0.03 to 0.1 s):
    its version and the content of every file of the package. Those files hold the plugins and
    filters the default settings take (all of the package's; listing them imports every plugin)
    and the code that runs them, so a change of any of them means a fresh scan. ``None`` when
    the package cannot be found or read: the key is then :func:`_settings_key`'s."""
    import importlib.util
    from importlib.metadata import PackageNotFoundError, version

    spec = importlib.util.find_spec("detect_secrets")
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        digest = package_digest(Path(next(iter(spec.submodule_search_locations))))
        return hashlib.sha256(
            f"defaults\n{version('detect-secrets')}\n{digest}".encode()
        ).hexdigest()
    except (OSError, PackageNotFoundError):
        return None


def package_digest(folder: Path) -> str:
    """A digest of the relative path and content of every file under ``folder`` (compiled
    bytecode left out; a link to a file counts by its target's content, as uv's symlink link mode
    installs every file; links to folders are not followed).

    Raises:
        OSError: a file or folder cannot be read, or ``folder`` holds no ``__init__.py``.
    """
    entries = []

    def unreadable(error: OSError) -> None:
        raise error

    for parent, folders, names in os.walk(folder, onerror=unreadable):
        folders[:] = [name for name in folders if name != "__pycache__"]
        for name in names:
            path = Path(parent, name)
            if path.is_file():  # a link to a file counts by its target's content
                content = hashlib.sha256(path.read_bytes()).hexdigest()
                entries.append(f"{path.relative_to(folder).as_posix()} {content}")
    if not any(entry.startswith("__init__.py ") for entry in entries):
        raise FileNotFoundError(f"{folder} holds no package: its files cannot be read")
    return hashlib.sha256("\n".join(sorted(entries)).encode()).hexdigest()


def _named_files(settings: Any) -> set[str]:
    """The files a detect-secrets settings object names: every ``path``, ``model`` or
    ``file_name`` (a wordlist) value, as a local path (``file://`` and a ``::function`` suffix
    taken off)."""
    named: set[str] = set()
    if isinstance(settings, dict):
        for key, value in settings.items():
            if key in {"path", "model", "file_name"} and isinstance(value, str):
                named.add(value.removeprefix("file://").split("::", 1)[0])
            else:
                named |= _named_files(value)
    elif isinstance(settings, list):
        for value in settings:
            named |= _named_files(value)
    return named


@contextlib.contextmanager
def _quiet_detect_secrets() -> Iterator[None]:
    """Keep detect-secrets' own error logs off the console while a baseline is checked: the
    problem is reported as a doctor finding instead."""
    logger = logging.getLogger("detect-secrets")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _default_plugins() -> list[dict[str, str]]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    return [{"name": kind.__name__} for kind in get_mapping_from_secret_type_to_class().values()]


def _text_digest(path: Path) -> str | None:
    """The SHA-256 of a text file's content; ``None`` for a binary file (a NUL byte among its
    first bytes) or one that cannot be read, neither of which is scanned."""
    try:
        content = path.read_bytes()
    except OSError:
        return None
    if b"\0" in content[:_BINARY_PROBE_BYTES]:
        return None
    return hashlib.sha256(content).hexdigest()
