"""``--params`` parsing, shared by ``execute`` and the compiler."""

from __future__ import annotations

import pytest

from kedro_azureml_runtime.errors import ParamsError
from kedro_azureml_runtime.params import parse_params


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("  ", {}),
        ('{"lr": 0.1, "model": {"depth": 3}}', {"lr": 0.1, "model": {"depth": 3}}),
        ("lr=0.1", {"lr": 0.1}),
        ("epochs=3,name=resnet", {"epochs": 3, "name": "resnet"}),
        ("model.depth=3,model.kind=tree", {"model": {"depth": 3, "kind": "tree"}}),
        ("url=a=b", {"url": "a=b"}),
        ("empty=", {"empty": ""}),
    ],
)
def test_parse_params(text, expected):
    assert parse_params(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("lr", "is not key=value"),
        ("=1", "is not key=value"),
        ("a..b=1", "is not key=value"),
        ('{"lr": }', "is not valid JSON"),
        ("a=1,a.b=2", "both to a value and to nested keys"),
    ],
)
def test_malformed_params_say_how_to_write_them(text, message):
    with pytest.raises(ParamsError, match=message):
        parse_params(text)


def test_json_must_be_an_object():
    with pytest.raises(ParamsError, match="must be an object"):
        parse_params("[1, 2]")


def test_parse_load_versions():
    from kedro_azureml_runtime.params import parse_load_versions

    assert parse_load_versions("") == {}
    assert parse_load_versions("a:2026-01-01T00.00.00.000Z, b:v2") == {
        "a": "2026-01-01T00.00.00.000Z",
        "b": "v2",
    }
    with pytest.raises(ParamsError, match="is not dataset_name:version"):
        parse_load_versions("a")
