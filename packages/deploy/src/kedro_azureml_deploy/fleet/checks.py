"""Checks of an updated copy: ``uv sync``, the project's own tests, ``kedro azureml compile`` of
every job and ``kedro azureml doctor``, each in the copy's own virtual environment."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Each check: its name and its command, run in the updated copy in this order.
CHECKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("uv sync", ("uv", "sync")),
    ("tests", ("uv", "run", "pytest", "-q", "-p", "no:cacheprovider")),
    ("compile", ("uv", "run", "kedro", "azureml", "compile")),
    ("doctor", ("uv", "run", "kedro", "azureml", "doctor")),
)
TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class CheckResult:
    """A check: whether it passed, and the last lines of its output when it did not."""

    name: str
    passed: bool
    detail: str = ""


def check_environment() -> dict[str, str]:
    """The environment of the checks: the copy's own ``.venv`` (not the fleet's), no telemetry."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "KEDRO_ENV")
    }
    env.update(KEDRO_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1", NO_COLOR="1")
    return env


def job_options(copy: Path) -> tuple[str, ...]:
    """``-j NAME`` for each job of the copy's ``conf/base/azureml.yml`` (none when unreadable:
    compile and doctor then say what is wrong)."""
    import yaml

    try:
        data = yaml.safe_load((copy / "conf" / "base" / "azureml.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return ()
    jobs = data.get("jobs") if isinstance(data, dict) else None
    return tuple(arg for name in (jobs or {}) for arg in ("-j", str(name)))


def run_checks(copy: Path) -> list[CheckResult]:
    """The checks of ``copy``, in order; those after a failed ``uv sync`` are not run."""
    results = []
    env = check_environment()
    jobs = job_options(copy)
    for name, command in CHECKS:
        if name == "tests" and not (copy / "tests").is_dir():
            continue
        if name in ("compile", "doctor"):
            command = (*command, *jobs)
        try:
            done = subprocess.run(
                list(command),
                cwd=copy,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except FileNotFoundError:
            results.append(CheckResult(name, False, f"{command[0]} is not installed"))
            break
        except subprocess.TimeoutExpired:
            results.append(CheckResult(name, False, f"timed out after {TIMEOUT_SECONDS} s"))
            continue
        passed = done.returncode == 0
        output = (done.stdout + done.stderr).strip().splitlines()
        results.append(CheckResult(name, passed, "" if passed else "\n".join(output[-15:])))
        if name == "uv sync" and not passed:
            break
    return results
