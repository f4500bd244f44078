"""The plan of a compiled job: its steps, the nodes each runs, and the data crossing between them.

``plan_of`` reads a ``CompiledJob`` (the very result ``kedro azureml compile`` writes), so what
``kedro azureml plan`` shows is what Azure ML gets: step names, computes and environments are taken
from the compiled spec. ``JobPlan.to_dict()`` is the JSON of ``kedro azureml plan --format json``,
a contract shared with the plan page and step reuse::

    {"job": ..., "pipeline": ..., "grouping": ...,
     "steps": [{"name", "nodes", "compute", "environment", "inputs", "outputs", "upstream"}],
     "edges": [{"from", "to", "datasets"}],
     "totals": {"nodes", "steps", "critical_path_steps", "crossing_datasets"}}

Steps are in topological order. Pure: no project, no Azure, time linear in steps and datasets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kedro_azureml_deploy.compiler.compute_target import describe_compute

if TYPE_CHECKING:
    from kedro_azureml_deploy.compiler.compiled_job import CompiledJob


@dataclass(frozen=True)
class PlannedStep:
    """One step of the plan: one container start on Azure ML.

    Attributes:
        name: the step's name in the compiled job.
        nodes: the Kedro nodes it runs, in the order it runs them.
        compute: the compute cluster it runs on, or ``serverless <instance type>`` (with
            `` xN`` for N machines), as compiled.
        environment: its Azure ML environment (``name@latest``, ``name:3``) or image, as compiled.
        inputs: datasets crossing into the step, from another step or from outside the job
            (parameters left out).
        outputs: datasets crossing out of it, to another step or out of the job.
        upstream: the steps it waits for, in topological order.
    """

    name: str
    nodes: tuple[str, ...]
    compute: str
    environment: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    upstream: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nodes": list(self.nodes),
            "compute": self.compute,
            "environment": self.environment,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "upstream": list(self.upstream),
        }


@dataclass(frozen=True)
class PlannedEdge:
    """Step ``to`` waits for step ``source`` and reads ``datasets`` it writes."""

    source: str
    target: str
    datasets: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "datasets": list(self.datasets)}


@dataclass(frozen=True)
class JobPlan:
    """The steps of a compiled job and what a user decides on: how many containers start, how
    many run one after the other, how much data travels between them.

    Attributes:
        job: the job's name in ``azureml.yml``.
        pipeline: the registered Kedro pipeline it runs.
        grouping: how nodes were grouped into steps (``none``, ``chains``, ``namespaces``,
            ``tags``; ``+chains`` when ungrouped nodes follow chains).
        steps: the steps, in topological order.
        edges: every pair of steps with data between them, in topological order of their
            consumers, then of their producers.
    """

    job: str
    pipeline: str
    grouping: str
    steps: tuple[PlannedStep, ...]
    edges: tuple[PlannedEdge, ...]

    @property
    def node_count(self) -> int:
        return sum(len(step.nodes) for step in self.steps)

    @property
    def critical_path_steps(self) -> int:
        """The most steps any path through the job runs one after the other."""
        depth: dict[str, int] = {}
        for step in self.steps:  # topological order: upstream steps come first
            depth[step.name] = 1 + max((depth[name] for name in step.upstream), default=0)
        return max(depth.values(), default=0)

    @property
    def crossing_datasets(self) -> tuple[str, ...]:
        """Datasets that travel from one step to another, in order of first crossing."""
        seen: dict[str, None] = {}
        for edge in self.edges:
            for name in edge.datasets:
                seen.setdefault(name)
        return tuple(seen)

    def totals(self) -> dict[str, int]:
        return {
            "nodes": self.node_count,
            "steps": len(self.steps),
            "critical_path_steps": self.critical_path_steps,
            "crossing_datasets": len(self.crossing_datasets),
        }

    def to_dict(self) -> dict[str, Any]:
        """The plan as ``kedro azureml plan --format json`` prints it."""
        return {
            "job": self.job,
            "pipeline": self.pipeline,
            "grouping": self.grouping,
            "steps": [step.to_dict() for step in self.steps],
            "edges": [edge.to_dict() for edge in self.edges],
            "totals": self.totals(),
        }


def plan_of(compiled: CompiledJob) -> JobPlan:
    """The plan of ``compiled``, read from its steps and its spec (what Azure ML gets)."""
    jobs = compiled.spec.get("jobs", {})
    default = (compiled.spec.get("settings") or {}).get("default_compute")
    producer = {name: step.name for step in compiled.steps for name in step.writes}
    order = {step.name: index for index, step in enumerate(compiled.steps)}
    steps: list[PlannedStep] = []
    edges: list[PlannedEdge] = []
    for step in compiled.steps:
        spec = jobs.get(step.name, {})
        upstream: dict[str, list[str]] = {}
        for name in step.reads:
            source = producer.get(name)
            if source is not None and source != step.name:
                upstream.setdefault(source, []).append(name)
        for source in step.depends_on:
            upstream.setdefault(source, [])
        sources = sorted(upstream, key=order.__getitem__)
        edges.extend(
            PlannedEdge(source, step.name, tuple(upstream[source]))
            for source in sources
            if upstream[source]
        )
        steps.append(
            PlannedStep(
                name=step.name,
                nodes=step.nodes,
                compute=_compute(spec, step.compute, default),
                environment=_environment(spec, step.environment),
                inputs=step.reads,
                outputs=step.writes,
                upstream=tuple(sources),
            )
        )
    return JobPlan(
        job=compiled.name,
        pipeline=compiled.pipeline,
        grouping=compiled.grouping,
        steps=tuple(steps),
        edges=tuple(edges),
    )


def _compute(spec: dict[str, Any], entry: str, default: str | None) -> str:
    return describe_compute(spec, default) or entry


def _environment(spec: dict[str, Any], entry: str) -> str:
    environment = spec.get("environment")
    if isinstance(environment, str):
        return environment.removeprefix("azureml:")
    if isinstance(environment, dict) and isinstance(environment.get("image"), str):
        return environment["image"]
    return entry


#: The columns of ``plan_table``.
_COLUMNS = ("step", "nodes", "compute", "environment", "inputs", "outputs")


def plan_table(plan: JobPlan) -> str:
    """The plan as ``kedro azureml plan`` prints it: one row per step (a line per node and per
    dataset), then the totals. Plain text, the same bytes for the same plan."""
    rows = [
        (
            [step.name],
            list(step.nodes),
            [step.compute],
            [step.environment],
            list(step.inputs) or ["-"],
            list(step.outputs) or ["-"],
        )
        for step in plan.steps
    ]
    widths = [
        max([len(title), *(len(line) for row in rows for line in row[index])])
        for index, title in enumerate(_COLUMNS)
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) for cell, width in zip(cells, widths, strict=True)
        ).rstrip()

    lines = [
        f"Job {plan.job!r}: pipeline {plan.pipeline!r}, grouping {plan.grouping!r}",
        "",
        line(_COLUMNS),
        line(["-" * width for width in widths]),
    ]
    for row in rows:
        height = max(len(cell) for cell in row)
        for offset in range(height):
            lines.append(line([cell[offset] if offset < len(cell) else "" for cell in row]))
    totals = plan.totals()
    lines += [
        "",
        f"{totals['nodes']} node(s) in {totals['steps']} step(s) (container starts), "
        f"{totals['critical_path_steps']} step(s) on the critical path, "
        f"{totals['crossing_datasets']} dataset(s) crossing steps.",
    ]
    return "\n".join(lines) + "\n"
