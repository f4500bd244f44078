"""The supported-versions page shows what the tests ran, and the lowest runs tested each bound.

docs/reference/compatibility.json is what `scripts/supported_versions.py snapshot` recorded from a
green ``./scripts/test``; a bound changed in a pyproject.toml without running the lowest versions
again fails here.
"""

from __future__ import annotations

import json
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))

import compatibility_hook  # noqa: E402

SNAPSHOT = ROOT / "docs" / "reference" / "compatibility.json"
RERECORD = (
    "run ./scripts/test, then `uv run --locked python scripts/supported_versions.py snapshot`"
)


def _requirements(folder: str, extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]
    items = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(item) for item in items]


#: What each lowest run installs with `--resolution lowest-direct`: its direct requirements.
DIRECT = {
    "runtime-lowest": lambda: _requirements("packages/runtime"),
    "deploy-lowest": lambda: _requirements("packages/runtime") + _requirements("packages/deploy"),
    "mlflow-lowest": lambda: (
        _requirements("packages/runtime") + _requirements("packages/runtime", "mlflow")
    ),
}


def _snapshot() -> dict:
    return json.loads(SNAPSHOT.read_text())


def _lower_bound(requirement: Requirement) -> Version | None:
    bounds = [Version(spec.version) for spec in requirement.specifier if spec.operator == ">="]
    return max(bounds) if bounds else None


@pytest.mark.parametrize("run", sorted(DIRECT))
def test_each_lowest_run_installed_every_declared_lower_bound(run):
    recorded = _snapshot()[run]
    assert recorded["resolution"] == "lowest-direct" and recorded["exit_code"] == 0
    versions = recorded["versions"]
    checked = 0
    for requirement in DIRECT[run]():
        bound = _lower_bound(requirement)
        if bound is None or requirement.name not in versions:
            continue
        installed = Version(versions[requirement.name])
        assert installed == bound, (
            f"{run} tested {requirement.name} {installed}, not {bound}: {RERECORD}"
        )
        checked += 1
    assert checked, f"{run} recorded none of its tracked requirements"


def test_every_recorded_run_passed_inside_the_declared_ranges():
    declared = {
        r.name: r
        for r in _requirements("packages/runtime")
        + _requirements("packages/deploy")
        + _requirements("packages/runtime", "mlflow")
    }
    for name, run in _snapshot().items():
        assert run["exit_code"] == 0 and not run.get("outcome", {}).get("failed"), name
        for package, version in run["versions"].items():
            if version and package in declared:
                assert declared[package].specifier.contains(version, prereleases=True), (
                    f"{name} ran {package} {version}, outside {declared[package]}: {RERECORD}"
                )


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_the_page_shows_each_run_its_versions_and_each_declared_range(tmp_path):
    runs = compatibility_hook.load_runs(results=tmp_path / "none", snapshot=SNAPSHOT)
    page = compatibility_hook.render(runs, compatibility_hook.declared_ranges())
    lines = page.splitlines()
    header = _cells(next(line for line in lines if line.startswith("| | ")))
    assert header[1:] == [run["title"] for run in runs.values()]
    for package in ("kedro", "azure-ai-ml", "pydantic"):
        row = _cells(next(line for line in lines if line.startswith(f"| {package} |")))
        for column, run in enumerate(runs.values(), start=1):
            assert row[column] == (run["versions"].get(package) or "-"), (package, run["name"])
    assert (
        "| `kedro-azureml-deploy` | `azure-ai-ml>=1.27` | 1.25 and 1.26 accept marshmallow 4"
        in page
    )
    assert "| `kedro-azureml-runtime[mlflow]` | `kedro-mlflow>=2,<3` | 2.0 tested" in page


def test_results_of_this_checkout_win_over_the_snapshot(tmp_path):
    fresh = {**_snapshot()["runtime-lowest"], "recorded": "2099-01-01"}
    (tmp_path / "runtime-lowest.json").write_text(json.dumps(fresh))
    runs = compatibility_hook.load_runs(results=tmp_path, snapshot=SNAPSHOT)
    assert runs["runtime-lowest"]["source"] == "this checkout"
    assert runs["runtime-lowest"]["recorded"] == "2099-01-01"
    assert all(
        run["source"] == "committed snapshot" for n, run in runs.items() if n != "runtime-lowest"
    )
