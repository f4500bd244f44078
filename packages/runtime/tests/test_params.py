"""``--params`` and ``--load-versions`` parsing, shared by ``execute`` and the deploy commands.

The ``key=value`` form must give a node exactly what ``kedro run --params`` gives it, so the
comparison below runs both commands in the same real project.
"""

from __future__ import annotations

import math
import pickle

import pytest

from kedro_azureml_runtime.errors import ParamsError
from kedro_azureml_runtime.params import parse_load_versions, parse_params
from project_factory import NodeSpec

#: One value of each type ``kedro run --params`` distinguishes.
EVERY_TYPE = (
    "flag=false,on=true,nothing=null,count=3,rate=0.5,ratio=nan,name=resnet,"
    "model.depth=4,code='007',label=\"a b\""
)

RECORD_PARAMETERS = """

def record_parameters(parameters):
    import os
    import pickle
    from pathlib import Path

    Path(os.environ["PARAMETERS_RECORD"]).write_bytes(pickle.dumps(parameters))
"""


def record_project(make_project):
    return make_project(
        nodes=[NodeSpec("record", "record_parameters", ["parameters"], [])],
        parameters={"seed": 1, "model": {"depth": 1, "kind": "tree"}},
        extra_functions=RECORD_PARAMETERS,
    )


def parameters_seen_by_the_node(project, tmp_path, *args):
    record = tmp_path / "parameters.pkl"
    record.unlink(missing_ok=True)
    project.kedro(*args, env={"PARAMETERS_RECORD": str(record)}, check=True)
    return pickle.loads(record.read_bytes())


def test_key_values_reach_the_node_as_kedro_run_gives_them(make_project, tmp_path):
    project = record_project(make_project)

    by_kedro = parameters_seen_by_the_node(project, tmp_path, "run", "--params", EVERY_TYPE)
    by_execute = parameters_seen_by_the_node(
        project, tmp_path, "azureml", "execute", "--node", "record", "--params", EVERY_TYPE
    )

    assert by_execute == by_kedro
    assert by_kedro["flag"] is False and by_kedro["nothing"] is None
    assert by_kedro["model"] == {"depth": 4, "kind": "tree"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("  ", {}),
        ('{"lr": 0.1, "model": {"depth": 3}}', {"lr": 0.1, "model": {"depth": 3}}),
        ("lr=0.1", {"lr": 0.1}),
        ("epochs=3,name=resnet", {"epochs": 3, "name": "resnet"}),
        ("model.depth=3,model.kind=tree", {"model": {"depth": 3, "kind": "tree"}}),
        ("flag=false,on=true,off=False", {"flag": False, "on": True, "off": False}),
        ("nothing=null,empty=", {"nothing": None, "empty": None}),
        ("ratio=nan,big=1e3", {"ratio": "nan", "big": 1000.0}),
        ("code='007',label=\"true\"", {"code": "007", "label": "true"}),
        ("url=a=b", {"url": "a=b"}),
    ],
)
def test_key_values_are_typed_as_kedro_types_them(text, expected):
    parsed = parse_params(text)
    assert parsed == expected
    assert [type(v) for v in parsed.values()] == [type(v) for v in expected.values()]


def test_a_float_keeps_its_type():
    assert not math.isnan(parse_params("rate=0.5")["rate"])
    assert type(parse_params("rate=1.0")["rate"]) is float


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr", "Item `lr` must contain a key and a value separated by `=`"),
        ("=1", "Parameter key cannot be an empty string"),
        ('{"lr": }', "is not valid JSON"),
        ("a=${b", "cannot be read by OmegaConf at 'a'"),
        ("a=${", "write such a value in a JSON object instead"),
    ],
)
def test_malformed_params_are_one_line_saying_how_to_write_them(text, message):
    with pytest.raises(ParamsError, match=message) as caught:
        parse_params(text)
    assert "\n" not in str(caught.value)
    assert "key=value" in str(caught.value) or "JSON" in str(caught.value)


def test_json_must_be_an_object():
    with pytest.raises(ParamsError, match="must be an object"):
        parse_params("[1, 2]")


def test_parse_load_versions():
    assert parse_load_versions("") == {}
    assert parse_load_versions("a:2026-01-01T00.00.00.000Z, b:v2") == {
        "a": "2026-01-01T00.00.00.000Z",
        "b": "v2",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a", "Expected the form of 'load_versions'"),
        # Kedro 1.3 on refuses these in its parser, the runtime itself under Kedro 1.0-1.2
        # (the lowest-versions run of scripts/test checks that end).
        ("a:../x", "Version string '../x' is not allowed"),
        ("a:..", "Version string '..' is not allowed"),
        (":v2", "is not dataset_name:version"),
    ],
)
def test_malformed_load_versions_are_refused(text, message):
    with pytest.raises(ParamsError, match=message) as caught:
        parse_load_versions(text)
    assert "\n" not in str(caught.value)
