"""Grouping nodes into steps: what it saves, and what it costs the compiler.

Three measurements, side by side on the same machine:

- ``replay``: wall clock of the local replay of a ``--chain`` (50) node linear chain compiled with
  ``grouping: chains`` (1 step) against ``grouping: none`` (50 steps), each a fresh Python process
  calling ``replay_job`` on the file ``kedro azureml compile`` wrote. Reported: none/chains.
- ``compile``: ``compile_job`` + ``to_yaml`` in process for 100 and 1,000 nodes (the fan-in DAG of
  ``compile_time.py`` over every 5th node, each followed by a chain of 4, so chains have work
  to do), and the whole ``kedro azureml compile`` command in a project on disk (as
  ``compile_time.py`` times it), with ``chains`` against ``none``. Targets, on the command:
  chains/none <= 1.2 at 1,000 nodes, and t(1000)/t(100) <= 4 with chains.
- ``plan``: container starts (steps) and steps on the critical path of the template's example
  pipeline and of a 16-wide fan-out (a source, 16 branches of 3 nodes, each in a namespace and
  tagged ``step.branch_<i>``, and a join), under every strategy.

    uv run python benchmarks/grouping.py [--only replay compile plan] [--runs 3] [--chain 50]

Exit 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/ or tests/support/
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from _venvs import clean_env  # noqa: E402
from compile_time import command  # noqa: E402

from project_factory import KedroProject, NodeSpec, chain, default_azureml_config  # noqa: E402

STRATEGIES = ("none", "chains", "namespaces", "tags", {"by": "tags", "ungrouped": "chains"})
REPLAY = """\
import json, sys
from pathlib import Path
from rich.console import Console
from kedro_azureml_deploy.replay import replay_job

report = replay_job(
    Path(sys.argv[1]), project_path=Path(sys.argv[2]), console=Console(file=sys.stderr)
)
print(json.dumps({"status": report.status, "steps": len(report.steps)}))
"""


def config(grouping: object) -> dict:
    return default_azureml_config({"bench": {"grouping": grouping}})


def label(grouping: object) -> str:
    if isinstance(grouping, dict):
        return f"{grouping['by']}+{grouping['ungrouped']}"
    return str(grouping)


# -- replay ---------------------------------------------------------------------------------------


def replay_seconds(root: Path, length: int, grouping: str) -> tuple[float, int]:
    nodes, catalog = chain(length)
    project = KedroProject(
        root / f"chain_{grouping}",
        package=f"chain_{grouping}",
        nodes=nodes,
        catalog=catalog,
        extra_files={"conf/base/azureml.yml": json.dumps(config(grouping))},
    ).write()
    job_file = project.path / "azureml-bench.yml"
    project.kedro("azureml", "compile", "-j", "bench", "-o", str(job_file), check=True)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", REPLAY, str(job_file), str(project.path)],
        capture_output=True,
        text=True,
        env=clean_env(),
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or '"status": "succeeded"' not in result.stdout:
        sys.exit(f"the replay ({grouping}) failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return elapsed, json.loads(result.stdout.splitlines()[-1])["steps"]


def bench_replay(length: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-grouping-") as tmp:
        chains, chain_steps = replay_seconds(Path(tmp), length, "chains")
        none, none_steps = replay_seconds(Path(tmp), length, "none")
    print(f"\nReplay of a {length}-node chain (one run each, wall clock)")
    print(f"  none:   {none_steps:>3} step(s) {none:8.1f} s")
    print(f"  chains: {chain_steps:>3} step(s) {chains:8.1f} s")
    print(f"  none/chains: {none / chains:.1f}x")
    return chain_steps == 1 and none_steps == length


# -- compile --------------------------------------------------------------------------------------


def node_specs(n: int) -> list[NodeSpec]:
    """``n`` nodes: a fan-in DAG over every 5th node, each followed by a chain of 4."""
    nodes = []
    for i in range(n // 5):
        inputs = sorted({f"t_{i - 1}", f"t_{(i - 1) // 2}"}) if i else ["params:seed"]
        nodes.append(NodeSpec(f"head_{i}", "join", inputs, [f"h_{i}"]))
        previous = f"h_{i}"
        for j in range(4):
            output = f"t_{i}" if j == 3 else f"c_{i}_{j}"
            nodes.append(NodeSpec(f"link_{i}_{j}", "join", [previous], [output]))
            previous = output
    return nodes


def pipeline_of(n: int):
    from kedro.pipeline import Pipeline, node

    def join(*values):
        return sum(values)

    return Pipeline(
        [node(join, spec.inputs, spec.outputs, name=spec.name) for spec in node_specs(n)]
    )


def command_seconds(root: Path, n: int, grouping: str, runs: int) -> float:
    """Median wall seconds of ``kedro azureml compile`` in a project of ``n`` nodes."""
    project = KedroProject(
        root / f"p{n}_{grouping}",
        package=f"bench_{n}_{grouping}",
        nodes=node_specs(n),
        extra_files={"conf/base/azureml.yml": json.dumps(config(grouping))},
    ).write()
    return statistics.median(command(project.path)[0] for _ in range(runs))


def compile_seconds(n: int, grouping: str, runs: int) -> float:
    from kedro.io import DataCatalog

    from kedro_azureml_deploy.compiler import CompileOptions, compile_job
    from kedro_azureml_deploy.config import parse_config

    pipeline = pipeline_of(n)
    parsed = parse_config(config(grouping))
    name, job = parsed.job("bench")
    best = float("inf")
    for _ in range(runs + 1):  # the first is a warm-up
        catalog = DataCatalog()
        catalog["params:seed"] = 1
        started = time.perf_counter()
        compile_job(
            job_name=name,
            job=job,
            config=parsed,
            pipeline=pipeline,
            catalog=catalog,
            options=CompileOptions(),
        ).to_yaml()
        best = min(best, time.perf_counter() - started)
    return best


def bench_compile(runs: int) -> bool:
    sizes, groupings = (100, 1000), ("none", "chains")
    alone = {(n, g): compile_seconds(n, g, runs) for n in sizes for g in groupings}
    with tempfile.TemporaryDirectory(prefix="kedro-azureml-grouping-") as tmp:
        whole = {(n, g): command_seconds(Path(tmp), n, g, runs) for n in sizes for g in groupings}
    ratio = whole[1000, "chains"] / whole[1000, "none"]
    growth = whole[1000, "chains"] / whole[100, "chains"]
    print(f"\nCompile: compile_job + to_yaml in process (min of {runs}), and the command")
    print(f"  `kedro azureml compile` (median of {runs})")
    for n, grouping in alone:
        print(
            f"  N={n:<5} {grouping:<7} compile_job {alone[n, grouping]:7.3f} s   "
            f"command {whole[n, grouping]:6.2f} s"
        )
    per_node = (alone[1000, "chains"] / 1000) / (alone[100, "chains"] / 100)
    print(f"  chains/none at N=1000, command: {ratio:.2f} (target <= 1.2): {_ok(ratio <= 1.2)}")
    print(
        f"  chains/none at N=1000, compile_job: {alone[1000, 'chains'] / alone[1000, 'none']:.2f}"
    )
    print(f"  t(1000)/t(100) with chains, command: {growth:.2f} (target <= 4): {_ok(growth <= 4)}")
    print(f"  compile_job time per node with chains, N=1000 over N=100: {per_node:.2f}")
    return ratio <= 1.2 and growth <= 4


# -- plan -----------------------------------------------------------------------------------------


def template_pipeline():
    """The template's example pipeline, as its ``pipeline.py`` wires it."""
    from kedro.pipeline import Pipeline, node

    def f(*values):
        return values[0]

    return Pipeline(
        [
            node(f, "params:example.seed", "points", name="make_points"),
            node(f, ["points", "params:example.test_fraction"], ["train_points", "test_points"],
                 name="split_points"),
            node(f, "train_points", "line", name="fit_line"),
            node(f, ["line", "test_points"], "metrics", name="evaluate_line"),
        ]
    )  # fmt: skip


def fan_out_pipeline(width: int = 16):
    from kedro.pipeline import Pipeline, node

    def f(*values):
        return values[0]

    nodes = [node(f, "params:seed", "source", name="source")]
    for i in range(width):
        previous = "source"
        for j in range(3):
            nodes.append(
                node(f, previous, f"b{i}_{j}", name=f"b{i}_{j}", namespace=f"branch_{i}",
                     tags=[f"step.branch_{i}"])
            )  # fmt: skip
            previous = f"b{i}_{j}"
    nodes.append(node(f, [f"b{i}_2" for i in range(width)], "joined", name="join"))
    return Pipeline(nodes)


def bench_plan() -> bool:
    from kedro.io import DataCatalog

    from kedro_azureml_deploy.compiler import CompileOptions, compile_job
    from kedro_azureml_deploy.compiler.plan import plan_of
    from kedro_azureml_deploy.config import parse_config

    print("\nPlan: container starts (steps) / steps on the critical path")
    print(f"  {'strategy':<12} {'template':>10} {'fan-out x16':>12}")
    for grouping in STRATEGIES:
        cells = []
        for pipeline in (template_pipeline(), fan_out_pipeline()):
            parsed = parse_config(config(grouping))
            name, job = parsed.job("bench")
            catalog = DataCatalog()
            for parameter in ("seed", "example.seed", "example.test_fraction"):
                catalog[f"params:{parameter}"] = 1
            totals = plan_of(
                compile_job(
                    job_name=name,
                    job=job,
                    config=parsed,
                    pipeline=pipeline,
                    catalog=catalog,
                    options=CompileOptions(),
                )
            ).totals()
            cells.append(f"{totals['steps']} / {totals['critical_path_steps']}")
        print(f"  {label(grouping):<12} {cells[0]:>10} {cells[1]:>12}")
    return True


def _ok(met: bool) -> str:
    return "OK" if met else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="+", choices=["replay", "compile", "plan"], default=None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chain", type=int, default=50)
    args = parser.parse_args()
    parts = args.only or ["plan", "compile", "replay"]
    ok = True
    if "plan" in parts:
        ok &= bench_plan()
    if "compile" in parts:
        ok &= bench_compile(args.runs)
    if "replay" in parts:
        ok &= bench_replay(args.chain)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
