"""The checks of ``kedro azureml doctor``: what would break, or be lost, once a job runs on Azure ML.

Each finding names its severity, the dataset or file, what goes wrong and the fix. Errors block
``compile`` and ``run``; ``--strict`` makes warnings block too.

Checks, in order:

1. data crossing steps that cannot travel (the compiler's preflight);
2. terminal outputs with a local path: written to the step's disk, gone when the step ends;
3. pipeline inputs with a local path that the code snapshot leaves out (naming the rule);
4. the Kedro environment the steps run with, missing from the snapshot;
5. credential-like or large files that the snapshot would upload, and its total size;
6. catalog entries that name credentials, which live in files steps never get;
7. catalog paths that leave a step's mounts or the project (``doctor.paths``);
8. secrets that detect-secrets finds in the files the snapshot would upload (errors);
9. symbolic links the snapshot leaves out because they lead out of the project (warnings);
10. log files the snapshot would upload (Kedro's ``info.log`` holds this machine's paths);
11. a ``kedro-azureml-runtime`` pinned differently in ``requirements.txt`` and the ``Dockerfile``
    (``copier update`` changes the Dockerfile's, never the user's ``requirements.txt``);
12. ``--params`` keys that no parameter of the project defines (``doctor.params``, warnings).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.compiler.crossings import local_path
from kedro_azureml_deploy.doctor.findings import Diagnosis, Finding, Severity
from kedro_azureml_deploy.doctor.params import unknown_params
from kedro_azureml_deploy.doctor.paths import paths_leaving_their_place
from kedro_azureml_runtime.datasets import AzureMLAssetDataset, AzureMLPipelineDataset

if TYPE_CHECKING:
    from kedro.io import CatalogProtocol
    from kedro.pipeline import Pipeline

    from kedro_azureml_deploy.compiler import CompiledJob
    from kedro_azureml_deploy.snapshot.code_snapshot import CodeSnapshot

#: Files that look like secrets by name (keys and certificates are never uploaded at all).
SECRET_PATTERNS = ("*secret*",)
LARGE_FILE_BYTES = 10 * 2**20
LARGE_SNAPSHOT_BYTES = 100 * 2**20


def diagnose(
    *,
    job_name: str,
    compiled: CompiledJob,
    pipeline: Pipeline,
    catalog: CatalogProtocol,
    project_path: Path,
    env: str,
    snapshot: CodeSnapshot | None,
    catalog_config: Mapping[str, Any] | None = None,
    runtime_params: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Diagnosis:
    """Every finding for ``compiled`` (compiled with preflight off, so crossings carry their
    problems). ``snapshot`` is the code snapshot in code-upload mode, ``None`` in image mode;
    ``runtime_params`` the ``--params`` given, checked against ``parameters``, the project's own
    (before overrides)."""
    findings = [
        *_crossings(compiled),
        *_terminal_local_outputs(pipeline, catalog, project_path),
        *_credentials_from_files(pipeline, catalog_config or {}),
        *paths_leaving_their_place(pipeline, catalog, project_path),
        *_runtime_pins_disagree(project_path),
        *unknown_params(runtime_params or {}, parameters or {}, env=env),
    ]
    if snapshot is not None:
        findings += _inputs_left_out(pipeline, catalog, project_path, snapshot)
        findings += _environment_left_out(env, project_path, snapshot)
        findings += _uploaded_files(snapshot)
        findings += _secrets_in_snapshot(snapshot)
        findings += _links_out_of_project(snapshot)
        findings += _uploaded_logs(snapshot)
    return Diagnosis(
        job_name, tuple(findings), code=snapshot.describe() if snapshot is not None else None
    )


def _crossings(compiled: CompiledJob) -> list[Finding]:
    return [
        Finding(Severity.ERROR, crossing.describe(), *_split_fix(crossing.problem))
        for crossing in compiled.crossings
        if crossing.problem
    ]


def _split_fix(problem: str) -> tuple[str, str]:
    """Preflight writes ``<what is wrong>: <fix>``."""
    what, _, fix = problem.partition(": ")
    return what, fix or "see the dataset's catalog entry"


def _credentials_from_files(pipeline: Pipeline, catalog_config: Mapping[str, Any]) -> list[Finding]:
    """Catalog entries naming credentials: Kedro reads them from ``credentials*.yml`` files,
    which steps never get (never uploaded, never in the image)."""
    findings = []
    for name in sorted(pipeline.datasets()):
        entry = catalog_config.get(name)
        while isinstance(entry, Mapping):
            credentials = entry.get("credentials")
            if isinstance(credentials, str):
                findings.append(
                    Finding(
                        Severity.ERROR,
                        name,
                        f"it uses credentials {credentials!r} from a credentials file, which "
                        "steps never get (never uploaded, never built into the image)",
                        "give it its secrets through environment variables (inline "
                        "`credentials:` with ${oc.env:...}), Azure Key Vault or the compute's "
                        "managed identity (tutorial 'Migrate an existing project', 'Secrets in "
                        "steps')",
                    )
                )
                break
            entry = entry.get("dataset")
    return findings


def _terminal_local_outputs(
    pipeline: Pipeline, catalog: CatalogProtocol, project_path: Path
) -> list[Finding]:
    findings = []
    for name in sorted(pipeline.outputs()):
        if name not in catalog:
            continue
        dataset = catalog.get(name)
        location = None if isinstance(dataset, AzureMLPipelineDataset) else local_path(dataset)
        if location is not None:
            findings.append(
                Finding(
                    Severity.ERROR,
                    name,
                    f"a terminal output with the local path {_relative(location, project_path)}: "
                    "the step writes it to its own disk and it is gone when the step ends",
                    "wrap it in kedro_azureml_runtime.datasets.AzureMLPipelineDataset so it "
                    "lands in the step's Azure ML output, or store it remotely",
                )
            )
    return findings


def _inputs_left_out(
    pipeline: Pipeline, catalog: CatalogProtocol, project_path: Path, snapshot: CodeSnapshot
) -> list[Finding]:
    findings = []
    for name in sorted(pipeline.inputs()):
        if name.startswith("params:") or name == "parameters" or name not in catalog:
            continue
        dataset = catalog.get(name)
        if isinstance(dataset, AzureMLAssetDataset):
            continue  # Azure ML mounts the asset into the step
        location = (
            dataset.path if isinstance(dataset, AzureMLPipelineDataset) else local_path(dataset)
        )
        if location is None:
            continue
        relative = _relative(location, project_path)
        rule = snapshot.why_left_out(PurePosixPath(relative))
        if rule is not None:
            findings.append(
                Finding(
                    Severity.ERROR,
                    name,
                    f"a pipeline input read from {relative}, which the code snapshot leaves out "
                    f"({rule}): the step will not find it",
                    "make it an AzureMLAssetDataset (upload the data as an Azure ML data asset), "
                    "store it remotely, or, if it is small and not secret, "
                    + (
                        "move it out of data/ (never uploaded) and point its filepath there"
                        if rule == "always left out: /data/"
                        else "stop ignoring it"
                    ),
                )
            )
    return findings


def _environment_left_out(env: str, project_path: Path, snapshot: CodeSnapshot) -> list[Finding]:
    findings = []
    for folder in ("base", env) if env != "base" else ("base",):
        relative = PurePosixPath("conf") / folder
        if not (project_path / relative).is_dir():
            continue
        rule = snapshot.why_left_out(relative)
        if rule is None:
            continue
        if folder == "local":
            findings.append(
                Finding(
                    Severity.WARNING,
                    str(relative),
                    f"the steps run with KEDRO_ENV=local, which the snapshot leaves out ({rule}); "
                    "they will run with conf/base only",
                    "compile with -e base (the default), or a shipped environment such as "
                    "-e prod; give steps secrets through environment variables",
                )
            )
        else:
            findings.append(
                Finding(
                    Severity.ERROR,
                    str(relative),
                    f"the steps need it but the code snapshot leaves it out ({rule})",
                    f"stop ignoring {relative} in .amlignore",
                )
            )
    return findings


def _uploaded_files(snapshot: CodeSnapshot) -> list[Finding]:
    findings = []
    for relative in snapshot.files:
        if any(fnmatch.fnmatchcase(relative.name.lower(), p) for p in SECRET_PATTERNS):
            findings.append(
                Finding(
                    Severity.WARNING,
                    str(relative),
                    "looks like a secret and would be uploaded with the code",
                    f"add {relative} to .amlignore and give steps secrets through environment "
                    "variables or Azure Key Vault",
                )
            )
        size = (snapshot.source / relative).stat().st_size
        if size > LARGE_FILE_BYTES:
            findings.append(
                Finding(
                    Severity.WARNING,
                    str(relative),
                    f"a {size / 2**20:.0f} MiB file would be uploaded with every submission",
                    f"add {relative} to .amlignore, and read it as an AzureMLAssetDataset",
                )
            )
    if snapshot.size > LARGE_SNAPSHOT_BYTES:
        findings.append(
            Finding(
                Severity.WARNING,
                "code snapshot",
                f"{snapshot.size / 2**20:.0f} MiB would be uploaded with every submission "
                f"(over {LARGE_SNAPSHOT_BYTES // 2**20} MiB)",
                "leave data and build output out with .amlignore",
            )
        )
    return findings


def _secrets_in_snapshot(snapshot: CodeSnapshot) -> list[Finding]:
    """What detect-secrets finds, by content, in the files that would be uploaded."""
    scan = snapshot.secrets
    findings = [
        Finding(
            Severity.ERROR,
            f"{found.path}:{found.line}",
            f"detect-secrets finds a secret ({found.kind}) in a file the code upload would send "
            "to Azure ML",
            "remove it and give steps the secret through an environment variable "
            "(${oc.env:...}), Azure Key Vault or the compute's managed identity; if it is no "
            "secret, end the line with `# pragma: allowlist secret` or record it in "
            ".secrets.baseline (`detect-secrets scan > .secrets.baseline` at the project root)",
        )
        for found in scan.secrets
    ]
    if scan.baseline_problem is not None:
        findings.append(
            Finding(
                Severity.ERROR,
                ".secrets.baseline",
                f"detect-secrets cannot read it ({scan.baseline_problem})",
                "write it again with `detect-secrets scan > .secrets.baseline` at the project root",
            )
        )
    findings += [
        Finding(
            Severity.WARNING,
            str(path),
            "too large to be scanned for secrets, and would be uploaded with the code",
            f"add {path} to .amlignore and read it as an AzureMLAssetDataset",
        )
        for path in scan.not_scanned
    ]
    return findings


def _links_out_of_project(snapshot: CodeSnapshot) -> list[Finding]:
    """Links the snapshot leaves out because they resolve outside the project, or to nothing."""
    findings = []
    for link, target in snapshot.links_out:
        path = snapshot.source / link
        shown = Path(os.path.relpath(path, snapshot.project_path)).as_posix()
        findings.append(
            Finding(
                Severity.WARNING,
                shown,
                f"a symbolic link to {target}, "
                + (
                    "outside the project: it is left out of the code snapshot"
                    if Path(os.path.realpath(path)).exists()
                    else "which does not exist: it is left out of the code snapshot"
                ),
                "copy what the steps need into the project, or make it an AzureMLAssetDataset; "
                "remove the link to silence this",
            )
        )
    return findings


def _uploaded_logs(snapshot: CodeSnapshot) -> list[Finding]:
    return [
        Finding(
            Severity.WARNING,
            str(relative),
            "a log file would be uploaded with the code (Kedro's info.log holds absolute paths "
            "of this machine)",
            "add *.log to .amlignore",
        )
        for relative in snapshot.files
        if fnmatch.fnmatchcase(relative.name.lower(), "*.log")
    ]


#: The package every step image installs, whose pins must agree.
RUNTIME_PACKAGE = "kedro-azureml-runtime"


def _runtime_pins_disagree(project_path: Path) -> list[Finding]:
    """``requirements.txt`` and the ``Dockerfile`` both pin the runtime, to different versions:
    pip then fails to build the image, or installs one the user did not choose."""
    required = _runtime_specifiers(_requirement_lines(project_path / "requirements.txt"))
    if not required:
        return []
    installed = _runtime_specifiers(_dockerfile_requirements(project_path / "Dockerfile"))
    if not installed or required == installed:
        return []
    wanted, given = ", ".join(sorted(installed)), ", ".join(sorted(required))
    return [
        Finding(
            Severity.ERROR,
            "requirements.txt",
            f"pins {RUNTIME_PACKAGE}{given} but the Dockerfile installs {RUNTIME_PACKAGE}{wanted} "
            "(copier update moves the Dockerfile's pin, never requirements.txt's)",
            f"set {RUNTIME_PACKAGE}{wanted} in requirements.txt, or drop it there and let the "
            "Dockerfile install it",
        )
    ]


def _requirement_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith(("#", "-")):
            lines.append(line)
    return lines


def _dockerfile_requirements(path: Path) -> list[str]:
    """The quoted or bare words of the Dockerfile that name the runtime package."""
    import re
    import shlex

    if not path.is_file():
        return []
    words: list[str] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if RUNTIME_PACKAGE in line and not line.lstrip().startswith("#"):
            try:
                words += shlex.split(line)
            except ValueError:
                words += line.split()
    pattern = re.compile(rf"^{re.escape(RUNTIME_PACKAGE)}\b", re.IGNORECASE)
    return [word for word in words if pattern.match(word)]


def _runtime_specifiers(lines: list[str]) -> set[str]:
    """The version specifiers of the runtime in ``lines`` (requirement strings), parsed by
    ``packaging`` as pip parses them."""
    if not lines:
        return set()
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    specifiers = set()
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) == RUNTIME_PACKAGE and requirement.specifier:
            specifiers.add(str(requirement.specifier))
    return specifiers


def _relative(location: str, project_path: Path) -> str:
    path = Path(location)
    try:
        return path.resolve().relative_to(project_path.resolve()).as_posix()
    except ValueError:
        return location
