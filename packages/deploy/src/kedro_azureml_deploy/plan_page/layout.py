"""Where each step box and edge of the plan page goes: a small layered drawing of the step graph.

A step's layer is the length of the longest chain of upstream steps before it, so every edge
runs left to right. Within a layer, boxes are ordered by the mean position of their neighbours
(a few sweeps of the barycenter heuristic), which keeps most edges short and uncrossed. A layer
with more than ``MAX_BOXES_PER_COLUMN`` boxes wraps into several columns, so a wide job stays a
page one can scroll rather than a ribbon. Boxes are stacked with a gap, so none overlaps another.

Why not a library: Graphviz's ``dot`` does this better but is a binary to install, and the
JavaScript layout engines (dagre, ELK) would have to be bundled into every page; the step graph
of a Kedro job is small enough (hundreds of boxes) for the simple method to read well.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import Any

BOX_MIN_WIDTH = 210
BOX_MAX_WIDTH = 330
CHAR_WIDTH = 7.2  # of the 12 px sans-serif labels, on average
HEADER_HEIGHT = 46  # the step's name, then its compute and environment
NODE_ROW_HEIGHT = 22
BOX_PADDING = 8
COLUMN_GAP = 170  # room for the edge labels
ROW_GAP = 26
MARGIN = 24
MAX_BOXES_PER_COLUMN = 18
BARYCENTER_SWEEPS = 4
CENTRED_UP_TO = 700  # px: the height of drawing whose columns are centred


@dataclass(frozen=True)
class Box:
    """A step's box: top-left corner, size, and the column it stands in."""

    step: str
    x: float
    y: float
    width: float
    height: float
    column: int

    def node_y(self, index: int) -> float:
        """The top of the row of the box's ``index``-th node."""
        return self.y + HEADER_HEIGHT + index * NODE_ROW_HEIGHT

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.width
            and other.x < self.x + self.width
            and self.y < other.y + other.height
            and other.y < self.y + self.height
        )


@dataclass(frozen=True)
class EdgePath:
    """A data edge drawn as a cubic curve from the right side of ``source`` to the left of
    ``target``; ``label_x``/``label_y`` is the middle of the curve."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]  # start, control, control, end
    label_x: float
    label_y: float

    @property
    def path(self) -> str:
        (x1, y1), (c1x, c1y), (c2x, c2y), (x2, y2) = self.points
        return f"M{x1:.1f},{y1:.1f} C{c1x:.1f},{c1y:.1f} {c2x:.1f},{c2y:.1f} {x2:.1f},{y2:.1f}"


@dataclass(frozen=True)
class Layout:
    """The drawing of a plan: its size, a box per step, a path per edge."""

    width: float
    height: float
    boxes: dict[str, Box]
    edges: tuple[EdgePath, ...]


def layers_of(steps: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Each step's layer: 0 without upstream steps, else one more than its deepest upstream."""
    graph = {step["name"]: [u for u in step.get("upstream", ())] for step in steps}
    layer: dict[str, int] = {}
    for name in TopologicalSorter(graph).static_order():
        upstream = [layer[u] for u in graph.get(name, ()) if u in layer]
        layer[name] = 1 + max(upstream) if upstream else 0
    return {name: layer[name] for name in graph}


def critical_path(steps: Sequence[Mapping[str, Any]]) -> list[str]:
    """The longest chain of steps, each upstream of the next (the first one found when several
    are as long): the steps that cannot run side by side, however many computes there are."""
    layer = layers_of(steps)
    if not layer:
        return []
    upstream = {step["name"]: list(step.get("upstream", ())) for step in steps}
    order = {step["name"]: index for index, step in enumerate(steps)}
    current = min((name for name in layer if layer[name] == max(layer.values())), key=order.get)
    chain = [current]
    while upstream.get(current):
        current = min(
            (u for u in upstream[current] if layer[u] == layer[current] - 1), key=order.get
        )
        chain.append(current)
    return chain[::-1]


def box_width(step: Mapping[str, Any]) -> float:
    """Wide enough for the longest label of the box, within bounds (longer ones are cut)."""
    labels = [step["name"], *step.get("nodes", ())]
    longest = max(len(label) for label in labels) + 4  # the state dot and the duration
    return max(BOX_MIN_WIDTH, min(BOX_MAX_WIDTH, longest * CHAR_WIDTH + 2 * BOX_PADDING))


def box_height(step: Mapping[str, Any]) -> float:
    return HEADER_HEIGHT + len(step.get("nodes", ())) * NODE_ROW_HEIGHT + BOX_PADDING


def lay_out(plan: Mapping[str, Any]) -> Layout:
    """The drawing of ``plan`` (the dictionary of ``JobPlan.to_dict()``)."""
    steps = list(plan.get("steps", ()))
    by_name = {step["name"]: step for step in steps}
    layer = layers_of(steps)
    ordered = _ordered_layers(steps, layer)

    columns: list[list[str]] = []
    for names in ordered:
        for start in range(0, len(names), MAX_BOXES_PER_COLUMN):
            columns.append(names[start : start + MAX_BOXES_PER_COLUMN])
    column_heights = [
        sum(box_height(by_name[name]) for name in column) + ROW_GAP * (len(column) - 1)
        for column in columns
    ]
    tallest = max(column_heights, default=0)

    boxes: dict[str, Box] = {}
    x = MARGIN
    for index, (column, height) in enumerate(zip(columns, column_heights, strict=True)):
        width = max(box_width(by_name[name]) for name in column)
        # short drawings centre their columns; tall ones start each at the top, where one looks
        y = MARGIN + ((tallest - height) / 2 if tallest <= CENTRED_UP_TO else 0)
        for name in column:
            boxes[name] = Box(name, x, y, width, box_height(by_name[name]), index)
            y += boxes[name].height + ROW_GAP
        x += width + COLUMN_GAP

    edges = tuple(
        _edge(boxes[edge["from"]], boxes[edge["to"]])
        for edge in plan.get("edges", ())
        if edge["from"] in boxes and edge["to"] in boxes
    )
    width = (x - COLUMN_GAP + MARGIN) if columns else 2 * MARGIN
    return Layout(width=width, height=tallest + 2 * MARGIN, boxes=boxes, edges=edges)


def _ordered_layers(
    steps: Sequence[Mapping[str, Any]], layer: Mapping[str, int]
) -> list[list[str]]:
    """The steps of each layer, ordered to keep edges short (barycenter sweeps, down then up)."""
    count = max(layer.values(), default=-1) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for step in steps:
        layers[layer[step["name"]]].append(step["name"])
    upstream = {step["name"]: list(step.get("upstream", ())) for step in steps}
    downstream: dict[str, list[str]] = {name: [] for name in upstream}
    for name, ups in upstream.items():
        for up in ups:
            downstream.setdefault(up, []).append(name)

    def position() -> dict[str, float]:
        return {
            name: index / max(1, len(names) - 1)
            for names in layers
            for index, name in enumerate(names)
        }

    for sweep in range(BARYCENTER_SWEEPS):
        neighbours = upstream if sweep % 2 == 0 else downstream
        indices = range(1, count) if sweep % 2 == 0 else range(count - 2, -1, -1)
        for index in indices:
            where = position()
            current = {name: i for i, name in enumerate(layers[index])}

            layers[index] = sorted(
                layers[index],
                key=lambda name: (_barycenter(name, neighbours, where, current), current[name]),
            )
    return layers


def _barycenter(
    name: str,
    neighbours: Mapping[str, list[str]],
    where: Mapping[str, float],
    current: Mapping[str, int],
) -> float:
    """The mean position of ``name``'s neighbours in their layers (its own without any)."""
    near = [where[n] for n in neighbours.get(name, ()) if n in where]
    if not near:
        return current[name] / max(1, len(current) - 1)
    return sum(near) / len(near)


def _edge(source: Box, target: Box) -> EdgePath:
    x1, y1 = source.x + source.width, source.y + min(source.height / 2, HEADER_HEIGHT / 2 + 12)
    x2, y2 = target.x, target.y + min(target.height / 2, HEADER_HEIGHT / 2 + 12)
    bend = max(40.0, (x2 - x1) / 2)
    points = ((x1, y1), (x1 + bend, y1), (x2 - bend, y2), (x2, y2))
    # The label goes in the gap just before the target's column, where no box stands, at the
    # point of the curve there (x grows with t along this curve: bisect for it).
    label_x = max(x1 + (x2 - x1) / 2, x2 - COLUMN_GAP / 2) if x2 > x1 else (x1 + x2) / 2
    low, high = 0.0, 1.0
    for _ in range(30):
        middle = (low + high) / 2
        if _bezier(points, middle)[0] < label_x:
            low = middle
        else:
            high = middle
    label_x, label_y = _bezier(points, (low + high) / 2)
    return EdgePath(source.step, target.step, points, label_x, label_y)


def _bezier(points: tuple[tuple[float, float], ...], t: float) -> tuple[float, float]:
    """The point at ``t`` of the cubic Bezier curve of ``points``."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points
    a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t**2, t**3
    return a * x0 + b * x1 + c * x2 + d * x3, a * y0 + b * y1 + c * y2 + d * y3
