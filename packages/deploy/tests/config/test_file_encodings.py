"""An azureml.yml that is not UTF-8 is one clear line naming the file, the line and the fix."""

from __future__ import annotations

import pytest

from kedro_azureml_deploy.errors import ConfigError

VALID = """\
workspace:
  __default__: {subscription_id: 00000000-0000-0000-0000-000000000000, resource_group: rg, name: ws}
compute:
  __default__: {cluster_name: cpu-cluster}
environment:
  __default__: {name: kedro-env@latest}
# caf\u00e9
jobs:
  default: {}
"""

pytestmark = pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning")


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16", "conf/base/azureml.yml: line 1: the file is UTF-16"),
        ("latin-1", "conf/base/azureml.yml: line 7: the file is not UTF-8 (byte 0xe9)"),
    ],
)
def test_a_file_in_another_encoding_says_to_save_it_as_utf8(conf, load, encoding, expected):
    (conf / "base" / "azureml.yml").write_bytes(VALID.encode(encoding))

    with pytest.raises(ConfigError) as raised:
        load()

    message = str(raised.value)
    assert message.startswith(expected), message
    assert "save it as UTF-8" in message and len(message.splitlines()) == 1


def test_the_same_file_in_utf8_loads(conf, load):
    (conf / "base" / "azureml.yml").write_bytes(VALID.encode("utf-8"))

    assert list(load().jobs) == ["default"]
