"""Fixtures of the template tests: the template of this checkout, and projects rendered from it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The tests import their helpers from template_testing.py, next to this file.
sys.path.insert(0, str(Path(__file__).parent))

from template_testing import SCENARIOS, RenderedProject, snapshot_template

from azure_fake import key_vault_fixtures, tls

# The loopback Key Vault and identity endpoint a built project's step reads a secret from.
tls_certificate = tls.tls_certificate
trust_fake = tls.trust_fake
key_vault = key_vault_fixtures.key_vault
vault = key_vault_fixtures.vault
step_env = key_vault_fixtures.step_env


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template files of this checkout, committed in a scratch repository tagged as the
    current release."""
    return snapshot_template(tmp_path_factory.mktemp("template") / "kedro-azureml")


@pytest.fixture(scope="session")
def render_scenario(copie_session, template_repo: Path) -> Callable[[str], RenderedProject]:
    """Render a scenario of ``SCENARIOS`` with pytest-copie, once per session; projects rendered
    here are shared between tests, which must not change them."""
    cache: dict[str, RenderedProject] = {}

    def render(name: str) -> RenderedProject:
        if name not in cache:
            result = copie_session.copy(extra_answers=SCENARIOS[name], template_dir=template_repo)
            if result.exit_code != 0:
                raise AssertionError(f"rendering {name} failed: {result.exception!r}")
            cache[name] = RenderedProject(result.project_dir, result.answers)
        return cache[name]

    return render


@pytest.fixture
def render(copie, template_repo: Path) -> Callable[..., RenderedProject]:
    """Render the template with these answers (the defaults for the others) into a fresh folder."""

    def render(**answers: Any) -> RenderedProject:
        result = copie.copy(extra_answers=answers, template_dir=template_repo)
        if result.exit_code != 0:
            raise AssertionError(f"rendering {answers} failed: {result.exception!r}")
        return RenderedProject(result.project_dir, result.answers)

    return render
