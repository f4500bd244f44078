"""Plan dictionaries of the shape ``JobPlan.to_dict()`` returns (``kedro azureml plan --format
json``), built without a project, for the tests of the plan page and of the commands showing it."""

from __future__ import annotations

import random
from typing import Any


def plan_dict(
    steps: list[tuple[str, list[str], list[str]]],
    *,
    job: str = "default",
    compute: str = "cpu-cluster",
    environment: str = "kedro-env",
) -> dict[str, Any]:
    """A plan of ``steps``, each ``(name, nodes, upstream)`` in topological order; each edge
    carries one dataset named ``<from>_to_<to>``."""
    edges = [
        {"from": up, "to": name, "datasets": [f"{up}_to_{name}"]}
        for name, _nodes, upstream in steps
        for up in upstream
    ]
    planned = []
    for name, nodes, upstream in steps:
        planned.append(
            {
                "name": name,
                "nodes": nodes,
                "compute": compute,
                "environment": environment,
                "inputs": [f"{up}_to_{name}" for up in upstream],
                "outputs": [e["datasets"][0] for e in edges if e["from"] == name],
                "upstream": upstream,
            }
        )
    depth: dict[str, int] = {}
    for name, _nodes, upstream in steps:
        depth[name] = 1 + max((depth[u] for u in upstream), default=0)
    return {
        "job": job,
        "pipeline": "__default__",
        "grouping": "none",
        "steps": planned,
        "edges": edges,
        "totals": {
            "nodes": sum(len(nodes) for _name, nodes, _up in steps),
            "steps": len(steps),
            "critical_path_steps": max(depth.values(), default=0),
            "crossing_datasets": len(edges),
        },
    }


def spaceflights_plan() -> dict[str, Any]:
    """The four steps of the spaceflights-like project the submit tests use, one node each."""
    return plan_dict(
        [
            ("preprocess", ["preprocess"], []),
            ("features", ["features"], ["preprocess"]),
            ("train", ["train"], ["features"]),
            ("evaluate", ["evaluate"], ["train", "features"]),
        ]
    )


def large_plan(nodes: int = 200, *, seed: int = 7) -> dict[str, Any]:
    """A plan of ``nodes`` nodes in about ``nodes / 2`` steps of one to four nodes, each step
    reading from one to three earlier steps (a random but reproducible DAG)."""
    rng = random.Random(seed)
    steps: list[tuple[str, list[str], list[str]]] = []
    made = 0
    while made < nodes:
        size = min(rng.choice((1, 1, 2, 2, 3, 4)), nodes - made)
        name = f"step_{len(steps):03d}"
        node_names = [f"{name}_node_{i}_transform_features" for i in range(size)]
        earlier = [s[0] for s in steps[-25:]]
        upstream = (
            sorted(rng.sample(earlier, min(len(earlier), rng.randint(1, 3))))
            if earlier and rng.random() > 0.05
            else []
        )
        steps.append((name, node_names, upstream))
        made += size
    return plan_dict(steps)
