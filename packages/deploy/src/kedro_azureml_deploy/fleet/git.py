"""The git commands of the fleet: one function, one way to fail."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitFailed(Exception):
    """``git`` exited non-zero; the message is its first line of error."""


#: Git never prompts (for a password, an editor), and commits need no configured identity.
GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_EDITOR": "true",
    "GIT_AUTHOR_NAME": "kedro-azureml fleet",
    "GIT_AUTHOR_EMAIL": "kedro-azureml-fleet@localhost",
    "GIT_COMMITTER_NAME": "kedro-azureml fleet",
    "GIT_COMMITTER_EMAIL": "kedro-azureml-fleet@localhost",
}


def git(cwd: Path | None, *args: str, check: bool = True) -> str:
    """``git ARGS`` in ``cwd``; its standard output.

    Raises:
        GitFailed: git exited non-zero (only when ``check``).
    """
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
        raise GitFailed((fatal or lines or [f"git {args[0]} exited {result.returncode}"])[0])
    return result.stdout
