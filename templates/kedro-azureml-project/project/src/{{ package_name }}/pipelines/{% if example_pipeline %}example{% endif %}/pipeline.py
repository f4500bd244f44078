"""The example pipeline: make points, split them, fit a line, evaluate it."""

from kedro.pipeline import Node, Pipeline

from .nodes import evaluate_line, fit_line, make_points, split_points


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                make_points,
                inputs={
                    "n_points": "params:example.n_points",
                    "slope": "params:example.slope",
                    "intercept": "params:example.intercept",
                    "noise": "params:example.noise",
                    "seed": "params:example.seed",
                },
                outputs="points",
                name="make_points",
            ),
            Node(
                split_points,
                inputs=["points", "params:example.test_fraction"],
                outputs=["train_points", "test_points"],
                name="split_points",
            ),
            Node(fit_line, inputs="train_points", outputs="line", name="fit_line"),
            Node(
                evaluate_line,
                inputs=["line", "test_points"],
                outputs="metrics",
                name="evaluate_line",
            ),
        ]
    )
