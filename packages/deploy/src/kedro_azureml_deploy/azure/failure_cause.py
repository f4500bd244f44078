"""Why a step failed, in one line, read from its log and the error Azure ML recorded (pure).

The causes a user can act on are recognised first, each with what to do: the node's exception,
a missing file, out of memory, an image that cannot be pulled, authentication. Otherwise the
node's exception line (the last ``Error:`` line ``kedro azureml execute`` prints, or the last
``SomethingError: ...`` line of a traceback) is the cause, else the recorded error's first line.
"""

from __future__ import annotations

import re

#: (what it is, a pattern that says so in a log or error, what to do), in the order tried.
KNOWN_CAUSES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    (
        "out of memory",
        re.compile(
            r"MemoryError|OutOfMemory|out of memory|OOMKilled|exit(?:ed with)? code:? 137|\bKilled\b",
            re.IGNORECASE,
        ),
        "give the step a larger compute (compute in azureml.yml) or make the node use less memory",
    ),
    (
        "image pull",
        re.compile(
            r"ImagePull|ErrImagePull|failed to pull image|pull access denied|manifest unknown|"
            r"Unable to pull|image .* not found",
            re.IGNORECASE,
        ),
        "check the environment's image name and that the workspace may pull from its registry",
    ),
    (
        "authentication",
        re.compile(
            r"ClientAuthenticationError|AuthenticationFailed|AuthorizationFailed|"
            r"AuthorizationPermissionMismatch|DefaultAzureCredential failed|\b40[13]\b.*(?:Unauthorized|Forbidden)|"
            r"not authorized|Unauthorized|Forbidden",
            re.IGNORECASE,
        ),
        "grant the compute's identity access to the data (or the registry) the step uses",
    ),
    (
        "missing file",
        re.compile(
            r"FileNotFoundError|No such file or directory|DatasetError: .*(?:not exist|not found)|"
            r"does not exist|ScriptExecution\.StreamAccess\.NotFound",
            re.IGNORECASE,
        ),
        "check the catalog path, and that an upstream step or data asset provides it",
    ),
)
_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception|Exit|Interrupt)\b.*:")
_MAX_LENGTH = 240


def failure_cause(log: str | None, error: str | None = None) -> str | None:
    """The one-line cause of a failed step, from its ``log`` text and Azure's ``error`` message;
    ``None`` when neither says anything."""
    lines = [line.strip() for line in (log or "").splitlines() if line.strip()]
    error_lines = [line.strip() for line in (error or "").splitlines() if line.strip()]
    exception = _exception_line(lines) or _exception_line(error_lines)
    evidence = [exception] if exception else []
    evidence += error_lines + lines[::-1]
    for what, pattern, fix in KNOWN_CAUSES:
        for line in evidence:
            if pattern.search(line):
                return _cut(f"{what}: {line} ({fix})")
    if exception:
        return _cut(exception)
    if error_lines:
        return _cut(error_lines[0])
    return None


def _exception_line(lines: list[str]) -> str | None:
    """The last ``Error:`` line (what ``execute`` prints), else a traceback's last exception."""
    errors = [line for line in lines if line.startswith("Error:")]
    if errors:
        return errors[-1]
    exceptions = [line for line in lines if _EXCEPTION_LINE.match(line)]
    return exceptions[-1] if exceptions else None


def _cut(line: str) -> str:
    return line if len(line) <= _MAX_LENGTH else line[: _MAX_LENGTH - 1] + "…"
