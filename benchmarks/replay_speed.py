"""Replay speed: the local replay with warm step starts, with ``--cold``, and plain ``kedro run``.

Every command is the real CLI, a fresh process in the project folder, timed wall clock from start
to exit (Python start-up, the ``kedro`` CLI, compile, code snapshot and every step included), and
must succeed. Replays run with ``--no-reuse``, so every step runs. Three parts, side by side:

- ``template``: the template's project (``copier copy --defaults`` of this checkout,
  ``kedro_azureml_source`` set to it, then ``uv lock``, as ``step_environment.py`` renders it; its
  step environment is built once, untimed, into a scratch ``KEDRO_AZUREML_STEP_ENVS``, and its own
  environment with ``uv sync --locked``, as a user sets a project up: Kedro, the runtime, and the
  dev group with kedro-azureml-deploy). What a user types in the project's shell, with the
  project's ``kedro``: ``kedro azureml run -j default --local`` (warm, the default) and with
  ``--cold``, against ``kedro run``. Target: warm/kedro run <= 1.5, of the mins and of the
  medians; cold/kedro run is reported, and so is warm against ``kedro run`` with the step
  environment's own ``kedro`` (the interpreter and packages the steps run with: no deploy
  package, so no deploy commands to load).
- ``chain``: a generated ``--chain`` (50) node linear chain (``tests/support/project_factory.py``,
  node i adds one to node i-1's output) with ``grouping: none``, so one step per node; and
  ``fanout``: ``--width`` (16) independent nodes that each sleep ``--nap`` (0.5 s), then one node
  joining them (17 steps). Neither project has a lock, so their steps run in this environment,
  as ``kedro run`` does. Per-step overhead, warm and cold:
  ``(replay wall clock - kedro run wall clock) / steps``. ``kedro run`` does the same nodes' work
  (the naps too) in one process with one Kedro start-up, so the overhead is everything the replay
  adds, per step: each step's process and ``KedroSession``, its inputs and outputs as pickles in
  mounted folders, its working copy and log, plus the replay's own fixed costs (compile, code
  snapshot, the starter's warm-up) spread over the steps. The chain and the fan-out are replayed
  one step at a time (``--max-parallel 1``) for this, so nothing overlaps; the fan-out is also
  replayed warm with ``--max-parallel 2``: max_parallel 1 / 2 is its parallel speedup (ideal 2.0
  on 2 cores, less by the fixed costs that do not parallelise).
- ``grouping``: the chain project has a second job, the same pipeline with ``grouping: chains``
  (one step), replayed warm in the ``chain`` part's runs. Reported: steps and wall clock of both
  jobs warm, and none/chains, i.e. what grouping saves when steps already start warm (separately
  from what warm starts save, which the ``chain`` part's warm/cold shows).

Each part starts with one untimed run of every command it times but the ``--cold`` replays
(bytecode, file cache; a cold step imports the same modules as the warm steps and their starter
did just before, from the same files), then runs the commands in turn, run after run, rotating
the order each run, so the drift of a noisy machine hits all alike. The template part makes ``--runs`` (5) runs; the chain
and fan-out make ``--step-runs`` (2): each of their cold replays starts 50 or 17 interpreters.
A warm replay that prints ``Warm step starts are off`` fails the benchmark: its numbers would be
cold ones. Every sample is printed, then min and median of each command, and the ratios. Each
replay is also split: "of which the replay" is the span its ``run.json`` records, from the run's
creation (after the CLI's start-up, the project's load and the compile) to its end: code
snapshot, fingerprints and the steps; the per-step overheads and ratios are given for it too.
Exit 0 when the template's target is met (and warm starts took effect), 1 otherwise.

Needs the workspace environment (kedro-azureml-deploy and copier installed):

    uv run python benchmarks/replay_speed.py [--runs 5] [--step-runs 2] [--only template chain
        fanout] [--chain 50] [--width 16] [--nap 0.5] [--keep]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/ or tests/support/
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from _venvs import clean_env, format_table, uv, workspace  # noqa: E402
from step_environment import CACHE_VARIABLE, render_template_project  # noqa: E402

from project_factory import KedroProject, NodeSpec, chain, default_azureml_config  # noqa: E402

TARGET_WARM = 1.5
WARM_OFF = "Warm step starts are off"
STEPS_LINE = re.compile(r"Replaying \S+ as run (\S+): (\d+) steps?")
#: The workspace's own bin folder: ``kedro`` of the generated projects, and of every replay.
HERE = Path(sys.executable).absolute().parent


@dataclass
class Command:
    """One timed command line and its samples."""

    label: str
    argv: list[str]
    cwd: Path
    samples: list[float] = field(default_factory=list)
    #: of each sample, the replay itself: from its start to its end as its ``run.json`` says
    replays: list[float] = field(default_factory=list)
    steps: int | None = None

    def run(self, env: dict[str, str]) -> tuple[float, float | None]:
        start = time.perf_counter()
        result = subprocess.run(self.argv, cwd=self.cwd, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        output = result.stdout + result.stderr
        if result.returncode != 0:
            sys.exit(f"{self.label} failed ({result.returncode}): {' '.join(self.argv)}\n{output}")
        if "--local" in self.argv:
            if "--cold" not in self.argv and WARM_OFF in output:
                line = next(line for line in output.splitlines() if WARM_OFF in line)
                sys.exit(f"{self.label}: warm starts did not take effect:\n{line}")
            found = STEPS_LINE.search(output)
            if found is not None:
                self.steps = int(found[2])
                return elapsed, replay_seconds(self.cwd, found[1])
        return elapsed, None

    @property
    def least(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def replay_seconds(project: Path, run_id: str) -> float | None:
    """The replay's own span, ``started_at`` to ``ended_at`` of its ``run.json``."""
    try:
        record = json.loads((project / ".azureml-local" / "runs" / run_id / "run.json").read_text())
        span = datetime.fromisoformat(record["ended_at"]) - datetime.fromisoformat(
            record["started_at"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return span.total_seconds()


def replay(label: str, cwd: Path, job: str, *options: str, bin_folder: Path = HERE) -> Command:
    argv = [str(bin_folder / "kedro"), "azureml", "run", "-j", job, "--local", "--no-reuse"]
    return Command(label, [*argv, *options], cwd)


def measure(title: str, commands: Sequence[Command], runs: int, env: dict[str, str]) -> None:
    """One untimed run of each warm command, then ``runs`` timed runs of each, rotating the
    order. A ``--cold`` replay is left out of the warm-up: its interpreters import what the warm
    replay's starter and steps imported just before, from the same bytecode and file cache."""
    print(f"{title}: {len(commands)} commands, one warm-up then {runs} runs each ...", flush=True)
    for command in commands:
        if "--cold" not in command.argv:
            command.run(env)
    for index in range(runs):
        shift = index % len(commands)
        for command in [*commands[shift:], *commands[:shift]]:
            elapsed, inner = command.run(env)
            command.samples.append(elapsed)
            if inner is not None:
                command.replays.append(inner)
    for command in commands:
        samples = " ".join(f"{s:.2f}" for s in command.samples)
        print(f"  {command.label:<28} samples (s): {samples}")
        if command.replays:
            inner = " ".join(f"{s:.2f}" for s in command.replays)
            print(f"  {'  of which the replay':<28} samples (s): {inner}")


def seconds_row(command: Command) -> list[str]:
    steps = "" if command.steps is None else str(command.steps)
    return [command.label, steps, f"{command.least:.2f}", f"{command.median:.2f}"]


def replay_row(command: Command) -> list[str]:
    """The replay alone (run.json), without the CLI's start-up, project load and compile."""
    if not command.replays:
        return ["  of which the replay", "", "-", "-"]
    least, median = min(command.replays), statistics.median(command.replays)
    return ["  of which the replay", "", f"{least:.2f}", f"{median:.2f}"]


def rows_of(*commands: Command) -> list[list[str]]:
    rows = []
    for command in commands:
        rows.append(seconds_row(command))
        if "--local" in command.argv:
            rows.append(replay_row(command))
    return rows


def ratio_row(label: str, top: Command, bottom: Command) -> list[str]:
    return [label, "", f"{top.least / bottom.least:.2f}", f"{top.median / bottom.median:.2f}"]


def overhead_rows(label: str, replayed: Command, kedro_run: Command) -> list[list[str]]:
    """(replay - kedro run) / steps, of the whole command and of the replay part alone."""
    steps = replayed.steps or 1
    rows = [
        [
            label,
            str(steps),
            f"{(replayed.least - kedro_run.least) / steps:.3f}",
            f"{(replayed.median - kedro_run.median) / steps:.3f}",
        ]
    ]
    if replayed.replays:
        least, median = min(replayed.replays), statistics.median(replayed.replays)
        rows.append(
            [
                f"{label}, replay part",
                str(steps),
                f"{(least - kedro_run.least) / steps:.3f}",
                f"{(median - kedro_run.median) / steps:.3f}",
            ]
        )
    return rows


def replay_ratio_row(label: str, top: Command, bottom: Command) -> list[str]:
    if not (top.replays and bottom.replays):
        return [label, "", "-", "-"]
    least = min(top.replays) / min(bottom.replays)
    median = statistics.median(top.replays) / statistics.median(bottom.replays)
    return [label, "", f"{least:.2f}", f"{median:.2f}"]


# -- projects -------------------------------------------------------------------------------------


def chain_project(root: Path, length: int) -> Path:
    nodes, catalog = chain(length)
    jobs = {"chain": {"grouping": "none"}, "chain_grouped": {"grouping": "chains"}}
    return (
        KedroProject(
            root / "chain",
            package="chain_project",
            nodes=nodes,
            catalog=catalog,
            extra_files={"conf/base/azureml.yml": json.dumps(default_azureml_config(jobs))},
        )
        .write()
        .path
    )


def fanout_project(root: Path, width: int, nap: float) -> Path:
    nodes = [
        NodeSpec(f"wide_{i:02d}", "nap", ["params:seed"], [f"w_{i:02d}"]) for i in range(width)
    ]
    nodes.append(NodeSpec("joined", "join", [f"w_{i:02d}" for i in range(width)], ["total"]))
    extra = f"\n\ndef nap(value):\n    import time\n\n    time.sleep({nap!r})\n    return value\n"
    config = default_azureml_config({"fanout": {"grouping": "none"}})
    return (
        KedroProject(
            root / "fanout",
            package="fanout_project",
            nodes=nodes,
            extra_functions=extra,
            extra_files={"conf/base/azureml.yml": json.dumps(config)},
        )
        .write()
        .path
    )


# -- parts ----------------------------------------------------------------------------------------


def bench_template(root: Path, runs: int, env: dict[str, str]) -> bool:
    project = render_template_project(root)
    from kedro_azureml_deploy.replay.step_environment import step_environment

    start = time.perf_counter()
    built = step_environment(project).bin_folder
    subprocess.run(
        [uv(), "sync", "--locked", "--quiet"], cwd=project, check=True, capture_output=True,
        env=clean_env(UV_PYTHON=sys.executable, UV_PYTHON_DOWNLOADS="never"),
    )  # fmt: skip
    print(
        f"template: step environment and project environment built in "
        f"{time.perf_counter() - start:.1f} s",
        flush=True,
    )
    own = project / ".venv" / "bin"
    kedro_run = Command("kedro run", [str(own / "kedro"), "run"], project)
    step_run = Command("kedro run (step env)", [str(built / "kedro"), "run"], project)
    warm = replay("run --local (warm)", project, "default", bin_folder=own)
    cold = replay("run --local --cold", project, "default", "--cold", bin_folder=own)
    measure("template", [kedro_run, step_run, warm, cold], runs, env)
    worst = max(warm.least / kedro_run.least, warm.median / kedro_run.median)
    met = worst <= TARGET_WARM
    rows = rows_of(kedro_run, step_run, warm, cold)
    rows += [
        ratio_row("warm / kedro run", warm, kedro_run),
        ratio_row("warm / kedro run (step env)", warm, step_run),
        ratio_row("cold / kedro run", cold, kedro_run),
        ratio_row("cold / warm", cold, warm),
        replay_ratio_row("  of the replay part", cold, warm),
    ]
    print(f"\nTemplate project, `run -j default --local` ({runs} runs, wall clock)")
    print(format_table(["", "steps", "min s", "median s"], rows))
    print(f"target warm / kedro run <= {TARGET_WARM:.2f}: {'OK' if met else 'MISSES TARGET'}\n")
    return met


def bench_chain(root: Path, length: int, runs: int, env: dict[str, str]) -> None:
    project = chain_project(root, length)
    kedro_run = Command("kedro run", [str(HERE / "kedro"), "run"], project)
    warm = replay("run --local (warm)", project, "chain", "--max-parallel", "1")
    cold = replay("run --local --cold", project, "chain", "--max-parallel", "1", "--cold")
    grouped = replay("chains grouping (warm)", project, "chain_grouped")
    measure(f"{length}-node chain", [kedro_run, warm, cold, grouped], runs, env)
    rows = rows_of(kedro_run, warm, cold)
    rows += [
        ratio_row("cold / warm", cold, warm),
        replay_ratio_row("  of the replay part", cold, warm),
    ]
    print(f"\n{length}-node chain, grouping: none ({runs} runs, wall clock)")
    print(format_table(["", "steps", "min s", "median s"], rows))
    print("per-step overhead, (replay - kedro run) / steps, seconds:")
    overheads = overhead_rows("warm", warm, kedro_run) + overhead_rows("cold", cold, kedro_run)
    print(format_table(["", "steps", "min", "median"], overheads))
    rows = [seconds_row(warm), seconds_row(grouped), ratio_row("none / chains", warm, grouped)]
    rows[0][0], rows[1][0] = "grouping: none (warm)", "grouping: chains (warm)"
    print(f"\nGrouping, the {length}-node chain replayed warm ({runs} runs, wall clock)")
    print(format_table(["", "steps", "min s", "median s"], rows))
    print()


def bench_fanout(root: Path, width: int, nap: float, runs: int, env: dict[str, str]) -> None:
    project = fanout_project(root, width, nap)
    kedro_run = Command("kedro run", [str(HERE / "kedro"), "run"], project)
    warm = replay("run --local (warm) p=1", project, "fanout", "--max-parallel", "1")
    cold = replay("run --local --cold p=1", project, "fanout", "--max-parallel", "1", "--cold")
    parallel = replay("run --local (warm) p=2", project, "fanout", "--max-parallel", "2")
    measure(f"{width}-wide fan-out", [kedro_run, warm, cold, parallel], runs, env)
    rows = rows_of(kedro_run, warm, cold, parallel)
    rows += [ratio_row("cold / warm, p=1", cold, warm)]
    rows += [ratio_row("speedup warm p=1 / p=2", warm, parallel)]
    rows += [replay_ratio_row("  of the replay part", warm, parallel)]
    print(f"\n{width}-wide fan-out of {nap:g} s naps, then a join ({runs} runs, wall clock)")
    print(format_table(["", "steps", "min s", "median s"], rows))
    print("per-step overhead, (replay p=1 - kedro run) / steps, seconds:")
    overheads = overhead_rows("warm", warm, kedro_run) + overhead_rows("cold", cold, kedro_run)
    print(format_table(["", "steps", "min", "median"], overheads))
    print("parallel speedup (max_parallel 1 / 2, warm): ideal 2.0 on 2 cores\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the template (>= 1)")
    parser.add_argument(
        "--step-runs", type=int, default=2, help="timed runs of the chain and fan-out (>= 1)"
    )
    parser.add_argument(
        "--only", nargs="+", choices=["template", "chain", "fanout"], help="these parts only"
    )
    parser.add_argument("--chain", type=int, default=50, help="nodes of the chain (>= 2)")
    parser.add_argument("--width", type=int, default=16, help="branches of the fan-out (>= 2)")
    parser.add_argument("--nap", type=float, default=0.5, help="seconds each branch sleeps")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if min(args.runs, args.step_runs) < 1 or min(args.chain, args.width) < 2 or args.nap < 0:
        parser.error("--runs and --step-runs must be >= 1, --chain and --width >= 2, --nap >= 0")
    if importlib.util.find_spec("kedro_azureml_deploy") is None:
        sys.exit("kedro-azureml-deploy is not installed here: run with `uv run python ...`.")
    parts = args.only or ["template", "chain", "fanout"]
    started = time.perf_counter()
    met = True
    with workspace("kedro-azureml-replay-speed-", keep=args.keep) as root:
        os.environ[CACHE_VARIABLE] = str(root / "step-envs")
        env = clean_env(**{CACHE_VARIABLE: str(root / "step-envs")})
        # the steps keep their bytecode, as the step environment's build compiled it
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if "template" in parts:
            met = bench_template(root, args.runs, env)
        if "chain" in parts:
            bench_chain(root, args.chain, args.step_runs, env)
        if "fanout" in parts:
            bench_fanout(root, args.width, args.nap, args.step_runs, env)
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
