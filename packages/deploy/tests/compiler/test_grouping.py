"""``jobs.<job>.grouping``: nodes grouped into steps, and what stays inside a step."""

from __future__ import annotations

import shlex

import pytest
from kedro.pipeline import Pipeline, node, pipeline

from kedro_azureml_deploy.compiler.plan import plan_of
from kedro_azureml_deploy.config import parse_config
from kedro_azureml_deploy.errors import CompileError, ConfigError
from kedro_azureml_runtime.distributed import Framework, distributed_job

from .conftest import BASE_CONFIG, catalog_of, chain_pipeline, identity

STRATEGIES = ["none", "chains", "namespaces", "tags"]


def fan_out_with_chains() -> Pipeline:
    """``load`` -> ``clean`` (a chain), then a fan-out to two 2-node chains, joined by ``report``.

    The ``features`` namespace holds ``features.left_*``; the ``step.right`` tag the right side."""
    features = pipeline(
        [
            node(identity, "clean", "left_a", name="left_a"),
            node(identity, "left_a", "left_b", name="left_b"),
        ],
        namespace="features",
        inputs={"clean"},
    )
    return Pipeline(
        [
            node(identity, "params:seed", "raw", name="load"),
            node(identity, "raw", "clean", name="clean"),
            features,
            node(identity, "clean", "right_a", name="right_a", tags=["step.right"]),
            node(identity, "right_a", "right_b", name="right_b", tags=["step.right"]),
            node(identity, ["features.left_b", "right_b"], "report", name="report"),
        ]
    )


def steps(compiled) -> list[tuple[str, tuple[str, ...]]]:
    return [(step.name, step.nodes) for step in compiled.steps]


def test_none_keeps_one_step_per_node_named_after_it(compile_pipeline):
    compiled = compile_pipeline(fan_out_with_chains())

    assert [names for _, names in steps(compiled)] == [
        (n.name,) for n in fan_out_with_chains().nodes
    ]
    assert compiled.grouping == "none"


def test_chains_fuse_maximal_linear_chains_and_keep_the_fan_out(compile_pipeline):
    compiled = compile_pipeline(fan_out_with_chains(), job={"grouping": "chains"})

    assert steps(compiled) == [
        ("load__clean", ("load", "clean")),
        ("features_left_a__features_left_b", ("features.left_a", "features.left_b")),
        ("right_a__right_b", ("right_a", "right_b")),
        ("report", ("report",)),
    ]
    plan = plan_of(compiled)
    ungrouped = plan_of(compile_pipeline(fan_out_with_chains()))
    assert plan.totals()["critical_path_steps"] == 3 < ungrouped.totals()["critical_path_steps"]
    assert plan.steps[1].upstream == plan.steps[2].upstream == ("load__clean",)
    assert compiled.spec["jobs"]["load__clean"]["display_name"] == "load..clean"


def test_a_step_runs_its_nodes_in_topological_order_and_mounts_only_what_crosses(
    compile_pipeline,
):
    compiled = compile_pipeline(fan_out_with_chains(), job={"grouping": "chains"})

    command = shlex.split(compiled.spec["jobs"]["load__clean"]["command"])
    nodes = [command[i + 1] for i, word in enumerate(command) if word == "--node"]
    outputs = [command[i + 1] for i, word in enumerate(command) if word == "--az-output"]
    assert nodes == ["load", "clean"]
    assert outputs == ["clean"]  # raw stays in memory, inside the step
    assert "raw" not in {c.dataset for c in compiled.crossings}


def test_a_memory_dataset_inside_a_step_is_fine_and_one_crossing_steps_still_an_error(
    compile_pipeline,
):
    catalog = catalog_of({"raw": {"type": "MemoryDataset"}, "clean": {"type": "MemoryDataset"}})

    with pytest.raises(CompileError) as error:
        compile_pipeline(fan_out_with_chains(), catalog, job={"grouping": "chains"})

    message = str(error.value)
    assert "1 dataset(s) cannot cross" in message
    assert "clean (from clean to features.left_a, right_a)" in message
    assert "raw" not in message


def test_namespaces_group_each_top_level_namespace(compile_pipeline):
    compiled = compile_pipeline(fan_out_with_chains(), job={"grouping": "namespaces"})

    assert ("features", ("features.left_a", "features.left_b")) in steps(compiled)
    assert len(compiled.steps) == 6
    assert compiled.spec["jobs"]["features"]["display_name"] == "features"


def test_tags_group_nodes_by_step_tag_and_ungrouped_nodes_can_follow_chains(compile_pipeline):
    alone = compile_pipeline(fan_out_with_chains(), job={"grouping": "tags"})
    chained = compile_pipeline(
        fan_out_with_chains(), job={"grouping": {"by": "tags", "ungrouped": "chains"}}
    )

    assert ("right", ("right_a", "right_b")) in steps(alone)
    assert len(alone.steps) == 6
    assert steps(chained) == [
        ("load__clean", ("load", "clean")),
        ("features_left_a__features_left_b", ("features.left_a", "features.left_b")),
        ("right", ("right_a", "right_b")),
        ("report", ("report",)),
    ]
    assert chained.grouping == plan_of(chained).grouping == "tags+chains"


def test_a_group_that_is_not_convex_is_an_error_naming_its_nodes_and_the_path(
    compile_pipeline,
):
    looping = Pipeline(
        [
            node(identity, "params:seed", "a", name="first", tags=["step.model"]),
            node(identity, "a", "b", name="outside"),
            node(identity, "b", "c", name="last", tags=["step.model"]),
        ]
    )

    with pytest.raises(CompileError) as error:
        compile_pipeline(looping, job={"grouping": "tags"})

    message = str(error.value)
    assert "step tag step.model (nodes first, last) is not convex" in message
    assert "the path first -> outside -> last leaves it and comes back" in message


def test_nodes_routed_to_different_computes_never_share_a_step(compile_pipeline):
    split = Pipeline(
        [
            node(identity, "params:seed", "a", name="prepare", tags=["step.train"]),
            node(identity, "a", "b", name="fit", tags=["step.train", "gpu"]),
            node(identity, "b", "c", name="score"),
            node(identity, "c", "d", name="publish", tags=["gpu"]),
        ]
    )

    with pytest.raises(CompileError, match=r"on compute '__default__' and node 'fit' on compute"):
        compile_pipeline(split, job={"grouping": "tags"})
    chained = compile_pipeline(split, job={"grouping": "chains"})
    assert [names for _, names in steps(chained)] == [
        ("prepare",),
        ("fit",),
        ("score",),
        ("publish",),
    ]


def test_a_distributed_node_runs_alone_in_its_step(compile_pipeline):
    @distributed_job(Framework.PyTorch, num_nodes=2)
    def train(x):
        return x

    nodes = Pipeline(
        [
            node(identity, "params:seed", "a", name="prepare", namespace="model"),
            node(train, "a", "b", name="train", namespace="model"),
            node(identity, "b", "c", name="evaluate", namespace="other"),
        ]
    )

    chained = compile_pipeline(nodes, job={"grouping": "chains"})
    assert [names for _, names in steps(chained)] == [
        ("model.prepare",),
        ("model.train",),
        ("other.evaluate",),
    ]
    assert chained.spec["jobs"]["model_train"]["resources"] == {"instance_count": 2}
    by_namespace = compile_pipeline(nodes, job={"grouping": "namespaces"})
    assert [names for _, names in steps(by_namespace)] == [
        ("model.prepare",),
        ("model.train",),
        ("other.evaluate",),
    ]


def test_a_node_with_two_step_tags_is_an_error(compile_pipeline):
    twice = Pipeline([node(identity, "params:seed", "a", name="n", tags=["step.x", "step.y"])])

    with pytest.raises(CompileError, match=r"node 'n' has several step tags \(step.x, step.y\)"):
        compile_pipeline(twice, job={"grouping": "tags"})


def test_step_names_stay_unique_and_within_azure_ml_rules(compile_pipeline):
    clashing = Pipeline(
        [
            node(identity, "params:seed", "a", name="Model", tags=["step.model"]),
            node(identity, "a", "b", name="model", namespace=None),
            node(identity, "b", "c", name="more", tags=["step.model"]),
        ]
    )
    separate = Pipeline(
        [
            node(identity, "params:seed", "a", name="x", tags=["step.model"]),
            node(identity, "params:seed", "b", name="model"),
        ]
    )

    with pytest.raises(CompileError, match="not convex"):
        compile_pipeline(clashing, job={"grouping": "tags"})
    names = [name for name, _ in steps(compile_pipeline(separate, job={"grouping": "tags"}))]
    assert names == ["model", "model_2"]


def test_chains_of_a_long_chain_make_one_step(compile_pipeline):
    compiled = compile_pipeline(chain_pipeline(50), job={"grouping": "chains"})

    assert steps(compiled) == [("node_0__node_49", tuple(f"node_{i}" for i in range(50)))]


@pytest.mark.parametrize(
    ("grouping", "message"),
    [
        ("pairs", "grouping"),
        ({"by": "chains", "ungrouped": "chains"}, "applies to `by: namespaces` or `by: tags`"),
        ({"by": "tags", "prefix": "x"}, "prefix"),
    ],
)
def test_grouping_is_validated_like_every_key(grouping, message):
    data = {**BASE_CONFIG, "jobs": {"train": {"grouping": grouping}}}

    with pytest.raises(ConfigError, match=message):
        parse_config(data)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_keeps_every_node_once_in_topological_order(compile_pipeline, strategy):
    compiled = compile_pipeline(fan_out_with_chains(), job={"grouping": strategy})

    ran = [name for step in compiled.steps for name in step.nodes]
    assert sorted(ran) == sorted(n.name for n in fan_out_with_chains().nodes)
    done: set[str] = set()
    for step in compiled.steps:
        assert set(step.depends_on) <= done
        done.add(step.name)
