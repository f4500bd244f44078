"""``--params`` and ``--load-versions`` parsing, shared by ``execute`` and the deploy commands.

The ``key=value`` form must give a node exactly what ``kedro run --params`` gives it, so the
comparison below runs both commands in the same real project.
"""

from __future__ import annotations

import math
import pickle

import pytest

from kedro_azureml_runtime.errors import ParamsError
from kedro_azureml_runtime.params import (
    parameter_input_value,
    parse_load_versions,
    parse_params,
    runtime_parameters,
)
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


def test_parameter_inputs_reach_the_node_as_kedro_run_params_gives_them(make_project, tmp_path):
    project = record_project(make_project)

    by_kedro = parameters_seen_by_the_node(
        project, tmp_path, "run", "--params", "model.depth=4,rate=0.5,flag=true,label=a b é"
    )
    by_execute = parameters_seen_by_the_node(
        project, tmp_path, "azureml", "execute", "--node", "record",
        "--param-input", "params:model.depth", "integer", "4",
        "--param-input", "params:rate", "number", "0.5",
        "--param-input", "params:flag", "boolean", "True",
        "--param-input", "params:label", "string", "a b é",
    )  # fmt: skip

    assert by_execute == by_kedro
    assert by_execute["model"] == {"depth": 4, "kind": "tree"}


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("integer", "3", 3),
        ("number", "0.5", 0.5),
        ("number", "2", 2),
        ("number", "1e-05", 1e-05),
        ("boolean", "True", True),
        ("boolean", "false", False),
        ("string", ' it\'s "x" é ', ' it\'s "x" é '),
        ("string", "0.5", "0.5"),
        ("json", '{"a": [1, 2], "b": null}', {"a": [1, 2], "b": None}),
        ("json", "[1, 2]", [1, 2]),
    ],
)
def test_parameter_input_values_get_their_type_back(kind, text, expected):
    value = parameter_input_value("params:x", kind, text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("kind", "text"), [("integer", "0.5"), ("boolean", "yes"), ("number", "x"), ("json", "{")]
)
def test_a_value_that_is_not_of_its_type_is_one_clear_error(kind, text):
    with pytest.raises(ParamsError, match=f"--param-input params:x: .* is not a {kind} value"):
        parameter_input_value("params:x", kind, text)


def test_parameter_inputs_override_params_narrower_names_last():
    params = runtime_parameters(
        {"seed": 1, "other": {"keep": True}},
        [
            ("params:model.depth", "integer", "4"),
            ("params:model", "json", '{"depth": 2, "kind": "tree"}'),
            ("parameters", "json", '{"seed": 5, "model": {"depth": 1}}'),
        ],
    )

    assert params == {"seed": 5, "other": {"keep": True}, "model": {"depth": 4, "kind": "tree"}}
