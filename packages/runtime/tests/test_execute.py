"""``kedro azureml execute`` in real Kedro projects: hooks, mounts, params and bad input."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import pytest

from project_factory import (
    KedroProject,
    NodeSpec,
    chain,
    pipeline_dataset,
    read_hook_log,
    recording_hooks_settings,
)

REQUIRED_HOOKS = {
    "after_context_created",
    "after_catalog_created",
    "before_pipeline_run",
    "before_node_run",
    "before_dataset_loaded",
    "after_dataset_loaded",
    "before_dataset_saved",
    "after_dataset_saved",
    "after_node_run",
    "after_pipeline_run",
}


def _hooked_project(make_project, tmp_path: Path, *, nodes, catalog) -> tuple[KedroProject, Path]:
    log = tmp_path / "hooks.jsonl"
    settings, hooks = recording_hooks_settings(str(log))
    project = make_project(
        nodes=nodes,
        catalog=catalog,
        settings=settings,
        extra_files={"src/demo_project/hooks.py": hooks},
    )
    return project, log


def _load(folder: Path):
    with (folder / "data.pickle").open("rb") as stream:
        return pickle.load(stream)


def test_execute_fires_the_same_hooks_in_the_same_order_as_kedro_run_nodes(
    make_project, tmp_path, mounts
):
    nodes, catalog = chain(3, dataset_type="pickle.PickleDataset")
    project, log = _hooked_project(make_project, tmp_path, nodes=nodes, catalog=catalog)

    project.kedro("run", "--nodes", "node_0", check=True)
    log.unlink()
    project.kedro("run", "--nodes", "node_1", check=True)
    kedro_run_calls = read_hook_log(log)
    log.unlink()

    shutil.rmtree(project.path / "data")
    project.execute("node_0", outputs={"d_0": mounts / "d0"}, check=True)
    log.unlink()
    project.execute(
        "node_1", inputs={"d_0": mounts / "d0"}, outputs={"d_1": mounts / "d1"}, check=True
    )
    execute_calls = read_hook_log(log)

    assert execute_calls == kedro_run_calls
    assert {call["hook"] for call in execute_calls} >= REQUIRED_HOOKS
    node_run = [c["hook"] for c in execute_calls if c["hook"].endswith("before_node_run")]
    assert node_run == ["tryfirst.before_node_run", "before_node_run", "trylast.before_node_run"]
    # The data really went through the mounts, not through the project's data/ folder.
    assert (mounts / "d1" / "d_1.pkl").is_file()
    assert not (project.path / "data").exists()


def test_failing_node_fires_error_hooks_and_exits_non_zero(make_project, tmp_path, mounts):
    nodes = [NodeSpec("boom", "fail", ["params:seed"], ["out"])]
    project, log = _hooked_project(make_project, tmp_path, nodes=nodes, catalog={})

    result = project.execute("boom", outputs={"out": mounts / "o"})

    assert result.returncode == 1
    hooks = [call["hook"] for call in read_hook_log(log)]
    assert hooks.index("on_node_error") < hooks.index("on_pipeline_error")
    assert "after_pipeline_run" not in hooks
    assert "this node fails on purpose" in result.stderr
    assert not (mounts / "o" / "data.pickle").exists()


def test_undeclared_intermediates_cross_steps_as_pickles_in_their_mounts(make_project, mounts):
    nodes, _ = chain(3)
    project = make_project(nodes=nodes)

    project.execute("node_0", outputs={"d_0": mounts / "a"}, check=True)
    project.execute(
        "node_1", inputs={"d_0": mounts / "a"}, outputs={"d_1": mounts / "b"}, check=True
    )

    assert _load(mounts / "a") == 1
    assert _load(mounts / "b") == 2


def test_several_nodes_in_one_step_run_in_topological_order(make_project, tmp_path, mounts):
    nodes, _ = chain(3)
    project, log = _hooked_project(make_project, tmp_path, nodes=nodes, catalog={})
    project.execute("node_0", outputs={"d_0": mounts / "a"}, check=True)
    log.unlink()

    project.execute(
        "node_2", "node_1", inputs={"d_0": mounts / "a"}, outputs={"d_2": mounts / "c"}, check=True
    )

    ran = [call["node"] for call in read_hook_log(log) if call["hook"] == "before_node_run"]
    assert ran == ["node_1", "node_2"]
    assert _load(mounts / "c") == 3


def test_pipeline_dataset_is_read_and_written_under_its_mount(make_project, mounts):
    nodes, _ = chain(2)
    catalog = {"d_0": pipeline_dataset("nested/zero.pkl"), "d_1": pipeline_dataset("one.pkl")}
    project = make_project(nodes=nodes, catalog=catalog)

    project.execute("node_0", outputs={"d_0": mounts / "a"}, check=True)
    project.execute(
        "node_1", inputs={"d_0": mounts / "a"}, outputs={"d_1": mounts / "b"}, check=True
    )

    assert (mounts / "a" / "nested" / "zero.pkl").is_file()
    with (mounts / "b" / "one.pkl").open("rb") as stream:
        assert pickle.load(stream) == 2


@pytest.mark.parametrize("params", ['{"seed": 41}', "seed=41"])
def test_params_reach_the_node(make_project, mounts, params):
    project = make_project(nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])])

    project.execute("first", outputs={"out": mounts / "o"}, args=["--params", params], check=True)

    assert _load(mounts / "o") == 41


def test_env_defaults_to_kedro_env_variable(make_project, mounts):
    project = make_project(nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])])
    (project.path / "conf" / "staging").mkdir()
    (project.path / "conf" / "staging" / "parameters.yml").write_text("seed: 7\n")

    project.execute(
        "first", outputs={"out": mounts / "o"}, env={"KEDRO_ENV": "staging"}, check=True
    )

    assert _load(mounts / "o") == 7


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-n", "node_l"], "node 'node_l' is not in pipeline '__default__' (did you mean"),
        (["-n", "node_1", "-p", "nope"], "pipeline 'nope' is not registered"),
        (["-n", "node_1", "--az-input", "d_0", "{missing}"], "the mounted path"),
        (["-n", "node_1", "--az-input", "d_2", "{mnt}"], "do not read 'd_2'"),
        (["-n", "node_1", "--az-output", "d_0", "{out}"], "do not write 'd_0'"),
        (["-n", "node_1", "--params", "seed"], "must contain a key and a value separated by `=`"),
        (["-n", "node_1", "--params", '{"seed": }'], "--params is not valid JSON"),
        (["-n", "node_1", "--params", "[1]"], "--params JSON must be an object"),
    ],
)
def test_bad_input_is_one_line_without_traceback_and_writes_nothing(
    make_project, mounts, args, message
):
    nodes, _ = chain(3)
    project = make_project(nodes=nodes)
    (mounts / "in").mkdir()
    out = mounts / "out"
    places = {"{missing}": str(mounts / "missing"), "{mnt}": str(mounts / "in"), "{out}": str(out)}
    args = [places.get(arg, arg) for arg in args]

    result = project.execute(outputs={"d_1": out}, args=args)

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_declared_dataset_that_cannot_be_mounted_is_refused(make_project, mounts):
    nodes, _ = chain(2)
    catalog = {"d_0": {"type": "pickle.PickleDataset", "filepath": "data/d_0.pkl"}}
    project = make_project(nodes=nodes, catalog=catalog)

    result = project.execute("node_0", outputs={"d_0": mounts / "a"})

    assert result.returncode != 0
    assert (
        "'d_0' is a PickleDataset and cannot be read from or written to an Azure ML mount"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("filepath", ["../escaped.pkl", "../../escaped.pkl", "sub/../../x.pkl"])
def test_a_pipeline_dataset_whose_path_leaves_its_mount_is_refused_before_the_node_runs(
    make_project, mounts, filepath
):
    nodes, _ = chain(2)
    catalog = {
        "d_0": {
            "type": "kedro_azureml_runtime.datasets.AzureMLPipelineDataset",
            "dataset": {"type": "pickle.PickleDataset", "filepath": filepath},
        }
    }
    project = make_project(nodes=nodes, catalog=catalog)
    out = mounts / "step" / "outputs" / "d_0"

    result = project.execute("node_0", outputs={"d_0": out})

    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "leads outside the folder Azure ML mounted for it" in errors[0]
    assert "Traceback" not in result.stderr
    assert not list(mounts.rglob("*.pkl")), "the node ran and wrote outside its mount"
    assert not (mounts / "escaped.pkl").exists() and not (mounts / "step" / "escaped.pkl").exists()


def test_a_path_inside_the_mount_through_dotdot_is_accepted(make_project, mounts):
    nodes, _ = chain(2)
    catalog = {
        "d_0": {
            "type": "kedro_azureml_runtime.datasets.AzureMLPipelineDataset",
            "dataset": {"type": "pickle.PickleDataset", "filepath": "a/../d_0.pkl"},
        }
    }
    project = make_project(nodes=nodes, catalog=catalog)

    project.execute("node_0", outputs={"d_0": mounts / "o"}, check=True)

    assert (mounts / "o" / "d_0.pkl").is_file()


FLAKY = """

def flaky(seed):
    import pathlib

    marker = pathlib.Path("flaky.marker")
    if not marker.exists():
        marker.write_text("failed once")
        raise RuntimeError("first attempt fails")
    return seed
"""


@pytest.mark.parametrize(("retries", "code"), [("0", 1), ("1", 0)])
def test_retries_run_a_failing_node_again_inside_the_step(make_project, mounts, retries, code):
    project = make_project(
        nodes=[NodeSpec("shaky", "flaky", ["params:seed"], ["out"])], extra_functions=FLAKY
    )

    result = project.execute("shaky", outputs={"out": mounts / "o"}, args=["--retries", retries])

    assert result.returncode == code, result.stderr
    if code == 0:
        assert "Attempt 1 of 2 failed" in result.stderr + result.stdout
        assert _load(mounts / "o") == 1


def test_load_versions_pick_the_version_a_step_reads(make_project, mounts):
    catalog = {
        "model": {"type": "pickle.PickleDataset", "filepath": "data/model.pkl", "versioned": True}
    }
    project = make_project(nodes=[NodeSpec("use", "add_one", ["model"], ["out"])], catalog=catalog)
    for version, value in (("2026-01-01T00.00.00.000Z", 10), ("2026-02-01T00.00.00.000Z", 20)):
        folder = project.path / "data" / "model.pkl" / version
        folder.mkdir(parents=True)
        (folder / "model.pkl").write_bytes(pickle.dumps(value))

    latest = project.execute("use", outputs={"out": mounts / "a"})
    pinned = project.execute(
        "use",
        outputs={"out": mounts / "b"},
        args=["--load-versions", "model:2026-01-01T00.00.00.000Z"],
    )

    assert latest.returncode == 0 and pinned.returncode == 0, latest.stderr + pinned.stderr
    assert _load(mounts / "a") == 21
    assert _load(mounts / "b") == 11


def test_step_without_conf_local_runs_with_conf_base(make_project, mounts):
    project = make_project(nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])])
    shutil.rmtree(project.path / "conf" / "local")

    result = project.execute("first", outputs={"out": mounts / "o"}, env={"KEDRO_ENV": "local"})

    assert result.returncode == 0, result.stderr
    assert "running with conf/base only" in result.stdout + result.stderr
    assert not (project.path / "conf" / "local").exists()
    assert _load(mounts / "o") == 1


def test_step_with_a_missing_named_environment_says_how_to_fix_it(make_project, mounts):
    project = make_project(nodes=[NodeSpec("first", "identity", ["params:seed"], ["out"])])

    result = project.execute("first", outputs={"out": mounts / "o"}, args=["-e", "prod"])

    assert result.returncode != 0
    assert "Error: Kedro environment 'prod' has no folder conf/prod" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_step_selects_its_pipeline_with_the_keyword_the_installed_kedro_takes():
    # Kedro 1.2 added `pipeline_names` and deprecated `pipeline_name`, the only one of Kedro 1.0:
    # scripts/test runs this test with the lowest Kedro the runtime allows and with the locked one.
    import kedro
    from kedro.framework.session import KedroSession

    from kedro_azureml_runtime.execute import pipeline_selection

    major, minor = (int(part) for part in kedro.__version__.split(".")[:2])
    selection = pipeline_selection(KedroSession, "train")
    if (major, minor) >= (1, 2):
        assert selection == {"pipeline_names": ["train"]}
    else:
        assert selection == {"pipeline_name": "train"}
