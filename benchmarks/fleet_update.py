"""`kedro-azureml fleet update` over twenty repositories, against a bare `copier update`.

Twenty repositories are rendered from the oldest release of a scratch copy of this checkout's
template (three releases, as in tests/template/fleet_testing.py) and updated to the latest:

- wall clock of `fleet update --dry-run --no-checks` over all of them, `--jobs 1` against
  `--jobs 2` (runs alternate, so a noisy machine hits both alike);
- per repository, `update_repository` (scratch clone, copier update, diff, conflicts) against a
  bare `copier.run_update` in a clone of the same repository, paired and alternating.

Run from the repository root, in the workspace environment (it needs copier and
kedro-azureml-deploy):

    uv run python benchmarks/fleet_update.py            # --repos 20 --runs 3 --pairs 5

Exits 0 when jobs1/jobs2 >= 1.4 (min) and fleet/bare <= 1.5 (median), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "template"))

import copier  # noqa: E402
from fleet_testing import RELEASES, release_template, render_repository  # noqa: E402

from kedro_azureml_deploy.fleet.repositories import repositories  # noqa: E402
from kedro_azureml_deploy.fleet.update import UpdateOptions, update_repository  # noqa: E402

SPEEDUP_TARGET = 1.4
OVERHEAD_TARGET = 1.5


def fleet_wall_clock(repos: list[Path], jobs: int, report: Path) -> float:
    command = [
        str(Path(sys.executable).parent / "kedro-azureml"), "fleet", "update",
        *map(str, repos), "--dry-run", "--no-checks", "--jobs", str(jobs), "--report", str(report),
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"fleet update --jobs {jobs} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def bare_copier_update(repo: Path, scratch: Path) -> float:
    clone = scratch / "bare"
    shutil.rmtree(clone, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(repo), str(clone)], check=True)
    start = time.perf_counter()
    copier.run_update(
        clone, vcs_ref=RELEASES[-1], defaults=True, skip_answered=True, overwrite=True,
        conflict="inline", quiet=True,
    )  # fmt: skip
    return time.perf_counter() - start


def fleet_one(repo: Path) -> float:
    (repository,) = repositories([str(repo)])
    start = time.perf_counter()
    result = update_repository(repository, UpdateOptions(dry_run=True, checks=False))
    elapsed = time.perf_counter() - start
    if result.status != "would-update":
        raise SystemExit(f"{repo}: {result.status} {result.message}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    os.environ.update(KEDRO_DISABLE_TELEMETRY="true", DO_NOT_TRACK="1")
    os.environ.update(
        GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@localhost",
        GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@localhost",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as scratch_name:
        scratch = Path(scratch_name)
        template = release_template(scratch / "template")
        repos = [
            render_repository(template, scratch / f"project-{i:02d}", RELEASES[0])
            for i in range(args.repos)
        ]
        timings: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.runs):
            for jobs in (1, 2):
                timings[jobs].append(fleet_wall_clock(repos, jobs, scratch / "report.json"))
        fleet, bare = [], []
        fleet_one(repos[0])  # warm-up: imports, file cache
        for repo in repos[: args.pairs]:
            fleet.append(fleet_one(repo))
            bare.append(bare_copier_update(repo, scratch))
    one, two = timings[1], timings[2]
    speedup = min(one) / min(two)
    overhead = statistics.median(fleet) / statistics.median(bare)
    print(f"{args.repos} repositories, {RELEASES[0]} -> {RELEASES[-1]}, --dry-run --no-checks")
    print(f"  --jobs 1: min {min(one):6.2f} s  median {statistics.median(one):6.2f} s")
    print(f"  --jobs 2: min {min(two):6.2f} s  median {statistics.median(two):6.2f} s")
    print(f"  jobs1/jobs2 (min): {speedup:.2f}  (target >= {SPEEDUP_TARGET})")
    print(f"per repository ({args.pairs} pairs):")
    print(f"  fleet update: median {statistics.median(fleet):.3f} s  min {min(fleet):.3f} s")
    print(f"  bare copier update: median {statistics.median(bare):.3f} s  min {min(bare):.3f} s")
    print(f"  fleet/bare (median): {overhead:.2f}  (target <= {OVERHEAD_TARGET})")
    return 0 if speedup >= SPEEDUP_TARGET and overhead <= OVERHEAD_TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
