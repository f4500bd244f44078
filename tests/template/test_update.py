"""`copier update` of a project a user has worked on, from one template release to the next.

The template of this checkout is committed in a scratch repository and tagged v0.1.0; a project is
rendered from it, committed and edited like a user would; then the template changes, with a
`_migrations` entry that rewrites the user's azureml.yml, and is tagged v0.2.0; the project is
updated to it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from template_testing import commit_all, git, run_copier, snapshot_template

from kedro_azureml_deploy.config import parse_config

pytestmark = pytest.mark.slow

PACKAGE = "src/my_project"
MIGRATION = '''\
"""v0.2.0: jobs retry a failed step once. Writes `retries: 1` into each job of the project's
conf/base/azureml.yml that sets none, by editing the text so that comments stay."""

import re
from pathlib import Path

path = Path("conf/base/azureml.yml")
text = path.read_text()
jobs = text[text.index("\\njobs:") :]
migrated = re.sub(
    r"^(  [A-Za-z0-9_-]+:[^\\n]*\\n(?:    .*\\n)*)",
    lambda job: job[1] if "\\n    retries:" in job[1] else job[1] + "    retries: 1\\n",
    jobs,
    flags=re.MULTILINE,
)
path.write_text(text.replace(jobs, migrated))
'''


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def user_owned_files(project: Path) -> dict[str, bytes]:
    """The files the template leaves to the user, by relative path."""
    paths = [
        *(project / PACKAGE / "pipelines").rglob("*.py"),
        *(project / "tests").rglob("*.py"),
        project / "conf" / "local" / "credentials.yml",
        project / "conf" / "base" / "catalog.yml",
        project / "conf" / "base" / "parameters.yml",
        project / PACKAGE / "pipeline_registry.py",
        project / "README.md",
    ]
    return {path.relative_to(project).as_posix(): path.read_bytes() for path in paths}


def release_next_template_version(template: Path) -> None:
    """v0.2.0 of the template: changes to files the template owns, a new file, a new Kedro
    version for new projects, and a migration of azureml.yml."""
    project = template / "templates" / "kedro-azureml-project" / "project"
    append(project / ".amlignore", "\n# notebooks run on laptops only\nnotebooks/\n")
    example = project / "src" / "{{ package_name }}" / "pipelines"
    edit(
        example / "{% if example_pipeline %}example{% endif %}" / "nodes.py",
        "    points = []\n",
        "    points: list[Point] = []\n",
    )
    (project / ".editorconfig").write_text("root = true\n\n[*]\nend_of_line = lf\n")
    edit(
        project / "src" / "{{ package_name }}" / "settings.py.jinja",
        '"""Kedro settings of {{ project_name }}.\n',
        '"""Kedro settings of {{ project_name }} (kedro-azureml template v0.2.0).\n',
    )
    questions = template / "templates" / "kedro-azureml-project" / "copier.yml"
    edit(questions, 'default: "1.0.0"', 'default: "1.9.0"')
    migrations = template / "templates" / "kedro-azureml-project" / "migrations"
    (migrations / "v0.2.0_job_retries.py").write_text(MIGRATION)
    append(
        questions,
        "\n_migrations:\n"
        "  - version: v0.2.0\n"
        "    command:\n"
        '      - "{{ _copier_python }}"\n'
        '      - "{{ _copier_conf.src_path }}/templates/kedro-azureml-project/migrations/'
        'v0.2.0_job_retries.py"\n',
    )
    commit_all(template, "template v0.2.0")
    git(template, "tag", "v0.2.0")


def make_user_edits(project: Path) -> None:
    """What a user does in the weeks after `copier copy`."""
    reporting = project / PACKAGE / "pipelines" / "reporting"
    reporting.mkdir()
    (reporting / "__init__.py").write_text("from .pipeline import create_pipeline\n")
    (reporting / "pipeline.py").write_text(
        "from kedro.pipeline import Node, Pipeline\n\n\n"
        "def create_pipeline(**kwargs) -> Pipeline:\n"
        '    return Pipeline([Node(str, "metrics", "report", name="write_report")])\n'
    )
    append(
        project / "conf" / "base" / "catalog.yml",
        "\nreport:\n  type: text.TextDataset\n  filepath: data/08_reporting/report.txt\n",
    )
    edit(project / "conf" / "base" / "parameters.yml", "n_points: 200", "n_points: 500")
    append(
        project / PACKAGE / "settings.py",
        "\n# our team's plugins stay out of production runs\n"
        'DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz",)\n',
    )
    edit(
        project / "pyproject.toml",
        '    "kedro-datasets[json-jsondataset,pickle-pickledataset]>=8",\n',
        '    "kedro-datasets[json-jsondataset,pickle-pickledataset]>=8",\n'
        '    "kedro-datasets[text-textdataset]>=8",\n',
    )
    edit(project / "conf" / "base" / "azureml.yml", "cluster_name: cpu-cluster", "cluster_name: d4")
    append(
        project / "conf" / "local" / "credentials.yml", "\nblob_storage:\n  account_key: s3cr3t\n"
    )
    edit(
        project / PACKAGE / "pipelines" / "example" / "nodes.py",
        "rng = random.Random(seed)",
        "rng = random.Random(seed + 1)",
    )
    # and a deletion: with one, copier 9.19 ignores templated _skip_if_exists patterns
    (project / "data" / ".gitkeep").unlink()
    append(project / "tests" / "test_run.py", "\n\ndef test_reporting_is_registered():\n    pass\n")


def test_update_keeps_user_edits_and_applies_the_new_template(tmp_path):
    template = snapshot_template(tmp_path / "template", tag="v0.1.0")
    project = tmp_path / "my-project"
    run_copier(
        "copy", "--trust", "--defaults", "--vcs-ref", "v0.1.0", str(template), str(project),
        cwd=tmp_path,
    )  # fmt: skip
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Start from the kedro-azureml template")
    make_user_edits(project)
    commit_all(project, "My work")
    owned_before = user_owned_files(project)
    release_next_template_version(template)

    check = run_copier("check-update", "--quiet", str(project), cwd=tmp_path, check=False)
    assert check.returncode == 2, check.stdout + check.stderr  # 2: a newer version exists
    run_copier(
        "update", "--trust", "--defaults", "--skip-answered", "--conflict", "inline",
        "--vcs-ref", "v0.2.0", cwd=project,
    )  # fmt: skip

    files = [p for p in project.rglob("*") if p.is_file() and ".git" not in p.parts]
    assert not [p for p in files if p.suffix == ".rej"]
    assert not [p for p in files if re.search(rb"^(<{7}|>{7}) ", p.read_bytes(), re.MULTILINE)]
    # the files the user owns are exactly theirs
    assert user_owned_files(project) == owned_before
    # the template's files have the template's changes and the user's edits
    assert "notebooks/" in (project / ".amlignore").read_text().splitlines()
    assert (project / ".editorconfig").is_file()
    settings = (project / PACKAGE / "settings.py").read_text()
    assert "(kedro-azureml template v0.2.0)" in settings
    assert 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz",)' in settings
    pyproject = (project / "pyproject.toml").read_text()
    assert '"kedro-azureml-runtime==0.2.0"' in pyproject
    assert '"kedro-azureml-deploy==0.2.0"' in pyproject
    assert '"kedro-datasets[text-textdataset]>=8"' in pyproject
    # the Kedro version a project was created with stays, though new projects get 1.9.0
    assert 'kedro_init_version = "1.0.0"' in pyproject
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.0"
    assert answers["kedro_init_version"] == "1.0.0"
    # the migration rewrote azureml.yml (the user's), keeping the user's edit and comments
    azureml = (project / "conf" / "base" / "azureml.yml").read_text()
    assert azureml.startswith("# yaml-language-server: $schema=../../azureml.schema.json")
    config = parse_config(yaml.safe_load(azureml))
    assert config.job("default")[1].retries == 1
    assert config.compute["__default__"].cluster_name == "d4"

    # up to date now, and the changes wait in the working tree for the user's review
    assert run_copier("check-update", "--quiet", str(project), cwd=tmp_path).returncode == 0
    assert git(project, "status", "--porcelain").strip()


def test_a_release_without_template_changes_moves_only_the_pins(tmp_path):
    template = snapshot_template(tmp_path / "template", tag="v0.1.0")
    project = tmp_path / "my-project"
    run_copier("copy", "--trust", "--defaults", str(template), str(project), cwd=tmp_path)
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Start")
    make_user_edits(project)
    commit_all(project, "My work")
    git(template, "commit", "--quiet", "--allow-empty", "-m", "runtime fixes only")
    git(template, "tag", "v0.1.1")

    run_copier("update", "--trust", "--defaults", cwd=project)  # the latest tag by default

    assert sorted(git(project, "status", "--porcelain").splitlines()) == [
        " M .copier-answers.yml",
        " M pyproject.toml",
    ]
    diff = git(project, "diff", "--unified=0", "pyproject.toml")
    changed = [line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert changed == [
        '-    "kedro-azureml-runtime==0.1.0",',
        '+    "kedro-azureml-runtime==0.1.1",',
        '-    "kedro-azureml-deploy==0.1.0",',
        '+    "kedro-azureml-deploy==0.1.1",',
    ]


def test_an_update_that_answers_yes_to_key_vault_adds_the_extra_and_keeps_the_users_settings(
    tmp_path,
):
    template = snapshot_template(tmp_path / "template", tag="v0.1.0")
    project = tmp_path / "my-project"
    run_copier(
        "copy", "--trust", "--defaults", "--vcs-ref", "v0.1.0", str(template), str(project),
        cwd=tmp_path,
    )  # fmt: skip
    git(project, "init", "--quiet", "--initial-branch=main")
    commit_all(project, "Start")
    make_user_edits(project)
    commit_all(project, "My work")
    owned_before = user_owned_files(project)
    release_next_template_version(template)

    run_copier(
        "update", "--trust", "--defaults", "--skip-answered", "--conflict", "inline",
        "--data", "use_key_vault=true", "--vcs-ref", "v0.2.0", cwd=project,
    )  # fmt: skip

    pyproject = (project / "pyproject.toml").read_text()
    assert '"kedro-azureml-runtime[keyvault]==0.2.0"' in pyproject
    assert '"kedro-datasets[text-textdataset]>=8"' in pyproject
    settings = (project / PACKAGE / "settings.py").read_text()
    assert '"custom_resolvers": {KEY_VAULT_RESOLVER: key_vault_secret}' in settings
    assert "needs the kedro-azureml-runtime[keyvault] extra" not in settings
    assert 'DISABLE_HOOKS_FOR_PLUGINS = ("kedro-viz",)' in settings
    assert user_owned_files(project) == owned_before  # the catalog stays the user's
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["use_key_vault"] is True
