"""Step cold start: ``kedro azureml execute`` of one node against a plain ``kedro run`` of it.

What an Azure ML step pays before and after its node's own work is one process start: Python, the
``kedro`` CLI with every plugin's commands, a full ``KedroSession`` (settings, hooks, config,
catalog, pipeline registry), one input read, one output written. This benchmark times that whole
process, wall clock, for

- runtime: ``<runtime venv>/bin/kedro azureml execute -n node_5 --az-input d_4 IN --az-output d_5 OUT``
  in a project whose catalog declares every one of its N datasets as an ``AzureMLPipelineDataset``
  (a pickle), as a project compiled for Azure ML does; d_4 and d_5 are read from and written to the
  mounted folders;
- floor: ``<floor venv>/bin/kedro run --nodes node_5`` in the same chain whose catalog is one
  dataset factory pattern (``"{name}"``: a ``pickle.PickleDataset`` in ``data/``), the cheapest
  catalog Kedro can read (one file read, one file written too);

in projects of 10 and 500 chained nodes (so 10 and 500 catalog entries on the runtime side). Runs
are interleaved pair by pair (runtime, floor, runtime, floor, ...) after one untimed warm-up of
each, so drift of a noisy machine hits both alike.
Target: runtime/floor <= 1.05 for the min and for the median, at every size.

    uv run --no-project python benchmarks/step_cold_start.py [--runs 5] [--sizes 10 500] [--profile]
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/ or tests/support/
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from _venvs import (  # noqa: E402
    Venv,
    azure_entries,
    build_venvs,
    clean_env,
    format_table,
    verdict,
    workspace,
)

from project_factory import KedroProject, chain  # noqa: E402

#: Tighter than the other benchmarks' 1.10: a step reads only the catalog entries its node uses.
TARGET_RATIO = 1.05

NODE = "node_5"
INPUT = "d_4"
OUTPUT = "d_5"
UPSTREAM = [f"node_{i}" for i in range(5)]  # node_0 .. node_4 produce d_4


@dataclass
class Case:
    """One command to time, with what to reset before each run and check after it."""

    label: str
    cmd: list[str]
    cwd: Path
    reset: Callable[[], None]
    check: Callable[[], None]
    samples: list[float] = field(default_factory=list)

    def run_once(self) -> float:
        self.reset()
        start = time.perf_counter()
        result = subprocess.run(
            self.cmd, cwd=self.cwd, capture_output=True, text=True, env=clean_env()
        )
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(
                f"[{self.label}] {' '.join(self.cmd)} exited {result.returncode}\n"
                f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
            )
        self.check()
        return elapsed


def setup_command(cmd: Sequence[str | Path], cwd: Path) -> None:
    """An untimed command that prepares a case; stop with its output if it fails."""
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, env=clean_env()
    )
    if result.returncode != 0:
        sys.exit(f"setup failed: {' '.join(map(str, cmd))}\n{result.stdout}\n{result.stderr}")


def expect_pickle(path: Path, value: int) -> None:
    if not path.is_file():
        sys.exit(f"expected output {path} was not written")
    with path.open("rb") as stream:
        got = pickle.load(stream)
    if got != value:
        sys.exit(f"{path} holds {got!r}, expected {value!r}")


def runtime_case(venv: Venv, root: Path, size: int) -> Case:
    """A project declaring its ``size`` datasets as ``AzureMLPipelineDataset`` pickles; d_4 and
    d_5 cross the step through mounted folders."""
    nodes, catalog = chain(size, dataset_type="pickle.PickleDataset")
    project = KedroProject(root / f"runtime-{size}", nodes=nodes, catalog=catalog).write()
    mount_in, mount_out = root / f"runtime-{size}-in", root / f"runtime-{size}-out"
    kedro = str(venv.script("kedro"))
    # Untimed: let the runtime itself produce the input mount (node_0..node_4 in one step).
    upstream = [arg for name in UPSTREAM for arg in ("-n", name)]
    setup_command(
        [kedro, "azureml", "execute", *upstream, "--az-output", INPUT, mount_in], project.path
    )
    expect_pickle(mount_in / f"{INPUT}.pkl", 5)  # seed 1, then add_one four times

    def reset() -> None:
        shutil.rmtree(mount_out, ignore_errors=True)
        mount_out.mkdir()  # Azure ML mounts an empty output folder

    cmd = [kedro, "azureml", "execute", "-n", NODE, "--az-input", INPUT, str(mount_in)]
    cmd += ["--az-output", OUTPUT, str(mount_out)]
    return Case(
        "runtime",
        cmd,
        project.path,
        reset,
        lambda: expect_pickle(mount_out / f"{OUTPUT}.pkl", 6),
    )


def floor_case(venv: Venv, root: Path, size: int) -> Case:
    """The same chain, its catalog one factory pattern (pickle files in ``data/``), run with
    plain ``kedro run``."""
    nodes, _ = chain(size)
    catalog = {"{name}": {"type": "pickle.PickleDataset", "filepath": "data/{name}.pkl"}}
    project = KedroProject(root / f"floor-{size}", nodes=nodes, catalog=catalog).write()
    data = project.path / "data"
    kedro = str(venv.script("kedro"))
    setup_command([kedro, "run", "--nodes", ",".join(UPSTREAM)], project.path)
    expect_pickle(data / f"{INPUT}.pkl", 5)
    output = data / f"{OUTPUT}.pkl"
    return Case(
        "floor",
        [kedro, "run", "--nodes", NODE],
        project.path,
        lambda: output.unlink(missing_ok=True),
        lambda: expect_pickle(output, 6),
    )


def measure(runtime: Case, floor: Case, runs: int) -> None:
    runtime.run_once()  # warm-up: bytecode compilation, file cache
    floor.run_once()
    for _ in range(runs):
        runtime.samples.append(runtime.run_once())
        floor.samples.append(floor.run_once())


# -- optional: where the runtime's extra time goes --------------------------------------------


def import_times(case: Case, venv: Venv) -> dict[str, tuple[int, int]]:
    """Module name to (self, cumulative) microseconds, from ``python -X importtime``."""
    case.reset()
    cmd = [str(venv.python), "-X", "importtime", "-m", "kedro", *case.cmd[1:]]
    result = subprocess.run(cmd, cwd=case.cwd, capture_output=True, text=True, env=clean_env())
    if result.returncode != 0:
        sys.exit(f"profiling failed: {' '.join(cmd)}\n{result.stderr[-3000:]}")
    times: dict[str, tuple[int, int]] = {}
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        times[name.strip()] = (int(self_us), int(cumulative_us))
    return times


def profile(runtime: Case, floor: Case, venvs: tuple[Venv, Venv], top: int = 15) -> None:
    runtime_times = import_times(runtime, venvs[0])
    floor_times = import_times(floor, venvs[1])
    only = {name: t for name, t in runtime_times.items() if name not in floor_times}
    total_self = sum(t[0] for t in runtime_times.values()) / 1000
    only_self = sum(t[0] for t in only.values()) / 1000
    print(
        f"  imports: runtime {len(runtime_times)} modules ({total_self:.0f} ms self), floor "
        f"{len(floor_times)} ({sum(t[0] for t in floor_times.values()) / 1000:.0f} ms self); "
        f"{len(only)} only in the runtime run ({only_self:.0f} ms self)"
    )
    rows = [
        [name, f"{s / 1000:.1f}", f"{c / 1000:.1f}"]
        for name, (s, c) in sorted(only.items(), key=lambda item: -item[1][0])[:top]
    ]
    if rows:
        print("  top modules imported only by the runtime run, by self time:")
        table = format_table(["module", "self ms", "cumulative ms"], rows)
        print("\n".join("    " + line for line in table.splitlines()))


# -- report ---------------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="paired timed runs per size (>= 1)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 500], help="node counts")
    parser.add_argument(
        "--profile", action="store_true", help="also show -X importtime differences"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.runs < 1 or any(size < 6 for size in args.sizes):
        parser.error("--runs must be >= 1 and every size >= 6 (the timed node is node_5)")

    with workspace("kedro-azureml-cold-start-", keep=args.keep) as root:
        pair = build_venvs(root)
        azure = azure_entries(pair.runtime)
        print(f"kedro {pair.kedro_version}; runtime wheel {pair.wheel.name}")
        extra = sorted(set(pair.runtime.distributions()) - set(pair.floor.distributions()))
        print(f"distributions only in the runtime venv: {', '.join(extra) or 'none'}")
        print(f"azure in runtime site-packages: {'YES: ' + ', '.join(azure) if azure else 'no'}")

        results = []
        for size in args.sizes:
            print(
                f"timing {size} nodes: {args.runs} paired runs after one warm-up each ...",
                flush=True,
            )
            runtime = runtime_case(pair.runtime, root, size)
            floor = floor_case(pair.floor, root, size)
            measure(runtime, floor, args.runs)
            results.append((size, runtime, floor))
            print(f"  runtime samples (ms): {' '.join(ms(s) for s in runtime.samples)}")
            print(f"  floor   samples (ms): {' '.join(ms(s) for s in floor.samples)}")
            if args.profile:
                profile(runtime, floor, (pair.runtime, pair.floor))

        rows, misses = [], 0
        for size, runtime, floor in results:
            r_min, r_med = min(runtime.samples), statistics.median(runtime.samples)
            f_min, f_med = min(floor.samples), statistics.median(floor.samples)
            ratio_min, ratio_med = r_min / f_min, r_med / f_med
            misses += (ratio_min > TARGET_RATIO) + (ratio_med > TARGET_RATIO)
            rows.append(
                [
                    str(size),
                    ms(r_min),
                    ms(r_med),
                    ms(f_min),
                    ms(f_med),
                    f"{ratio_min:.3f}",
                    f"{ratio_med:.3f}",
                    verdict(max(ratio_min, ratio_med), TARGET_RATIO),
                ]
            )
        headers = [
            "nodes",
            "runtime min ms",
            "runtime median ms",
            "floor min ms",
            "floor median ms",
            "ratio min",
            "ratio median",
            f"target <= {TARGET_RATIO:.2f}",
        ]
        print()
        print(
            f"Step cold start ({args.runs} paired runs per size, wall clock of the whole process)"
        )
        print(format_table(headers, rows))
        if azure:
            print("FAIL: azure packages are installed in the runtime venv")
        return 1 if misses or azure else 0


if __name__ == "__main__":
    sys.exit(main())
