"""Nodes of the example pipeline: plain functions, tested in tests/pipelines/example."""

from __future__ import annotations

import random
from statistics import fmean

Point = tuple[float, float]


def make_points(
    n_points: int, slope: float, intercept: float, noise: float, seed: int
) -> list[Point]:
    """`n_points` points `(x, slope * x + intercept + e)`, x in [0, 10) and `e` Gaussian
    noise of standard deviation `noise`: the same points for the same `seed`."""
    rng = random.Random(seed)
    points = []
    for _ in range(n_points):
        x = rng.uniform(0, 10)
        points.append((x, slope * x + intercept + rng.gauss(0, noise)))
    return points


def split_points(
    points: list[Point], test_fraction: float
) -> tuple[list[Point], list[Point]]:
    """The points to fit on, and the last `test_fraction` of them to test on."""
    n_test = round(len(points) * test_fraction)
    if not 0 < n_test < len(points):
        raise ValueError(
            f"test_fraction {test_fraction} leaves no points to fit or to test, out of "
            f"{len(points)}"
        )
    return points[:-n_test], points[-n_test:]


def fit_line(points: list[Point]) -> dict[str, float]:
    """The least-squares line through `points`: `{"slope": ..., "intercept": ...}`."""
    mean_x = fmean(x for x, _ in points)
    mean_y = fmean(y for _, y in points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        raise ValueError("every point has the same x: no line fits")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
    return {"slope": slope, "intercept": mean_y - slope * mean_x}


def evaluate_line(line: dict[str, float], points: list[Point]) -> dict[str, float]:
    """How well `line` predicts `points`: mean absolute error and R²."""
    errors = [y - (line["slope"] * x + line["intercept"]) for x, y in points]
    mean_y = fmean(y for _, y in points)
    total = sum((y - mean_y) ** 2 for _, y in points)
    return {
        "mean_absolute_error": fmean(abs(error) for error in errors),
        "r2": 1 - sum(error**2 for error in errors) / total if total else 1.0,
    }
