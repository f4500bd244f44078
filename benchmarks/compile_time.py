"""Compile wall time and peak memory for synthetic projects of 10 to 1000 nodes.

The DAG fans in: node i reads the outputs of node i-1 and node (i-1)//2, and every intermediate is
an ``AzureMLPipelineDataset``. Two measurements per size, side by side:

- ``compile_job``: the compiler alone, in process (pipeline, catalog and config already built),
  with tracemalloc's peak;
- ``kedro azureml compile``: the whole command in a real project on disk (Kedro start-up, session,
  config, catalog, compile, YAML written), with the process's peak RSS.

Targets: the command at N=500 within 5 s, and time(N=1000) / time(N=100) <= 4; the compiler alone
spends about the same time per node at N=100 and N=1000 (linear growth).

    uv run python benchmarks/compile_time.py [--runs 3] [--sizes 10 100 500 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "support"))

from project_factory import (  # noqa: E402
    KedroProject,
    NodeSpec,
    default_azureml_config,
    pipeline_dataset,
    quiet_kedro_env,
)

CONFIG = default_azureml_config({"bench": {}})

MEASURE = """
import atexit, resource, sys, time
start = time.perf_counter()
atexit.register(lambda: print(f"BENCH {time.perf_counter() - start:.4f} "
                              f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}"))
from kedro.framework.cli.cli import main
sys.argv = ["kedro", "azureml", "compile", "-j", "bench", "-o", sys.argv[1]]
main()
"""


def fan_in(n: int) -> list[NodeSpec]:
    nodes = [NodeSpec("node_0", "identity", ["params:seed"], ["d_0"])]
    for i in range(1, n):
        inputs = sorted({f"d_{i - 1}", f"d_{(i - 1) // 2}"})
        nodes.append(NodeSpec(f"node_{i}", "join", inputs, [f"d_{i}"]))
    return nodes


def in_process(n: int) -> tuple[float, float]:
    """Seconds and peak MiB of ``compile_job`` + ``to_yaml`` alone."""
    from kedro.io import DataCatalog
    from kedro.pipeline import Pipeline, node

    from kedro_azureml_deploy.compiler import CompileOptions, compile_job
    from kedro_azureml_deploy.config import parse_config

    def join(*values):
        return sum(values)

    pipeline = Pipeline(
        [node(join, spec.inputs, spec.outputs, name=spec.name) for spec in fan_in(n)]
    )
    config = parse_config(CONFIG)
    name, job = config.job("bench")

    def compile_once() -> None:
        catalog = DataCatalog.from_config({"d_{index}": pipeline_dataset("d_{index}.pkl")})
        catalog["params:seed"] = 1
        compile_job(
            job_name=name,
            job=job,
            config=config,
            pipeline=pipeline,
            catalog=catalog,
            options=CompileOptions(),
        ).to_yaml()

    compile_once()  # warm-up: the first catalog imports what Kedro's datasets need (pandas...)
    started = time.perf_counter()
    compile_once()
    elapsed = time.perf_counter() - started
    tracemalloc.start()  # a separate pass: tracing slows Python down several times
    compile_once()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 2**20


def command(project: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS MiB of ``kedro azureml compile`` in ``project``."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(project / "out.yml")],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **quiet_kedro_env()},
        check=False,
    )
    wall = time.perf_counter() - started
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("BENCH ")]
    if result.returncode != 0 or not line:
        raise SystemExit(f"compile failed in {project}:\n{result.stdout}\n{result.stderr}")
    return wall, int(line[-1].split()[2]) / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500, 1000])
    args = parser.parse_args()

    rows = {}
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-compile-") as tmp:
        for n in args.sizes:
            project = KedroProject(
                Path(tmp) / f"p{n}",
                package=f"bench_{n}",
                nodes=fan_in(n),
                # A dataset factory, as large projects write it (and below OmegaConf's node limit).
                catalog={"d_{index}": pipeline_dataset("d_{index}.pkl")},
                extra_files={"conf/base/azureml.yml": json.dumps(CONFIG)},
            ).write()
            samples = [(in_process(n), command(project.path)) for _ in range(args.runs)]
            rows[n] = {
                "compile_job_s": min(s[0][0] for s in samples),
                "compile_job_mib": max(s[0][1] for s in samples),
                "command_s": statistics.median(s[1][0] for s in samples),
                "command_min_s": min(s[1][0] for s in samples),
                "command_rss_mib": max(s[1][1] for s in samples),
            }
            print(f"N={n:<5} done", flush=True)

    print(
        f"\nCompile time ({args.runs} runs each: compile_job min, command median; fan-in DAG, AzureMLPipelineDataset intermediates)"
    )
    print(
        f"{'nodes':>6} {'compile_job s':>14} {'peak MiB':>9} {'command s':>10} {'min s':>7} {'peak RSS MiB':>13}"
    )
    for n, row in rows.items():
        print(
            f"{n:>6} {row['compile_job_s']:>14.3f} {row['compile_job_mib']:>9.1f} "
            f"{row['command_s']:>10.2f} {row['command_min_s']:>7.2f} {row['command_rss_mib']:>13.0f}"
        )
    ok = True
    if 500 in rows:
        verdict = rows[500]["command_s"] <= 5
        ok &= verdict
        print(
            f"N=500 command: {rows[500]['command_s']:.2f} s (target <= 5 s): {'OK' if verdict else 'MISSED'}"
        )
    if 100 in rows and 1000 in rows:
        ratio = rows[1000]["command_s"] / rows[100]["command_s"]
        verdict = ratio <= 4
        ok &= verdict
        print(
            f"time(1000)/time(100), command: {ratio:.2f} (target <= 4): {'OK' if verdict else 'MISSED'}"
        )
        per_node = (rows[1000]["compile_job_s"] / 1000) / (rows[100]["compile_job_s"] / 100)
        verdict = per_node <= 1.5
        ok &= verdict
        print(
            f"compile_job time per node, N=1000 over N=100: {per_node:.2f} "
            f"(near 1 when growth is linear; target <= 1.5): {'OK' if verdict else 'MISSED'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
