"""Run an example Kedro project node by node, as Azure ML would run its steps.

Each node runs in its own ``kedro azureml execute`` process; its inputs and outputs are folders
under ``<target>/mounts``, standing in for Azure ML's mounts. Used by ``scripts/bootstrap`` until the
template and the local replay take its place.
"""

from __future__ import annotations

import pickle
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from project_factory import KedroProject, NodeSpec, pipeline_dataset

STEPS = [
    NodeSpec("load", "identity", ["params:seed"], ["raw"]),
    NodeSpec("increment", "add_one", ["raw"], ["features"]),
    NodeSpec("score", "add_one", ["features"], ["score"]),
]


def main(target: Path) -> int:
    target = target.resolve()
    shutil.rmtree(target, ignore_errors=True)
    project = KedroProject(
        target / "project",
        package="example_project",
        nodes=STEPS,
        catalog={"features": pipeline_dataset("features.pkl")},
        parameters={"seed": 41},
    ).write()
    mounts = target / "mounts"
    for spec in STEPS:
        args = ["azureml", "execute", "--node", spec.name]
        for name in spec.inputs:
            if not name.startswith("params:"):
                args += ["--az-input", name, str(mounts / name)]
        for name in spec.outputs:
            args += ["--az-output", name, str(mounts / name)]
        started = time.perf_counter()
        result = project.kedro(*args)
        elapsed = time.perf_counter() - started
        status = "succeeded" if result.returncode == 0 else f"failed ({result.returncode})"
        print(f"step {spec.name:<10} {status:<12} {elapsed:5.1f} s")
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
    with (mounts / "score" / "data.pickle").open("rb") as stream:
        score = pickle.load(stream)
    print(f"score = {score} (seed 41 + 2), written to {mounts / 'score'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else ".azureml-local/example")))
