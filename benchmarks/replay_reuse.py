"""Replay reuse: the edit loop with ``step_reuse: true`` against the same loop with ``--no-reuse``,
and what fingerprinting costs.

Two projects, both with ``step_reuse: true`` on their job:

- the template's project (``copier copy --defaults`` of this checkout: the example pipeline, 4
  steps), whose edits are parameter ``example.test_fraction`` (read by ``split_points``) and the
  code of the leaf node ``evaluate_line``;
- a 50-node DAG generated with ``tests/support/project_factory.py`` (a binary tree: node i reads
  the output of node (i-1)//2; one node per step), whose edits are parameter ``leaf_offset`` (read
  by leaf ``node_49`` only) and the code of that leaf's function.

For each project, one untimed ``run --local`` fills the reuse cache. Then, per edit and per
repetition: the edit, a replay with reuse (only what depends on the edit runs; its new outputs go
to the cache), then a replay with ``--no-reuse`` of the same state (every step runs). Each replay
is a fresh Python process calling ``run_jobs_locally`` as ``kedro azureml run --local`` does, and
reports its wall clock and the time spent fingerprinting (what the project's nodes read, the
snapshot's digests, each step's fingerprint and decision). Reported per project and edit: the
wall clock of both, no-reuse/reuse, and the fingerprinting's share of the ``--no-reuse`` replay
(nothing reused: the cost every replay pays). Target: fingerprinting < 5 % of the replay.

A code edit changes the code snapshot every step runs, so every step runs again (as on Azure ML,
where the code is one asset for all steps): its ratio shows that, it is not a failure.

Needs the workspace environment (kedro-azureml-deploy and copier installed):

    uv run python benchmarks/replay_reuse.py [--runs 1] [--nodes 50] [--only dag]
        [--edits parameter "leaf code"] [--keep]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/ or tests/support/
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "support"))

from _venvs import clean_env, format_table, workspace  # noqa: E402

from project_factory import KedroProject, NodeSpec, default_azureml_config  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FINGERPRINT_TARGET = 0.05
#: One ``run --local`` in a fresh process, timing the fingerprinting functions it calls.
REPLAY = """\
import json, sys, time
from pathlib import Path

from kedro.framework.startup import bootstrap_project
from rich.console import Console

project_path, job, reuse = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "reuse"
bootstrap_project(project_path)
from kedro_azureml_deploy.compiler import CompileOptions
from kedro_azureml_deploy.project import open_project
from kedro_azureml_deploy.replay import local_run, reuse as reuse_module

replay_job = sys.modules["kedro_azureml_deploy.replay.job_replay"]  # the package exports the function

spent = [0.0]


def timed(function):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start
    return wrapper


local_run.job_reads = timed(local_run.job_reads)
replay_job.tree_manifest = timed(replay_job.tree_manifest)
replay_job.save_code_manifest = timed(replay_job.save_code_manifest)
reuse_module.ReplayReuse.decide = timed(reuse_module.ReplayReuse.decide)
start = time.perf_counter()
project = open_project(project_path, env="base")
(report,) = local_run.run_jobs_locally(
    project, [job], CompileOptions(), reuse=reuse, console=Console(file=sys.stderr)
)
wall = time.perf_counter() - start
ran = sum(1 for step in report.steps if not (step.reuse or "").startswith("reused"))
print(json.dumps({"status": report.status, "wall": wall, "fingerprint": spent[0], "ran": ran}))
"""

DAG_FUNCTIONS = """

def add_offset(value, offset):
    return value + offset
"""


def replay(project: Path, job: str, *, reuse: bool) -> dict:
    cmd = [sys.executable, "-c", REPLAY, str(project), job, "reuse" if reuse else "no-reuse"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), cwd=project)
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines or '"status": "succeeded"' not in lines[-1]:
        sys.exit(f"the replay failed:\n{result.stdout}\n{result.stderr[-3000:]}")
    return json.loads(lines[-1])


def template_project(root: Path) -> tuple[Path, str, dict[str, Callable[[int], None]]]:
    source = root / "template"
    source.mkdir()
    shutil.copy2(REPO / "copier.yml", source / "copier.yml")
    shutil.copytree(REPO / "templates", source / "templates")
    target = root / "template-project"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "copier",
            "copy",
            "--trust",
            "--defaults",
            "--quiet",
            source,
            target,
        ],
        check=True,
        capture_output=True,
        env=clean_env(),
    )
    azureml = target / "conf" / "base" / "azureml.yml"
    import yaml

    config = yaml.safe_load(azureml.read_text())
    for job in config["jobs"].values():
        job["step_reuse"] = True
        job.pop("force_rerun", None)
    azureml.write_text(yaml.safe_dump(config, sort_keys=False))
    parameters = target / "conf" / "base" / "parameters.yml"
    (nodes,) = target.glob("src/*/pipelines/example/nodes.py")

    def parameter(repetition: int) -> None:
        values = yaml.safe_load(parameters.read_text())
        values["example"]["test_fraction"] = 0.2 + 0.01 * repetition
        parameters.write_text(yaml.safe_dump(values))

    def code(repetition: int) -> None:
        text = nodes.read_text()
        marker = "def evaluate_line("
        nodes.write_text(text.replace(marker, f"# edit {repetition}\n{marker}", 1))

    return target, "default", {"parameter": parameter, "leaf code": code}


def dag_project(root: Path, size: int) -> tuple[Path, str, dict[str, Callable[[int], None]]]:
    nodes = [NodeSpec("node_0", "identity", ["params:seed"], ["d_0"])]
    nodes += [
        NodeSpec(f"node_{i}", "add_one", [f"d_{(i - 1) // 2}"], [f"d_{i}"])
        for i in range(1, size - 1)
    ]
    last = size - 1
    nodes.append(
        NodeSpec(
            f"node_{last}",
            "add_offset",
            [f"d_{(last - 1) // 2}", "params:leaf_offset"],
            [f"d_{last}"],
        )
    )
    project = KedroProject(
        root / "dag",
        nodes=nodes,
        parameters={"seed": 1, "leaf_offset": 0},
        extra_functions=DAG_FUNCTIONS,
        extra_files={
            "conf/base/azureml.yml": json.dumps(
                default_azureml_config({"dag": {"step_reuse": True}}), indent=2
            )
        },
    ).write()
    parameters = project.path / "conf" / "base" / "parameters.yml"
    functions = project.path / "src" / project.package / "pipelines" / "nodes.py"

    def parameter(repetition: int) -> None:
        parameters.write_text(json.dumps({"seed": 1, "leaf_offset": repetition + 1}))

    def code(repetition: int) -> None:
        text = functions.read_text()
        functions.write_text(
            text.replace("    return value + offset", f"    return value + offset  # {repetition}")
        )

    return project.path, "dag", {"parameter": parameter, "leaf code": code}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="repetitions of each edit (>= 1)")
    parser.add_argument("--nodes", type=int, default=50, help="nodes of the DAG (>= 3)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--only", choices=["template", "dag"], help="one project only")
    parser.add_argument(
        "--edits", nargs="+", choices=["parameter", "leaf code"], default=["parameter", "leaf code"]
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.nodes < 3:
        parser.error("--runs must be >= 1 and --nodes >= 3")
    if importlib.util.find_spec("kedro_azureml_deploy") is None:
        sys.exit("kedro-azureml-deploy is not installed here: run with `uv run python ...`.")

    rows = []
    shares = []
    with workspace("kedro-azureml-replay-reuse-", keep=args.keep) as root:
        projects = {
            "template": lambda: template_project(root),
            "dag": lambda: dag_project(root, args.nodes),
        }
        for label, make in projects.items():
            if args.only and label != args.only:
                continue
            path, job, edits = make()
            first = replay(path, job, reuse=True)  # fills the cache
            print(f"{label}: first run {first['wall']:.1f} s, {first['ran']} steps", flush=True)
            for edit, apply in edits.items():
                if edit not in args.edits:
                    continue
                with_reuse, without = [], []
                for repetition in range(args.runs):
                    apply(repetition)
                    with_reuse.append(replay(path, job, reuse=True))
                    without.append(replay(path, job, reuse=False))
                reuse_wall = statistics.median(r["wall"] for r in with_reuse)
                full_wall = statistics.median(r["wall"] for r in without)
                share = statistics.median(r["fingerprint"] / r["wall"] for r in without)
                shares.append(share)
                rows.append(
                    [
                        label,
                        edit,
                        f"{with_reuse[-1]['ran']}/{without[-1]['ran']}",
                        f"{reuse_wall:.2f}",
                        f"{full_wall:.2f}",
                        f"{full_wall / reuse_wall:.2f}",
                        f"{statistics.median(r['fingerprint'] for r in without):.3f}",
                        f"{share:.1%}",
                    ]
                )
                print(f"  {edit}: done", flush=True)
    print()
    print(f"Replay reuse (median of {args.runs} run(s) each, wall clock)")
    header = [
        "project",
        "edit",
        "steps run",
        "reuse s",
        "no-reuse s",
        "ratio",
        "fingerprint s",
        "share",
    ]
    print(format_table(header, rows))
    worst = max(shares, default=0.0)
    ok = worst < FINGERPRINT_TARGET
    print(
        f"fingerprinting < {FINGERPRINT_TARGET:.0%} of a replay: {'met' if ok else 'NOT met'} (worst {worst:.1%})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
