"""`kedro new --starter azureml`: Kedro's way to start a project, with the copier template behind it.

Every test runs the real `kedro new` in a subprocess. The starter's hook renders the template
snapshot of this checkout (``$KEDRO_AZUREML_TEMPLATE``, as `kedro azureml init` reads it), tagged
as the current release, so the project is compared byte for byte with the one `copier copy` makes
of the same snapshot with the same answers.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from template_testing import (
    RELEASE,
    REPO_ROOT,
    SCENARIOS,
    STARTER_DIRECTORY,
    RenderedProject,
    commit_all,
    current_python,
    git,
    project_env,
    run_copier,
    snapshot_template,
)

from kedro_azureml_deploy.adoption.starters import STARTER_DIR

HOOK = importlib.import_module("kedro_azureml_deploy.adoption.starter.hooks.post_gen_project")
PROMPTS = yaml.safe_load((STARTER_DIR / "prompts.yml").read_text())
DEFAULTS = json.loads((STARTER_DIR / "cookiecutter.json").read_text())
QUESTIONS = yaml.safe_load((REPO_ROOT / "templates/kedro-azureml-project/copier.yml").read_text())
#: Kedro writes this into a new project after cookiecutter, when asked to record a consent.
TELEMETRY = ".telemetry"


def starter_config(answers: Mapping[str, Any]) -> dict[str, Any]:
    """A `kedro new --config` file's content: every prompt of the starter (`kedro new` needs them
    all) at its default, then ``answers`` (copier's answers) by the starter's names."""
    key_of = {question: key for key, question in HOOK.TEMPLATE_QUESTIONS.items()}
    config: dict[str, Any] = {key: DEFAULTS[key] for key in PROMPTS}
    config.update({key_of.get(question, question): value for question, value in answers.items()})
    return config


def kedro_new(
    *args: str,
    cwd: Path,
    template: Path | None = None,
    python: str = sys.executable,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `kedro new ARGS` in ``cwd`` as a user would, the starter's template at ``template``."""
    config = cwd / ".cookiecutterrc"  # cookiecutter's clones go here, not into ~/.cookiecutters
    config.write_text(yaml.safe_dump({"cookiecutters_dir": str(cwd / ".cookiecutters")}))
    extra = {"COOKIECUTTER_CONFIG": str(config)}
    if template is not None:
        extra["KEDRO_AZUREML_TEMPLATE"] = str(template)
    return subprocess.run(
        [python, "-m", "kedro", "new", *args],
        cwd=cwd,
        env=project_env(extra),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def new_with_config(
    tmp_path: Path, answers: Mapping[str, Any], template: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(starter_config(answers), sort_keys=False))
    return kedro_new("--starter", "azureml", "--config", str(config), *args, cwd=tmp_path,
                     template=template)  # fmt: skip


def describe(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def created_project(folder: Path) -> Path:
    """The one project `kedro new` made in ``folder``."""
    (project,) = (path for path in folder.iterdir() if (path / ".copier-answers.yml").is_file())
    return project


def tree(folder: Path) -> dict[str, bytes]:
    project = RenderedProject(folder, {})
    return {name: (folder / name).read_bytes() for name in sorted(project.files())}


def test_kedro_starter_list_shows_the_azureml_starter(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "starter", "list"],
        cwd=tmp_path, env=project_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip

    assert result.returncode == 0, describe(result)
    listed = result.stdout.split("Starters from kedro_azureml_deploy", 1)[1]
    assert yaml.safe_load(listed) == {"azureml": {"template_path": str(STARTER_DIR)}}


#: The keys the starter asked in its first release: Kedro refuses a ``--config`` file lacking an
#: asked key, so asking one more would break every config file users have written.
FIRST_RELEASE_PROMPTS = {
    "project_name", "python_version", "execution_mode", "azure_subscription_id",
    "azure_resource_group", "azure_workspace", "azure_compute_cluster", "example", "use_mlflow",
    "ci_provider",
}  # fmt: skip


def test_a_config_file_of_the_first_release_still_answers_every_asked_key():
    assert set(PROMPTS) <= FIRST_RELEASE_PROMPTS
    assert set(DEFAULTS) >= FIRST_RELEASE_PROMPTS  # later keys are answers a config file may give


def test_the_starter_answers_every_question_of_the_template_with_its_defaults():
    questions = {name: spec for name, spec in QUESTIONS.items() if not name.startswith("_")}
    # every question but `adopt` (a new project is never an adopted one) is an answer of the
    # starter, and cookiecutter declares it (it drops any extra-context key it does not declare)
    assert set(HOOK.TEMPLATE_QUESTIONS.values()) == set(questions) - {"adopt"}
    assert set(HOOK.TEMPLATE_QUESTIONS) | {"repo_name", "template_source", "template_ref"} == set(
        DEFAULTS
    )
    assert set(PROMPTS) <= set(DEFAULTS)
    # what the starter shows as a default is the template's default, in Kedro's words
    for key in PROMPTS:
        question = HOOK.TEMPLATE_QUESTIONS[key]
        default = questions[question]["default"]
        if isinstance(default, bool):
            assert HOOK.template_answers({key: DEFAULTS[key]}) == {question: default}, key
        else:
            assert DEFAULTS[key] == default, key
    # Kedro checks a choice as it is typed: exactly the template's choices pass
    for key, spec in PROMPTS.items():
        choices = questions[HOOK.TEMPLATE_QUESTIONS[key]].get("choices")
        if choices:
            values = choices.values() if isinstance(choices, dict) else choices
            accepted = {
                v
                for v in [*values, "none", "3.10", "other"]
                if re.match(spec["regex_validator"], v)
            }
            assert accepted == set(values), key
    # Kedro passes these three to every starter and keeps `example_pipeline` for its own
    # template: the starter must not take them for answers
    assert not {"kedro_version", "tools", "example_pipeline"} & set(HOOK.TEMPLATE_QUESTIONS)


SHIPPED = {"_template": str(STARTER_DIR), "_repo_dir": str(STARTER_DIR)}
REPOSITORY = {"_template": "git+https://example.com/kedro-azureml.git", "_repo_dir": "/clone/x"}


@pytest.mark.parametrize(
    ("context", "chosen"),
    [
        # the shipped starter: the template of $KEDRO_AZUREML_TEMPLATE, at this release's tag
        # (Kedro's own version, which it passes as --checkout to every alias, is no release)
        ({**SHIPPED, "_checkout": importlib.metadata.version("kedro")}, ("$env", f"v{RELEASE}")),
        ({**SHIPPED, "_checkout": "v0.2.0"}, ("$env", "v0.2.0")),
        ({**SHIPPED, "template_source": "../fork", "template_ref": "HEAD"}, ("../fork", "HEAD")),
        # a starter from a repository: that repository's template, at the same --checkout
        ({**REPOSITORY, "_checkout": "v0.3.0"}, (REPOSITORY["_template"], "v0.3.0")),
        ({**REPOSITORY, "_checkout": None}, (REPOSITORY["_template"], None)),
        (
            {**REPOSITORY, "_checkout": "main", "template_ref": "v0.3.0"},
            (REPOSITORY["_template"], "v0.3.0"),
        ),
    ],
)
def test_the_template_and_release_follow_the_starters_source(context, chosen, monkeypatch):
    monkeypatch.setenv("KEDRO_AZUREML_TEMPLATE", "$env")

    assert HOOK.chosen_template(context) == chosen


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_kedro_new_with_a_config_file_makes_what_copier_copy_makes(
    scenario, tmp_path, render_scenario, template_repo
):
    copied = render_scenario(scenario)

    result = new_with_config(
        tmp_path, {**SCENARIOS[scenario], "project_name": copied.answers["project_name"]},
        template_repo, "--telemetry", "no",
    )  # fmt: skip

    assert result.returncode == 0, describe(result)
    created = created_project(tmp_path)
    assert (created / TELEMETRY).read_text() == "consent: false"
    made = tree(created)
    del made[TELEMETRY]
    assert made == tree(copied.path)
    answers = yaml.safe_load(made[".copier-answers.yml"])
    assert answers["_commit"] == f"v{RELEASE}"
    assert answers["_src_path"] == str(template_repo)
    # Kedro's .telemetry is ignored: the first commit, then `copier update`, see a clean tree
    git(created, "init", "--quiet", "--initial-branch=main")
    commit_all(created, "Start")
    assert git(created, "status", "--porcelain", "--ignored", "--", TELEMETRY).startswith("!!")
    assert not git(created, "status", "--porcelain").strip()


def test_kedro_new_asks_kedro_style_and_renders_the_answers(tmp_path, template_repo):
    replies = {
        "project_name": "Asked Project",
        "python_version": "3.12",
        "execution_mode": "docker_image",
        "azure_workspace": "mlw-asked",
        "example": "no",
        "ci_provider": "none",
    }
    stdin = "".join(f"{replies.get(key, '')}\n" for key in PROMPTS)  # Enter: the default

    result = kedro_new("--starter", "azureml", cwd=tmp_path, template=template_repo, stdin=stdin)

    assert result.returncode == 0, describe(result)
    for spec in PROMPTS.values():  # Kedro's prompts, titled as prompts.yml titles them
        assert spec["title"].title() in result.stdout
    answers = yaml.safe_load((tmp_path / "asked-project" / ".copier-answers.yml").read_text())
    assert {
        "project_name": "Asked Project",
        "package_name": "asked_project",
        "python_version": "3.12",
        "execution_mode": "docker_image",
        "azure_workspace": "mlw-asked",
        "azure_resource_group": "my-resource-group",
        "example_pipeline": False,
        "use_mlflow": False,
        "ci_provider": "none",
        "image_name": "asked-project",
    }.items() <= answers.items()


@pytest.mark.parametrize(
    ("answers", "key", "fix"),
    [
        ({"azure_workspace": "x"}, "azure_workspace", "3-33 letters"),  # the template refuses
        ({"use_mlflow": "maybe"}, "use_mlflow", "answer yes or no"),  # the starter refuses
    ],
)
def test_an_answer_refused_fails_in_one_line_and_leaves_no_project(
    answers, key, fix, tmp_path, template_repo
):
    result = new_with_config(tmp_path, answers, template_repo)

    assert result.returncode != 0
    errors = [line for line in result.stdout.splitlines() if line.startswith("Error:")]
    errors += [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, describe(result)
    assert f"`{key}`" in errors[0] and fix in errors[0]
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "FailedHookException" not in output, describe(result)
    assert not (tmp_path / "my-project").exists()


def test_a_release_the_template_lacks_names_the_option_to_choose_another(tmp_path, template_repo):
    result = new_with_config(tmp_path, {"template_ref": "v9.9.9"}, template_repo)

    assert result.returncode != 0
    assert re.search(r"^Error: .*no release 'v9\.9\.9'\. Pass --checkout", result.stderr, re.M), (
        describe(result)
    )


@pytest.mark.slow
def test_a_project_from_kedro_new_keeps_the_users_edits_through_copier_update(tmp_path):
    from test_update import make_user_edits, release_next_template_version, user_owned_files

    template = snapshot_template(tmp_path / "template", tag="v0.1.0")
    result = new_with_config(tmp_path, {}, template, "--telemetry", "yes")
    assert result.returncode == 0, describe(result)
    project = tmp_path / "my-project"
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Start from kedro new --starter azureml")
    make_user_edits(project)
    commit_all(project, "My work")
    owned_before = user_owned_files(project)
    release_next_template_version(template)

    run_copier(
        "update", "--trust", "--defaults", "--skip-answered", "--conflict", "inline",
        "--vcs-ref", "v0.2.0", cwd=project,
    )  # fmt: skip

    files = [p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert not [p for p in files if p.suffix == ".rej"]
    assert not [p for p in files if re.search(rb"^(<{7}|>{7}) ", p.read_bytes(), re.MULTILINE)]
    assert user_owned_files(project) == owned_before
    assert "notebooks/" in (project / ".amlignore").read_text().splitlines()
    settings = (project / "src/my_project/settings.py").read_text()
    assert "(kedro-azureml template v0.2.0)" in settings
    assert 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz",)' in settings
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v0.2.0"
    assert (project / TELEMETRY).read_text() == "consent: true"
    # --checkout picks the release a new project starts from
    later = tmp_path / "later"
    later.mkdir()
    result = new_with_config(later, {}, template, "--checkout", "v0.2.0")
    assert result.returncode == 0, describe(result)
    answers = yaml.safe_load((later / "my-project" / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.0" and answers["kedro_init_version"] == "1.9.0"


@pytest.mark.slow
def test_the_git_route_renders_without_the_plugin_installed(tmp_path, template_repo):
    """`kedro new --starter <repository> --directory <the starter> --checkout <tag>` with a Kedro
    that has no kedro-azureml-deploy: the starter comes from the repository, and so does the
    template, at the same tag, rendered by copier through uvx."""
    venv = tmp_path / "kedro-only"
    for command in (
        ["uv", "venv", "--quiet", "--python", sys.executable, str(venv)],
        ["uv", "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         f"kedro=={importlib.metadata.version('kedro')}"],
    ):  # fmt: skip
        done = subprocess.run(command, env=project_env(), capture_output=True, text=True)
        assert done.returncode == 0, describe(done)
    url = f"git+{template_repo.as_uri()}"
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(starter_config(SCENARIOS["named"])))

    result = kedro_new(
        "--starter", url, "--directory", STARTER_DIRECTORY, "--checkout", f"v{RELEASE}",
        "--config", str(config), cwd=tmp_path, python=str(venv / "bin" / "python"),
    )  # fmt: skip

    assert result.returncode == 0, describe(result)
    copied = tmp_path / "copied"
    run_copier(
        "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", f"v{RELEASE}",
        *(f"--data={key}={value}" for key, value in SCENARIOS["named"].items()),
        url, str(copied), cwd=tmp_path,
    )  # fmt: skip
    assert tree(tmp_path / "sales-forecast-2") == tree(copied)
    answers = yaml.safe_load((copied / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == url


@pytest.mark.slow
def test_a_project_from_kedro_new_syncs_runs_compiles_and_replays(tmp_path, template_repo):
    """The first minutes of a user of `kedro new --starter azureml`, with kedro-azureml taken from
    this checkout (`kedro_azureml_source`, an answer a config file may give)."""
    from test_built_projects import describe as describe_command
    from test_built_projects import run_in

    answers = {"python_version": current_python(), "kedro_azureml_source": str(REPO_ROOT)}
    result = new_with_config(tmp_path, answers, template_repo)
    assert result.returncode == 0, describe(result)
    project = tmp_path / "my-project"
    assert 'kedro-azureml-deploy = { path = "' in (project / "pyproject.toml").read_text()

    for command in (
        ["uv", "sync"],
        ["uv", "run", "kedro", "run"],
        ["uv", "run", "kedro", "azureml", "compile", "-j", "default"],
        ["uv", "run", "kedro", "azureml", "replay", ".azureml-local/compiled/default.yml"],
    ):
        done = run_in(project, *command)
        assert done.returncode == 0, describe_command(command, done)

    assert json.loads((project / "data" / "metrics.json").read_text())["r2"] > 0.9
    compiled = yaml.safe_load((project / ".azureml-local/compiled/default.yml").read_text())
    assert set(compiled["jobs"]) == {"make_points", "split_points", "fit_line", "evaluate_line"}
    assert re.search(r"Run \S+ succeeded", done.stdout), done.stdout


def test_the_cli_reference_lists_every_key_of_the_starter():
    page = (REPO_ROOT / "docs/reference/cli.md").read_text()
    section = page.split("## `kedro new --starter azureml`", 1)[1]
    rows = dict(re.findall(r"^\| `(\w+)` \| (yes)? ?\|", section, flags=re.MULTILINE))

    assert set(rows) == set(DEFAULTS)
    assert {key for key, asked in rows.items() if asked} == set(PROMPTS)
    assert STARTER_DIRECTORY in section
