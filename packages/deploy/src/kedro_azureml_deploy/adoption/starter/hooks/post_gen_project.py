"""The post-generation hook of the ``azureml`` Kedro starter: it renders the kedro-azureml copier
template, with the answers ``kedro new`` collected, into the folder cookiecutter just made.

The starter is a shim: cookiecutter makes an empty project folder holding only its context (the
answers), and this hook hands over to copier, so that the project is the one ``copier copy`` makes
with the same answers, ``.copier-answers.yml`` included, and ``copier update`` keeps it current.

cookiecutter runs this file as a script, in the new project's folder, with the Python that runs
``kedro new``. The template and its release are chosen as ``kedro azureml init`` chooses them:

- ``kedro new --starter azureml`` (the starter shipped in kedro-azureml-deploy): the template of
  ``$KEDRO_AZUREML_TEMPLATE``, else the released one, at the tag of the installed
  kedro-azureml-deploy (``--checkout`` chooses another release);
- ``kedro new --starter <repository> --directory <this folder> --checkout <ref>``: the template
  of that repository at that ref (its latest release without ``--checkout``).

The ``template_source`` and ``template_ref`` answers of a ``--config`` file override both. Without
kedro-azureml-deploy installed, copier runs through ``uvx`` (the project needs uv anyway).

cookiecutter renders this file with Jinja before it runs it: it must hold no Jinja markup.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: The exit status once the error is printed: ``kedro_azureml_deploy.adoption.starters`` keeps
#: cookiecutter from logging a traceback after it (same value as its ``REPORTED_EXIT_STATUS``).
REPORTED_EXIT_STATUS = 3
#: The file cookiecutter renders the starter's context into, as JSON (see the folder next to hooks/).
CONTEXT_FILE = ".kedro-azureml-starter.json"
#: The answers of the starter that are the template's, by the question of the template they
#: answer. Kedro keeps ``example_pipeline`` for its own template (it always passes ``False``),
#: so the starter asks ``example`` instead.
TEMPLATE_QUESTIONS = {
    "project_name": "project_name",
    "package_name": "package_name",
    "python_version": "python_version",
    "execution_mode": "execution_mode",
    "azure_subscription_id": "azure_subscription_id",
    "azure_resource_group": "azure_resource_group",
    "azure_workspace": "azure_workspace",
    "azure_compute_cluster": "azure_compute_cluster",
    "container_registry": "container_registry",
    "image_name": "image_name",
    "example": "example_pipeline",
    "use_mlflow": "use_mlflow",
    "use_key_vault": "use_key_vault",
    "ci_provider": "ci_provider",
    "kedro_init_version": "kedro_init_version",
    "dependencies_from": "dependencies_from",
    "kedro_azureml_source": "kedro_azureml_source",
    "kedro_azureml_specifier": "kedro_azureml_specifier",
}
BOOLEAN_QUESTIONS = frozenset({"example_pipeline", "use_mlflow", "use_key_vault"})
YES, NO = frozenset({"y", "yes", "true", "on", "1"}), frozenset({"n", "no", "false", "off", "0"})
#: How a ``kedro new --config`` file chooses the template and its release.
TEMPLATE_KEY, REF_KEY = "template_source", "template_ref"  # cookiecutter keeps `template`


class StarterError(Exception):
    """An answer, or the template, the starter cannot render; the message says what to do."""


def template_answers(context: Mapping[str, Any]) -> dict[str, Any]:
    """The copier answers in the starter's ``context``; an empty answer is the template's
    default."""
    answers: dict[str, Any] = {}
    for key, question in TEMPLATE_QUESTIONS.items():
        value = context.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if question in BOOLEAN_QUESTIONS:
            answers[question] = _yes_or_no(key, value)
        else:
            answers[question] = value.strip() if isinstance(value, str) else str(value)
    return answers


def _yes_or_no(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in YES | NO:
        return word in YES
    raise StarterError(f"`{key}` is yes or no, not {value!r}: answer yes or no.")


def chosen_template(context: Mapping[str, Any]) -> tuple[str, str | None]:
    """The template to render and its release (``None``: its latest), for the starter shipped in
    kedro-azureml-deploy or one taken from a repository."""
    template = str(context.get(TEMPLATE_KEY) or "").strip()
    ref = str(context.get(REF_KEY) or "").strip() or None
    starter, starter_dir = str(context["_template"]), str(context["_repo_dir"])
    checkout = str(context.get("_checkout") or "").strip() or None
    shipped = Path(starter).is_dir() and Path(starter).resolve() == Path(starter_dir).resolve()
    if shipped:
        from kedro import __version__ as kedro_version

        from kedro_azureml_deploy.adoption.template import default_template_ref, template_source

        # Kedro checks a starter alias out at its own version unless told otherwise: that is no
        # release of this template, so only a --checkout of the user's chooses one.
        if checkout == kedro_version:
            checkout = None
        return template or template_source(), ref or checkout or default_template_ref()
    # copier reads the URL as cookiecutter does (``git+`` and all), and records it as given
    return template or starter, ref or checkout


def render(template: str, ref: str | None, target: Path, answers: Mapping[str, Any]) -> str:
    """Render ``template`` at ``ref`` into ``target`` as ``kedro azureml init`` does; the release
    rendered."""
    try:
        from kedro_azureml_deploy.adoption.template import RefusedAnswer, render_template
        from kedro_azureml_deploy.errors import AdoptionError
    except ImportError:
        return render_with_uvx(template, ref, target, answers)
    options = {
        "template_option": f"`{TEMPLATE_KEY}` in the --config file (or $KEDRO_AZUREML_TEMPLATE)",
        "ref_option": f"--checkout (or `{REF_KEY}` in the --config file)",
    }
    try:
        return render_template(template, ref, target, answers, **options)
    except RefusedAnswer as refused:
        raise StarterError(
            f"the answer to `{refused.question}` is refused: {refused.reason}"
        ) from None
    except AdoptionError as error:
        raise StarterError(str(error)) from None


def render_with_uvx(
    template: str, ref: str | None, target: Path, answers: Mapping[str, Any]
) -> str:
    """Render with the copier command line through ``uvx``, for a Kedro without
    kedro-azureml-deploy (the git route)."""
    uvx = shutil.which("uvx")
    if uvx is None:
        raise StarterError(
            "rendering the kedro-azureml template needs copier: install kedro-azureml-deploy "
            "(then `kedro new --starter azureml`) or uv (https://docs.astral.sh/uv/), and run "
            "kedro new again."
        )
    with tempfile.TemporaryDirectory() as scratch:
        data_file = Path(scratch) / "answers.json"
        data_file.write_text(json.dumps(dict(answers)), encoding="utf-8")
        command = [uvx, "--from", "copier>=9.19", "copier", "copy", "--quiet", "--defaults"]
        command += ["--overwrite", "--data-file", str(data_file)]
        command += ["--vcs-ref", ref] if ref else []
        result = subprocess.run(
            [*command, template, str(target)], capture_output=True, text=True, check=False
        )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["(no output)"]
        raise StarterError(f"copier could not render {template}: {lines[-1]}")
    return ref or "its latest release"


def main() -> int:
    """Render the template into the current folder (the new project); the exit status."""
    target = Path.cwd()
    context_file = target / CONTEXT_FILE
    context = json.loads(context_file.read_text(encoding="utf-8"))
    context_file.unlink()
    try:
        template, ref = chosen_template(context)
        rendered = render(template, ref, target, template_answers(context))
    except StarterError as error:
        sys.stderr.write(f"Error: {error}\n")
        return REPORTED_EXIT_STATUS
    sys.stdout.write(f"Rendered the kedro-azureml template {template} at {rendered}.\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
