"""Test both ends of the version ranges the packages declare, and record what was tested.

    uv run --locked python scripts/supported_versions.py run [pytest arguments]   # ./scripts/test
    uv run --locked python scripts/supported_versions.py run --only NAME [pytest arguments]
    uv run --locked python scripts/supported_versions.py record NAME VENV JUNIT   # a locked suite
    uv run --locked python scripts/supported_versions.py snapshot                 # update the docs

`run` installs each end into its own git-ignored venv with uv and runs the tests that exercise it:

- ``runtime-lowest``: the runtime's own suite (``execute`` of real projects, hooks, datasets) with
  ``--resolution lowest-direct``: the lowest Kedro and kedro-datasets the ranges allow;
- ``deploy-lowest``: compile, replay and submit tests with the lowest azure-ai-ml, azure-identity,
  pydantic, copier, croniter, tzlocal and Kedro (without MLflow, whose server needs pydantic 2.9);
- ``mlflow-lowest``: the MLflow step tests with a step venv holding the runtime's ``mlflow`` extra
  at its lowest (MLflow, kedro-mlflow, azureml-mlflow, kedro-datasets);
- ``runtime-highest``: the step tests with the newest releases the ranges allow, when they are newer
  than uv.lock (otherwise the locked runs are that end, and the run is recorded as skipped).

The locked end is the runtime and workspace suites of ``./scripts/test``, recorded with `record`.
Each run writes what it installed (``importlib.metadata``) and its pytest outcome to
``.azureml-local/versions/<name>.json`` (git-ignored). The docs hook (docs/compatibility_hook.py)
renders the table of docs/reference/compatibility.md from those results when present, and from
the committed docs/reference/compatibility.json otherwise; `snapshot` copies the results there.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / ".azureml-local" / "versions"
SNAPSHOT = ROOT / "docs" / "reference" / "compatibility.json"
UV = os.environ.get("UV", "uv")

#: The distributions whose versions the table shows, in its order.
TRACKED = (
    "kedro",
    "kedro-datasets",
    "azure-ai-ml",
    "azure-identity",
    "pydantic",
    "copier",
    "croniter",
    "tzlocal",
    "detect-secrets",
    "packaging",
    "mlflow",
    "kedro-mlflow",
    "azureml-mlflow",
    "pytest",
)

RUNTIME_TEST_GROUP = ["--group", "packages/runtime/pyproject.toml:test"]
STEP_TESTS = [
    "packages/runtime/tests/test_execute.py",
    "packages/runtime/tests/test_datasets.py",
    # the catalog a step reads without OmegaConf, against Kedro's own reading of the newest Kedro
    "packages/runtime/tests/test_catalog_config.py",
]


def workspace_test_tools(without: tuple[str, ...]) -> list[str]:
    """The workspace's ``test`` group as requirements, leaving out the distributions ``without``."""
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    tools = [item for item in groups["test"] if isinstance(item, str)]
    return [tool for tool in tools if Requirement(tool).name not in without]


@dataclass(frozen=True)
class MatrixRun:
    """One end of the ranges: what it installs, how uv resolves it, and the tests it runs."""

    name: str
    title: str
    venv: str
    resolution: str
    requirements: list[str]
    tests: list[str]
    #: A pytest ``-k`` expression that keeps the run focused, if any.
    select: str | None = None
    #: The tests run from the workspace venv, against this venv as a step image's environment.
    step_venv: bool = False
    #: Skipped when every tracked version equals the one of this locked venv.
    unless_same_as: str | None = None
    env: dict[str, str] = field(default_factory=dict)


def matrix() -> list[MatrixRun]:
    return [
        MatrixRun(
            name="runtime-lowest",
            title="runtime, lowest",
            venv=".venv-lowest-runtime",
            resolution="lowest-direct",
            requirements=["-e", "packages/runtime", *RUNTIME_TEST_GROUP],
            tests=["packages/runtime/tests"],
        ),
        MatrixRun(
            name="deploy-lowest",
            title="deploy, lowest",
            venv=".venv-lowest",
            resolution="lowest-direct",
            requirements=[
                "-e",
                "packages/runtime",
                "-e",
                "packages/deploy",
                *workspace_test_tools(without=("mlflow",)),
            ],
            tests=[
                "packages/deploy/tests/compiler/test_compile_job.py",
                "packages/deploy/tests/compiler/test_compile_command.py",
                "packages/deploy/tests/config/test_models.py",
                "packages/deploy/tests/replay/test_faithfulness.py",
                "tests/submit/test_submit_job.py",
                "tests/submit/test_schedule.py",
            ],
        ),
        MatrixRun(
            name="mlflow-lowest",
            title="MLflow extra, lowest",
            venv=".venv-lowest-mlflow",
            resolution="lowest-direct",
            requirements=["-e", "packages/runtime[mlflow]"],
            tests=["tests/mlflow/test_step_runs.py"],
            # kedro-mlflow's hooks in a step, from its entry point and from settings.py.
            select="opens_no_other",
            step_venv=True,
        ),
        MatrixRun(
            name="runtime-highest",
            title="runtime, newest",
            venv=".venv-highest-runtime",
            resolution="highest",
            requirements=["-e", "packages/runtime", *RUNTIME_TEST_GROUP, "--upgrade"],
            tests=STEP_TESTS,
            unless_same_as=".venv-runtime",
        ),
    ]


def installed_versions(venv: Path) -> dict[str, str | None]:
    """Python's version and each tracked distribution's, as ``venv`` has them installed."""
    script = (
        "import importlib.metadata as m, json, platform\n"
        f"names = {list(TRACKED)!r}\n"
        "def version(name):\n"
        "    try:\n"
        "        return m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        return None\n"
        "print(json.dumps({'python': platform.python_version(), "
        "**{name: version(name) for name in names}}))\n"
    )
    output = subprocess.run(
        [str(venv / "bin" / "python"), "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output)


def outcome(junit: Path) -> dict[str, int]:
    """The counts of pytest's JUnit XML report."""
    root = ElementTree.parse(junit).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    return {
        "passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
        "failed": counts["failures"],
        "errors": counts["errors"],
        "skipped": counts["skipped"],
    }


def write_result(name: str, result: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"name": name, "recorded": datetime.now(UTC).strftime("%Y-%m-%d"), **result}
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")


def install(run: MatrixRun) -> Path:
    venv = ROOT / run.venv
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    env.pop("UV_PROJECT_ENVIRONMENT", None)
    if not (venv / "bin" / "python").is_file():
        subprocess.run([UV, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [UV, "pip", "install", "--quiet", "--resolution", run.resolution, *run.requirements],
        cwd=ROOT,
        env=env,
        check=True,
    )
    return venv


def run_one(run: MatrixRun, pytest_args: list[str]) -> bool:
    started = time.monotonic()
    venv = install(run)
    versions = installed_versions(venv)
    base = {"title": run.title, "resolution": run.resolution, "tests": run.tests}
    if run.select:
        base["select"] = run.select
    locked = ROOT / run.unless_same_as if run.unless_same_as else None
    if locked and (locked / "bin" / "python").is_file() and installed_versions(locked) == versions:
        print(f"    {run.name}: the newest allowed versions are the locked ones; not run again")
        write_result(run.name, {**base, "versions": versions, "ran": False})
        return True
    junit = RESULTS / f"{run.name}.xml"
    RESULTS.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)
    env = {**os.environ, **run.env}
    if run.step_venv:
        # The workspace venv runs pytest (tracking server, deploy package); steps use this venv.
        python = sys.executable
        env["KEDRO_AZUREML_TEST_STEP_VENV"] = str(venv)
    else:
        python = str(venv / "bin" / "python")
        env.pop("VIRTUAL_ENV", None)
    command = [python, "-m", "pytest", *run.tests, "-n", "auto", f"--junitxml={junit}"]
    if run.select:
        command += ["-k", run.select]
    code = subprocess.run([*command, *pytest_args], cwd=ROOT, env=env, check=False).returncode
    result = {**base, "versions": versions, "ran": True, "pytest_args": pytest_args}
    result["outcome"] = outcome(junit) if junit.is_file() else {}
    result["exit_code"] = code
    write_result(run.name, result)
    print(f"    {run.name}: exit {code}, {result['outcome']}, {time.monotonic() - started:.0f} s")
    # Arguments such as -m "not slow" may select none of a run's tests (pytest exits 5): that
    # run is recorded as such, and `snapshot` refuses it.
    return code == 0 or (code == NO_TESTS_COLLECTED and bool(pytest_args))


NO_TESTS_COLLECTED = 5


def record(name: str, venv: str, junit: str, title: str, tests: list[str]) -> None:
    """Record a suite run in a locked venv (``./scripts/test`` calls it after each suite)."""
    write_result(
        name,
        {
            "title": title,
            "resolution": "locked",
            "tests": tests,
            "versions": installed_versions(ROOT / venv),
            "ran": True,
            "outcome": outcome(ROOT / junit),
            "exit_code": 0,
        },
    )


LOCKED_SUITES = {
    "runtime-locked": ("runtime, uv.lock", ["packages/runtime/tests"]),
    "workspace-locked": ("workspace, uv.lock", ["the workspace suite"]),
}


def snapshot() -> int:
    """Copy the results of the last ``./scripts/test`` into docs/reference/compatibility.json."""
    results = {path.stem: json.loads(path.read_text()) for path in sorted(RESULTS.glob("*.json"))}
    missing = sorted({run.name for run in matrix()} - set(results))
    if missing:
        print(f"error: no result for {missing}: run ./scripts/test first", file=sys.stderr)
        return 1
    for name in sorted(set(LOCKED_SUITES) - set(results)):
        print(f"note: no result for {name} (its suite did not finish): left out of the table")
    failed = [name for name, result in results.items() if result.get("exit_code")]
    if failed:
        print(f"error: {failed} failed: fix them before recording", file=sys.stderr)
        return 1
    SNAPSHOT.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT.relative_to(ROOT)} from {len(results)} runs")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["snapshot"]:
        return snapshot()
    if argv[:1] == ["record"] and len(argv) == 4:
        name, venv, junit = argv[1:]
        title, tests = LOCKED_SUITES[name]
        record(name, venv, junit, title, tests)
        return 0
    if argv[:1] == ["run"]:
        runs, pytest_args = matrix(), argv[1:]
        if pytest_args[:1] == ["--only"] and len(pytest_args) > 1:  # one run, while working on it
            runs = [run for run in runs if run.name == pytest_args[1]]
            pytest_args = pytest_args[2:]
        print(f"    Python {platform.python_version()}; results in {RESULTS.relative_to(ROOT)}/")
        ok = [run_one(run, pytest_args) for run in runs]
        return 0 if all(ok) and runs else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
