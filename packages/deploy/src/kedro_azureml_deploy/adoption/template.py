"""The kedro-azureml copier template: where it is released, and rendering it with given answers."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

from kedro_azureml_deploy.errors import AdoptionError

#: Where the template is released; ``--template`` (or ``$KEDRO_AZUREML_TEMPLATE``) chooses another
#: source (a fork, a mirror, a local checkout).
TEMPLATE_SOURCE = "https://github.com/kedro-azureml/kedro-azureml.git"
#: The environment variable that replaces ``TEMPLATE_SOURCE``, for ``kedro azureml init`` and the
#: ``azureml`` Kedro starter alike.
TEMPLATE_ENV = "KEDRO_AZUREML_TEMPLATE"


def template_source() -> str:
    """The template to render when none is given: ``$KEDRO_AZUREML_TEMPLATE``, else the released
    one."""
    return os.environ.get(TEMPLATE_ENV, "").strip() or TEMPLATE_SOURCE


def default_template_ref() -> str:
    """The template release matching the installed kedro-azureml-deploy (``v0.1.0``)."""
    return f"v{version('kedro-azureml-deploy')}"


class RefusedAnswer(Exception):
    """The template's validators refused the answer to ``question``, for ``reason``."""

    def __init__(self, question: str, reason: str) -> None:
        super().__init__(reason)
        self.question, self.reason = question, reason


def render_template(
    template: str,
    ref: str | None,
    target: Path,
    answers: Mapping[str, Any],
    *,
    template_option: str = "--template",
    ref_option: str = "--template-ref",
) -> str:
    """Render ``template`` at ``ref`` into ``target``; the release rendered (its commit).

    ``template_option`` and ``ref_option`` are how the user chooses another template or release,
    as the error messages name them (``kedro azureml init``'s options by default).

    Raises:
        AdoptionError: the template cannot be fetched, has no such release, cannot adopt a
            project, or is not a git repository.
        RefusedAnswer: the template's validators refused one of ``answers``.
    """
    import copier
    from plumbum import ProcessExecutionError

    try:
        worker = copier.run_copy(
            template,
            target,
            data=dict(answers),
            vcs_ref=ref,
            defaults=True,
            quiet=True,
            overwrite=True,
        )
    except ProcessExecutionError as exc:
        stderr = (exc.stderr or "").strip().splitlines()
        fatal = [line for line in stderr if line.startswith(("fatal:", "ERROR:"))]
        detail = (fatal or stderr or str(exc).splitlines())[0].rstrip(".")
        raise AdoptionError(
            f"could not fetch the kedro-azureml template from {template}: {detail}. Pass "
            f"{template_option} with a reachable git URL or a local clone of kedro-azureml."
        ) from None
    except ValueError as exc:
        message = str(exc)
        if message.startswith("Unknown revision"):
            raise AdoptionError(
                f"the template at {template} has no release {ref!r}. Pass {ref_option} with one "
                "of its tags, a branch or a commit (HEAD: its latest commit)."
            ) from None
        if message.startswith("Local template must be a directory"):
            raise AdoptionError(
                f"the template {template} does not exist: pass {template_option} with a git URL or the "
                "path of a local clone of kedro-azureml."
            ) from None
        refused = re.match(
            r"(?:Validation error|Invalid choice) for (?:question )?'(\w+)'", message
        )
        if refused:
            raise RefusedAnswer(refused[1], message) from None
        raise AdoptionError(f"the template cannot be rendered: {message}") from None
    if "adopt" not in worker.template.questions_data:
        release = ref or "its latest release"
        raise AdoptionError(
            f"the template {template} at {release} cannot adopt a project "
            "(it has no `adopt` question: a release older than `kedro azureml init`, or another "
            f"template). Pass {ref_option} with a newer release of kedro-azureml."
        )
    commit = worker.answers.combined.get("_commit")
    if not commit:
        raise AdoptionError(
            f"the template {template} is not a git repository: copier update could not bring "
            f"its later releases into the project. Pass {template_option} with the git URL or a git "
            "clone of kedro-azureml."
        )
    return str(commit)
