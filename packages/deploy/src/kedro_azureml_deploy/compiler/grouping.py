"""Kedro nodes grouped into Azure ML steps, as ``jobs.<job>.grouping`` says.

- ``none``: one step per node.
- ``chains``: a node whose only consumer has it as its only producer shares that consumer's step,
  so each maximal linear chain is one step. A fused edge was the only link between its two nodes,
  so no parallelism is lost: the critical path in steps only shrinks.
- ``namespaces``: the nodes of one top-level Kedro namespace form one step.
- ``tags``: the nodes tagged ``step.<name>`` form the step ``<name>``.

With ``namespaces`` and ``tags``, nodes outside any group stay alone, or follow ``chains``
(``ungrouped: chains``). Rules every strategy keeps:

- a ``@distributed_job`` node runs alone in its step (every process of the step would otherwise
  run the other nodes too);
- the nodes of one step run on one compute and in one environment: ``chains`` stops a chain
  where the routing by tags changes, and a namespace or step tag whose nodes the ``compute`` or
  ``environment`` entries route apart is an error;
- a group must be convex (no path leaves it and comes back), else steps would wait on each
  other: an error names the nodes and the path.

Time is linear in nodes and datasets.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kedro_azureml_deploy.compiler.naming import distinct_names
from kedro_azureml_deploy.config.grouping import STEP_TAG_PREFIX, GroupingConfig
from kedro_azureml_deploy.errors import CompileError
from kedro_azureml_runtime.distributed import distributed_config

if TYPE_CHECKING:
    from kedro.pipeline.node import Node

#: How many node names an error lists before it says "and N more".
_SHOWN = 8


@dataclass(frozen=True)
class StepGroup:
    """The nodes one step runs.

    Attributes:
        name: the step's name in the pipeline job (Azure ML's rules, unique in the job).
        label: what the group is called in the user's words: the node's name, the namespace,
            the step tag's name, or ``first..last`` for a chain.
        nodes: its nodes, in topological order.
        compute: the ``compute`` entry all its nodes are routed to.
        environment: the ``environment`` entry all its nodes are routed to.
    """

    name: str
    label: str
    nodes: tuple[Node, ...]
    compute: str
    environment: str


Route = Callable[["Node"], tuple[str, str]]


def group_nodes(
    *,
    job_name: str,
    nodes: Sequence[Node],
    grouping: GroupingConfig,
    route: Route,
) -> list[StepGroup]:
    """Group ``nodes`` (in topological order) into steps, in topological order of the steps.

    Args:
        job_name: the job, for error messages.
        nodes: the job's nodes, in topological order.
        grouping: the job's ``grouping``.
        route: the ``(compute, environment)`` entries of a node.

    Raises:
        CompileError: a node has two step tags, a group's nodes are routed to different
            computes or environments, or a group is not convex.
    """
    routes = {node.name: route(node) for node in nodes}
    alone = {node.name for node in nodes if distributed_config(node.func) is not None}
    keys = _group_keys(job_name, nodes, grouping, alone)
    if grouping.by == "chains" or grouping.ungrouped == "chains":
        follow = {node.name for node in nodes if keys[node.name] is None}
        for name, head in _chain_heads(nodes, routes, alone, follow).items():
            keys[name] = ("chain", head)
    members: dict[tuple[str, str], list[Node]] = defaultdict(list)
    for node in nodes:
        key = keys[node.name] or ("node", node.name)
        members[key].append(node)
        keys[node.name] = key
    for key, group in members.items():
        _check_one_route(job_name, grouping, key, group, routes)
    ordered = _topological(job_name, grouping, nodes, keys, members)
    labels = [_label(key, members[key]) for key in ordered]
    names = distinct_names(_name_source(key, members[key]) for key in ordered)
    return [
        StepGroup(
            name=name,
            label=label,
            nodes=tuple(members[key]),
            compute=routes[members[key][0].name][0],
            environment=routes[members[key][0].name][1],
        )
        for key, label, name in zip(ordered, labels, names, strict=True)
    ]


def step_tag(job_name: str, node: Node) -> str | None:
    """The ``<name>`` of the node's ``step.<name>`` tag, ``None`` without one.

    Raises:
        CompileError: the node has several step tags, or ``step.`` alone.
    """
    found = sorted(tag for tag in node.tags if tag.startswith(STEP_TAG_PREFIX))
    if not found:
        return None
    if len(found) > 1:
        raise CompileError(
            f"job {job_name!r} (grouping: tags): node {node.name!r} has several step tags "
            f"({', '.join(found)}); a node runs in one step: keep one of them."
        )
    name = found[0].removeprefix(STEP_TAG_PREFIX)
    if not name.strip("."):
        raise CompileError(
            f"job {job_name!r} (grouping: tags): node {node.name!r} has the tag {found[0]!r}, "
            f"which names no step: tag it {STEP_TAG_PREFIX}<name>, for example "
            f"{STEP_TAG_PREFIX}training."
        )
    return name


def _group_keys(
    job_name: str, nodes: Sequence[Node], grouping: GroupingConfig, alone: set[str]
) -> dict[str, tuple[str, str] | None]:
    """Each node's group from its namespace or step tag; ``None`` for a node in no group."""
    keys: dict[str, tuple[str, str] | None] = {}
    for node in nodes:
        key: tuple[str, str] | None = None
        if node.name in alone:
            key = ("node", node.name)
        elif grouping.by == "namespaces" and node.namespace:
            key = ("namespace", node.namespace.split(".", 1)[0])
        elif grouping.by == "tags":
            tag = step_tag(job_name, node)
            key = ("tag", tag) if tag is not None else None
        keys[node.name] = key
    return keys


def _chain_heads(
    nodes: Sequence[Node], routes: dict[str, tuple[str, str]], alone: set[str], follow: set[str]
) -> dict[str, str]:
    """For each node of ``follow``, the first node of the maximal linear chain it belongs to."""
    producer = {name: node.name for node in nodes for name in node.outputs}
    producers: dict[str, set[str]] = {}
    consumers: dict[str, set[str]] = defaultdict(set)
    for node in nodes:
        upstream = {producer[name] for name in node.inputs if name in producer}
        producers[node.name] = upstream
        for name in upstream:
            consumers[name].add(node.name)
    heads: dict[str, str] = {}
    for node in nodes:  # topological: a node's producer has its head already
        if node.name not in follow:
            continue
        head = node.name
        upstream = producers[node.name]
        if len(upstream) == 1 and node.name not in alone:
            (previous,) = upstream
            if (
                previous in follow
                and previous not in alone
                and consumers[previous] == {node.name}
                and routes[previous] == routes[node.name]
            ):
                head = heads[previous]
        heads[node.name] = head
    return heads


def _check_one_route(
    job_name: str,
    grouping: GroupingConfig,
    key: tuple[str, str],
    group: list[Node],
    routes: dict[str, tuple[str, str]],
) -> None:
    first = routes[group[0].name]
    for node in group[1:]:
        if routes[node.name] != first:
            section, index = (
                ("compute", 0) if routes[node.name][0] != first[0] else ("environment", 1)
            )
            raise CompileError(
                f"job {job_name!r} (grouping: {grouping.label()}): {_describe(key)} would run "
                f"node {group[0].name!r} on {section} {first[index]!r} and node {node.name!r} on "
                f"{section} {routes[node.name][index]!r}, but one step runs on one {section}: "
                f"give both nodes the same {section} tags, or move one out of the group."
            )


def _topological(
    job_name: str,
    grouping: GroupingConfig,
    nodes: Sequence[Node],
    keys: dict[str, tuple[str, str]],
    members: dict[tuple[str, str], list[Node]],
) -> list[tuple[str, str]]:
    """The groups in topological order (ties in the order of their first node), after proving
    that the step graph has no cycle, that is, that every group is convex."""
    producer = {name: node.name for node in nodes for name in node.outputs}
    first_index = {}
    for index, node in enumerate(nodes):
        first_index.setdefault(keys[node.name], index)
    successors: dict[tuple[str, str], set[tuple[str, str]]] = defaultdict(set)
    example: dict[tuple[tuple[str, str], tuple[str, str]], tuple[str, str]] = {}
    for node in nodes:
        target = keys[node.name]
        for name in node.inputs:
            if name not in producer:
                continue
            source = keys[producer[name]]
            if source != target and target not in successors[source]:
                successors[source].add(target)
                example[(source, target)] = (producer[name], node.name)
    indegree = {key: 0 for key in members}
    for targets in successors.values():
        for target in targets:
            indegree[target] += 1
    ready = [(first_index[key], key) for key, degree in indegree.items() if degree == 0]
    heapq.heapify(ready)
    ordered: list[tuple[str, str]] = []
    while ready:
        _, key = heapq.heappop(ready)
        ordered.append(key)
        for target in successors[key]:
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, (first_index[target], target))
    if len(ordered) < len(members):
        _raise_not_convex(job_name, grouping, indegree, example, members)
    return ordered


def _raise_not_convex(
    job_name: str,
    grouping: GroupingConfig,
    indegree: dict[tuple[str, str], int],
    example: dict[tuple[tuple[str, str], tuple[str, str]], tuple[str, str]],
    members: dict[tuple[str, str], list[Node]],
) -> None:
    """Find a cycle among the groups left waiting, and name the nodes on it."""
    left = {key for key, degree in indegree.items() if degree > 0}
    predecessor = {}
    for source, target in example:
        if source in left and target in left:
            predecessor.setdefault(target, source)
    walk: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    key = next(iter(sorted(left)))
    while key not in seen:  # every group left waits on another group left
        seen[key] = len(walk)
        walk.append(key)
        key = predecessor[key]
    cycle = list(reversed(walk[seen[key] :]))  # in the direction data flows
    path: list[str] = []
    for index, source in enumerate(cycle):
        target = cycle[(index + 1) % len(cycle)]
        producer, consumer = example[(source, target)]
        if not path or path[-1] != producer:
            path.append(producer)
        path.append(consumer)
    group = next((k for k in cycle if len(members[k]) > 1), cycle[0])
    names = [node.name for node in members[group]]
    shown = ", ".join(names[:_SHOWN]) + (
        f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
    )
    raise CompileError(
        f"job {job_name!r} (grouping: {grouping.label()}): {_describe(group)} (nodes {shown}) "
        f"is not convex: the path {' -> '.join(path)} leaves it and comes back, so its step "
        "would wait for itself. Put the nodes on that path into the same group, or take the "
        "group's first or last nodes out of it."
    )


def _describe(key: tuple[str, str]) -> str:
    kind, value = key
    return {
        "namespace": f"namespace {value!r}",
        "tag": f"step tag {STEP_TAG_PREFIX}{value}",
        "chain": f"the chain starting at node {value!r}",
    }.get(kind, f"node {value!r}")


def _label(key: tuple[str, str], group: list[Node]) -> str:
    if key[0] in ("namespace", "tag"):
        return key[1]
    if len(group) == 1:
        return group[0].name
    return f"{group[0].name}..{group[-1].name}"


def _name_source(key: tuple[str, str], group: list[Node]) -> str:
    if len(group) == 1 and key[0] in ("node", "chain"):
        return group[0].name
    if key[0] == "chain":
        return f"{group[0].name}__{group[-1].name}"
    return key[1]
