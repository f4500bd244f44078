"""A step's fingerprint: everything that decides what the step computes, as digests.

Azure ML reuses a step when its component (command, environment, code) and its inputs are unchanged.
The replay fingerprints the same things, and what it knows of the step's nodes on top:

- ``command``: the step's command as compiled (placeholders unexpanded, so the run's folders do
  not count), and ``environment_variables``: those the compiled job sets;
- ``inputs``: the content digest of each input folder (an upstream step's output, a data asset);
- ``code``: the digest of the code snapshot, leaving out the files counted on their own below;
- ``files``: the digest of each snapshot (or project) file the step's nodes read through the
  catalog (raw inputs shipped in the snapshot), so that a changed raw input re-runs only the steps
  that read it; and ``parameters``: the digest of each parameter the nodes consume, with the
  step's ``--params`` applied. Parameter files are left out of ``code`` for the same reason;
- ``interpreter``: the step's Python and the distributions installed in its environment
  (``importlib.metadata``, asked once per interpreter and process), or the cache key of the step
  environment the replay built (the lock's digest, the Python, the runtime's source).

Digests are SHA-256 of the content, never of times: a file rewritten with the same bytes leaves
the fingerprint as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: A tree's digest: path (posix, relative) to the digest of the file, ``"dir"`` for a folder.
Manifest = dict[str, str]

_FOLDER = "dir"
_MISSING = "missing"
_ENVIRONMENT_SCRIPT = (
    "import importlib.metadata as m, json, sys;"
    "print(json.dumps([sys.version, sys.implementation.name, sorted({(d.metadata['Name'] or '')"
    ".lower() + '==' + d.version for d in m.distributions()})]))"
)
_environments: dict[str, str] = {}


def text_digest(text: str) -> str:
    """The SHA-256 of ``text`` (UTF-8), in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def value_digest(value: Any) -> str:
    """The digest of a JSON-like value (keys sorted; anything else by its ``repr``)."""
    return text_digest(json.dumps(value, sort_keys=True, default=repr))


def file_digest(path: Path) -> str:
    """The SHA-256 of the file at ``path``."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def tree_manifest(path: Path) -> Manifest:
    """Every file and folder under ``path`` with its digest (``{".": digest}`` for a file,
    ``{}`` when ``path`` is missing). Links are neither followed nor hashed as their target: a
    link is recorded by where it points."""
    if not path.exists() and not path.is_symlink():
        return {}
    if not path.is_dir():
        return {".": file_digest(path)}
    manifest: Manifest = {}
    for folder, folders, files in os.walk(path):
        base = Path(folder)
        for name in folders:
            manifest[(base / name).relative_to(path).as_posix()] = _FOLDER
        for name in files:
            entry = base / name
            relative = entry.relative_to(path).as_posix()
            if stat.S_ISLNK(entry.lstat().st_mode):
                manifest[relative] = "link:" + str(entry.readlink())
            else:
                manifest[relative] = file_digest(entry)
    return dict(sorted(manifest.items()))


def manifest_digest(manifest: Mapping[str, str]) -> str:
    """One digest for a whole manifest."""
    return value_digest(sorted(manifest.items()))


def path_digest(path: Path) -> str:
    """The digest of a file or folder's content, ``"missing"`` when there is none."""
    manifest = tree_manifest(path)
    return manifest_digest(manifest) if manifest or path.is_dir() else _MISSING


def environment_digest(bin_folder: Path) -> str:
    """The digest of the interpreter in ``bin_folder`` and of the distributions installed in its
    environment, asked once per interpreter in a process (one ``python -c`` of about 0.1 s).

    A step environment the replay built (``replay.step_environment``) is identified by its cache
    key instead, wherever it lies, without asking it. An interpreter that cannot be asked gets a
    digest of its path only."""
    from kedro_azureml_deploy.replay.step_environment import environment_identity

    key = environment_identity(bin_folder)
    if key is not None:
        return text_digest(f"step environment {key}")
    python = next(
        (bin_folder / name for name in ("python", "python3") if (bin_folder / name).exists()),
        bin_folder / "python",
    )
    key = str(python)
    if key not in _environments:
        try:
            answer = subprocess.run(
                [str(python), "-c", _ENVIRONMENT_SCRIPT],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            answer = f"unknown interpreter {python}"
        _environments[key] = text_digest(answer)
    return _environments[key]


@dataclass(frozen=True)
class StepFingerprint:
    """What a step computes from, as digests (see the module docstring).

    Attributes:
        command: digest of the compiled command.
        environment_variables: digest of the compiled environment variables.
        inputs: input port to the digest of its folder's content.
        code: digest of the code snapshot, without the files of ``files`` and parameter files.
        files: project-relative path of each file the nodes read to its digest.
        parameters: each parameter the nodes consume (``model_options.test_size``) to its digest.
        interpreter: digest of the step's Python and its installed distributions.
    """

    command: str
    environment_variables: str
    inputs: dict[str, str] = field(default_factory=dict)
    code: str = ""
    files: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    interpreter: str = ""

    @property
    def key(self) -> str:
        """One digest of the whole fingerprint: the step's address in the reuse cache."""
        return value_digest(asdict(self))

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepFingerprint:
        return cls(
            command=str(data["command"]),
            environment_variables=str(data["environment_variables"]),
            inputs=dict(data.get("inputs") or {}),
            code=str(data.get("code") or ""),
            files=dict(data.get("files") or {}),
            parameters=dict(data.get("parameters") or {}),
            interpreter=str(data.get("interpreter") or ""),
        )


def what_changed(
    earlier: StepFingerprint,
    now: StepFingerprint,
    *,
    earlier_code: Mapping[str, str] | None = None,
    code: Mapping[str, str] | None = None,
    input_names: Mapping[str, str] | None = None,
) -> list[str]:
    """What differs between two fingerprints of a step, in words (empty when nothing does).

    Args:
        earlier, now: the fingerprints.
        earlier_code, code: the code manifests behind ``code`` digests, to name changed files.
        input_names: input port to what it is (``output model_input_table of step model_input``).
    """
    changes = []
    if earlier.command != now.command:
        changes.append("its command changed")
    if earlier.environment_variables != now.environment_variables:
        changes.append("its environment variables changed")
    for port in sorted(set(earlier.inputs) | set(now.inputs)):
        if earlier.inputs.get(port) != now.inputs.get(port):
            named = (input_names or {}).get(port)
            changes.append(f"input {port} changed" + (f" ({named})" if named else ""))
    for path in sorted(set(earlier.files) | set(now.files)):
        if earlier.files.get(path) != now.files.get(path):
            changes.append(f"{path} changed")
    for name in sorted(set(earlier.parameters) | set(now.parameters)):
        if earlier.parameters.get(name) != now.parameters.get(name):
            changes.append(f"parameter {name} changed")
    if earlier.code != now.code:
        files = _changed_files(earlier_code, code)
        changes.append("code changed" + (f": {', '.join(files)}" if files else ""))
    if earlier.interpreter != now.interpreter:
        changes.append("the Python environment changed (interpreter or installed distributions)")
    return changes


def _changed_files(
    earlier: Mapping[str, str] | None, now: Mapping[str, str] | None, shown: int = 3
) -> list[str]:
    if earlier is None or now is None:
        return []
    changed = [p for p in sorted(set(earlier) | set(now)) if earlier.get(p) != now.get(p)]
    changed = [p for p in changed if earlier.get(p) != _FOLDER and now.get(p) != _FOLDER]
    if len(changed) > shown:
        return [*changed[:shown], f"and {len(changed) - shown} more"]
    return changed


def code_manifest(snapshot: Mapping[str, str], leave_out: Iterable[str]) -> Manifest:
    """The snapshot manifest's files without ``leave_out`` (paths, and folders with all under
    them); folders themselves do not count."""
    prefixes = tuple(sorted(set(leave_out)))
    return {
        path: digest
        for path, digest in snapshot.items()
        if digest != _FOLDER
        and not any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)
    }
