"""Azure ML names for Kedro names."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from kedro_azureml_deploy.compiler.naming import sanitize, unique_names

AZURE_NODE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


def test_sanitize_maps_kedro_names_to_azure_node_names():
    assert sanitize("preprocess_companies_node") == "preprocess_companies_node"
    assert sanitize("data_processing.Preprocess Shuttles") == "data_processing_preprocess_shuttles"
    assert sanitize("2nd-step") == "_2nd_step"
    assert sanitize("---") == "x"


def test_names_that_collide_get_distinct_suffixes_in_order():
    names = unique_names(["a.b", "a_b", "A-B", "a_b_2"])
    assert names == {"a.b": "a_b", "a_b": "a_b_3", "A-B": "a_b_4", "a_b_2": "a_b_2"}


@given(st.lists(st.text(min_size=1, max_size=30), unique=True, max_size=40))
def test_unique_names_are_valid_and_distinct_for_any_kedro_names(names):
    mapped = unique_names(names)
    assert list(mapped) == names
    assert len(set(mapped.values())) == len(names)
    assert all(AZURE_NODE_NAME.match(value) for value in mapped.values())
