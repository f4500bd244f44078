"""Replay overhead: replaying a chain of steps against running its step commands by hand.

The job is compiled by ``kedro azureml compile`` from a generated project of ``--steps`` (10)
chained nodes whose intermediates are ``AzureMLPipelineDataset`` pickles. Timed, wall clock:

- replay: a fresh Python process calling ``replay_job`` on the compiled file (code snapshot, a
  working copy per step, read-only inputs, run.json, logs: everything the replay does);
- by hand: the same step commands, read from the compiled file, run one after the other with
  ``/bin/sh -c`` in the project folder, their ``${{inputs.*}}``/``${{outputs.*}}`` expanded to the
  same mounts layout (``<mounts>/<step>/outputs/<port>``), fresh empty output folders each run,
  and the same environment variables and ``PATH``.

Both must produce the chain's result. Runs alternate replay, by hand, replay, ... after one
untimed warm-up of each. Reported: min and median of each and replay/by-hand of the mins and of
the medians. Target: <= 1.10 for both.

Needs the workspace environment (kedro-azureml-deploy installed):

    uv run python benchmarks/replay_overhead.py [--runs 3] [--steps 10] [--keep]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/ or tests/support/
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from _venvs import TARGET_RATIO, clean_env, format_table, verdict, workspace  # noqa: E402

from project_factory import KedroProject, chain, default_azureml_config  # noqa: E402

AZUREML_YML = default_azureml_config({"chain": {}})
REPLAY = """\
import json, sys
from pathlib import Path
from rich.console import Console
from kedro_azureml_deploy.replay import replay_job

report = replay_job(
    Path(sys.argv[1]), project_path=Path(sys.argv[2]), console=Console(file=sys.stderr)
)
print(json.dumps({"status": report.status, "run_dir": str(report.run_dir)}))
"""
PLACEHOLDER = re.compile(r"\$\{\{\s*(inputs|outputs)\.(\w+)\s*\}\}")
BINDING = re.compile(r"\$\{\{\s*parent\.jobs\.(\w+)\.outputs\.(\w+)\s*\}\}")


def chain_project(root: Path, steps: int) -> tuple[KedroProject, Path]:
    """The generated project and its compiled job file."""
    nodes, catalog = chain(steps, dataset_type="pickle.PickleDataset")
    project = KedroProject(
        root / "chain",
        nodes=nodes,
        catalog=catalog,
        extra_files={"conf/base/azureml.yml": json.dumps(AZUREML_YML, indent=2)},
    ).write()
    job_file = project.path / "azureml-chain.yml"
    project.kedro("azureml", "compile", "-j", "chain", "-o", str(job_file), check=True)
    return project, job_file


def expect_result(outputs: Path, steps: int) -> None:
    """The last step's output holds the chain's value: the seed 1, plus one per later node."""
    last = steps - 1
    path = outputs / f"node_{last}" / "outputs" / f"d_{last}" / f"d_{last}.pkl"
    if not path.is_file() or pickle.loads(path.read_bytes()) != steps:
        sys.exit(f"{path} does not hold {steps}")


def replay_seconds(project: KedroProject, job_file: Path, steps: int) -> float:
    cmd = [sys.executable, "-c", REPLAY, str(job_file), str(project.path)]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, env=clean_env())
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or '"status": "succeeded"' not in result.stdout:
        sys.exit(f"the replay failed:\n{result.stdout}\n{result.stderr}")
    expect_result(Path(json.loads(result.stdout)["run_dir"]), steps)
    return elapsed


def by_hand_seconds(project: KedroProject, job_file: Path, mounts: Path, steps: int) -> float:
    """Run the compiled steps' commands in order, as a person would, in the project folder."""
    import yaml  # the workspace environment has it (Kedro depends on it)

    jobs = yaml.safe_load(job_file.read_text())["jobs"]
    shutil.rmtree(mounts, ignore_errors=True)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    start = time.perf_counter()
    for name, step in jobs.items():
        folders = {
            ("outputs", port): mounts / name / "outputs" / port
            for port in step.get("outputs") or {}
        }
        for folder in folders.values():
            folder.mkdir(parents=True)
        for port, binding in (step.get("inputs") or {}).items():
            producer, output = BINDING.fullmatch(binding).groups()
            folders["inputs", port] = mounts / producer / "outputs" / output
        command = PLACEHOLDER.sub(
            lambda match, folders=folders: shlex.quote(str(folders[match[1], match[2]])),
            step["command"],
        )
        env = clean_env(**step.get("environment_variables", {}), PATH=path)
        result = subprocess.run(
            ["/bin/sh", "-c", command], cwd=project.path, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            sys.exit(f"step {name} failed by hand:\n{result.stdout}\n{result.stderr}")
    elapsed = time.perf_counter() - start
    expect_result(mounts, steps)
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="paired timed runs (>= 1)")
    parser.add_argument("--steps", type=int, default=10, help="chained steps (>= 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.steps < 2:
        parser.error("--runs must be >= 1 and --steps >= 2")
    if importlib.util.find_spec("kedro_azureml_deploy") is None:
        sys.exit("kedro-azureml-deploy is not installed here: run with `uv run python ...`.")

    with workspace("kedro-azureml-replay-overhead-", keep=args.keep) as root:
        project, job_file = chain_project(root, args.steps)
        mounts = root / "mounts"
        print(f"{args.steps} chained steps; {args.runs} paired runs after one warm-up each ...")
        replay_seconds(project, job_file, args.steps)  # warm-up: bytecode, file cache
        by_hand_seconds(project, job_file, mounts, args.steps)
        replayed: list[float] = []
        by_hand: list[float] = []
        for _ in range(args.runs):
            replayed.append(replay_seconds(project, job_file, args.steps))
            by_hand.append(by_hand_seconds(project, job_file, mounts, args.steps))
        print(f"  replay  samples (s): {' '.join(f'{s:.2f}' for s in replayed)}")
        print(f"  by hand samples (s): {' '.join(f'{s:.2f}' for s in by_hand)}")

        ratio_min = min(replayed) / min(by_hand)
        ratio_median = statistics.median(replayed) / statistics.median(by_hand)
        rows = [
            ["replay", f"{min(replayed):.2f}", f"{statistics.median(replayed):.2f}"],
            ["by hand", f"{min(by_hand):.2f}", f"{statistics.median(by_hand):.2f}"],
            ["ratio", f"{ratio_min:.3f}", f"{ratio_median:.3f}"],
        ]
        print()
        print(f"Replay overhead ({args.runs} paired runs, {args.steps} chained steps, wall clock)")
        print(format_table(["", "min s", "median s"], rows))
        worst = max(ratio_min, ratio_median)
        print(f"target <= {TARGET_RATIO:.2f}: {verdict(worst)}")
        return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
