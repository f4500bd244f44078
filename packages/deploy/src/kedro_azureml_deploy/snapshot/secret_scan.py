"""The secrets in a code snapshot, found by content with Yelp's detect-secrets before anything leaves
the machine.

Every file the snapshot lists is scanned with detect-secrets' default plugins (private keys, AWS,
Azure storage and other cloud keys, JWTs, high-entropy strings, passwords in assignments, ...) and
its default filters, except binary files and files over :data:`MAX_SCANNED_BYTES`. False positives
are allowed with detect-secrets' own mechanisms: a line ending with ``# pragma: allowlist secret``,
or a ``.secrets.baseline`` at the project root (``detect-secrets scan > .secrets.baseline``), whose
plugins, filters and known results then apply; a result it marks ``is_secret: true`` (audited as
real) is still reported. detect-secrets is imported when a scan runs, never with the package.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

#: The baseline detect-secrets reads, at the project root.
BASELINE_FILE = ".secrets.baseline"
#: Files larger than this are not scanned (``doctor`` warns about large files anyway).
MAX_SCANNED_BYTES = 2 * 2**20
#: A file whose first bytes hold a NUL byte is binary and not scanned.
_BINARY_PROBE_BYTES = 8192


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
        scanned: how many files were scanned.
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


def scan_files(project_path: Path, source: Path, files: Iterable[PurePosixPath]) -> SecretScan:
    """Scan ``files`` (relative to the code folder ``source``) with detect-secrets, as seen from
    ``project_path`` (the paths a ``.secrets.baseline`` there records).

    Args:
        project_path: the project root, where ``.secrets.baseline`` is read.
        source: the code folder.
        files: the files of its code snapshot (see ``CodeSnapshot.secrets``).
    """
    from detect_secrets import SecretsCollection
    from detect_secrets.core import baseline as baselines
    from detect_secrets.settings import default_settings, get_plugins, transient_settings

    root = project_path
    to_scan: list[str] = []
    too_large: list[PurePosixPath] = []
    for relative in files:
        path = source / relative
        shown = os.path.relpath(path, root).replace(os.sep, "/")
        if shown == BASELINE_FILE:
            continue  # hashes, not secrets
        if path.stat().st_size > MAX_SCANNED_BYTES:
            too_large.append(PurePosixPath(shown))
        elif not _is_binary(path):
            to_scan.append(shown)
    baseline_path = root / BASELINE_FILE
    known = SecretsCollection()
    problem = None
    found: list[SecretFound] = []
    with contextlib.ExitStack() as settings:
        if baseline_path.is_file():
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
        if not baseline_path.is_file() or problem is not None:
            settings.enter_context(default_settings())
        collection = SecretsCollection(root=str(root))
        for shown in to_scan:
            collection.scan_file(shown)
        allowed = {  # known to the baseline, and not audited as a real secret
            (filename, secret.type, secret.secret_hash)
            for filename, secret in known
            if secret.is_secret is not True
        }
        for filename, secret in collection:
            if (filename, secret.type, secret.secret_hash) not in allowed:
                found.append(SecretFound(PurePosixPath(filename), secret.line_number, secret.type))
    return SecretScan(
        secrets=tuple(sorted(found, key=lambda s: (s.path, s.line, s.kind))),
        scanned=len(to_scan),
        not_scanned=tuple(too_large),
        baseline=baseline_path if baseline_path.is_file() else None,
        baseline_problem=problem,
    )


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


def _is_binary(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return b"\0" in file.read(_BINARY_PROBE_BYTES)
    except OSError:
        return True
