"""Every broken azureml.yml of ``broken/`` fails to load with one clear line per problem.

Each case file starts with ``# expect: <part of the message>`` and may add ``# path: <key path>``.
The case is written, without those lines, to ``conf/base/azureml.yml`` of a real Kedro config
folder and loaded through Kedro's ``OmegaConfigLoader``, as ``kedro azureml compile`` would.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kedro_azureml_deploy.errors import ConfigError

BROKEN = Path(__file__).parent / "broken"
CASES = sorted(BROKEN.glob("*.yml"))
HEADER_KEYS = ("# expect:", "# path:")

pytestmark = pytest.mark.filterwarnings("ignore:register_new_resolver:UserWarning")


def _header(case: Path) -> tuple[dict[str, str], str]:
    """The case's ``# expect:``/``# path:`` values, and the YAML after them."""
    lines = case.read_text().splitlines(keepends=True)
    header = {}
    while lines and lines[0].startswith(HEADER_KEYS):
        key, _, value = lines.pop(0).partition(":")
        header[key.removeprefix("# ")] = value.strip()
    return header, "".join(lines)


def test_the_corpus_covers_at_least_25_cases():
    assert len(CASES) >= 25
    assert all("expect" in _header(case)[0] for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_broken_config_fails_with_one_clear_line_per_problem(case, conf, load):
    header, text = _header(case)
    (conf / "base" / "azureml.yml").write_text(text)

    with pytest.raises(ConfigError) as raised:
        load()

    message = str(raised.value)
    assert header["expect"] in message
    if "path" in header:
        assert f": {header['path']}: " in message
    for line in message.splitlines():
        assert line.startswith("conf/base/azureml.yml: "), line
    assert str(conf) not in message
    assert "Traceback" not in message
    assert "pydantic" not in message
    assert "For further information" not in message


def test_missing_azureml_yml_says_how_to_create_one(conf, load):
    with pytest.raises(ConfigError) as raised:
        load()

    assert str(raised.value) == (
        "no azureml.yml found in conf/base or conf/local: create conf/base/azureml.yml "
        "(`kedro azureml schema` gives its JSON Schema; the project template renders a "
        "complete one)"
    )
