"""The rendered Dockerfile builds the step image as DESIGN says: uv, runtime only, non-root.

hadolint checks it when installed; otherwise ``check_dockerfile`` parses every instruction.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from template_testing import SCENARIOS

INSTRUCTIONS = {
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
}
ROOT_USERS = {"root", "0"}
_HEREDOC = re.compile(r"<<-?\s*[\"']?(\w+)[\"']?")


def dockerfile_instructions(text: str) -> list[tuple[int, str, str]]:
    """``(line number, INSTRUCTION, arguments)`` of each instruction, continuation lines joined
    (comment lines inside them dropped, as Docker does) and heredoc bodies skipped."""
    lines = text.splitlines()
    instructions = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        start = index + 1
        index += 1
        if not line or line.startswith("#"):
            continue
        continued = line.endswith("\\")
        parts = [line[:-1] if continued else line]
        while continued and index < len(lines):
            following = lines[index].strip()
            index += 1
            if not following or following.startswith("#"):
                continue
            continued = following.endswith("\\")
            parts.append(following[:-1] if continued else following)
        logical = " ".join(part.strip() for part in parts if part.strip())
        for terminator in _HEREDOC.findall(logical):
            while index < len(lines) and lines[index].strip() != terminator:
                index += 1
            index += 1
        keyword, _, arguments = logical.partition(" ")
        instructions.append((start, keyword, arguments.strip()))
    return instructions


def check_dockerfile(text: str) -> list[str]:
    """What is wrong with a Dockerfile, one message per problem: unknown instructions, anything
    but ARG before the first FROM, a CMD or ENTRYPOINT of the final stage not run by a non-root
    USER, exec forms that are not JSON arrays, COPY --from of a stage not defined."""
    problems = []
    instructions = dockerfile_instructions(text)
    stages: set[str] = set()
    seen_from = False
    user = None
    for number, keyword, arguments in instructions:
        if keyword.upper() not in INSTRUCTIONS:
            problems.append(f"line {number}: unknown instruction {keyword!r}")
            continue
        if keyword != keyword.upper():
            problems.append(f"line {number}: write {keyword.upper()} in upper case")
        keyword = keyword.upper()
        if not seen_from and keyword not in ("ARG", "FROM"):
            problems.append(f"line {number}: {keyword} before the first FROM")
        if keyword == "FROM":
            seen_from = True
            user = None
            words = arguments.split()
            if len(words) == 3 and words[1].upper() == "AS":
                stages.add(words[2])
        elif keyword == "USER":
            user = arguments.split(":")[0]
        elif keyword in ("CMD", "ENTRYPOINT"):
            if user is None or user in ROOT_USERS:
                problems.append(f"line {number}: {keyword} runs as root; add a non-root USER")
            if arguments.startswith("["):
                try:
                    json.loads(arguments)
                except ValueError:
                    problems.append(f"line {number}: {keyword} is not a JSON array")
        elif keyword == "COPY":
            source = re.search(r"--from=(\S+)", arguments)
            stage = source[1] if source else None
            if stage and "/" not in stage and ":" not in stage and stage not in stages:
                problems.append(f"line {number}: COPY --from={source[1]}: no such stage")
    if not seen_from:
        problems.append("no FROM instruction")
    if user is None or user in ROOT_USERS:
        problems.append("the final stage runs as root: add a non-root USER")
    return problems


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_dockerfile_passes_hadolint_or_the_instruction_check(render_scenario, scenario):
    dockerfile = render_scenario(scenario).path / "Dockerfile"
    hadolint = shutil.which("hadolint")

    if hadolint:
        result = subprocess.run(
            [hadolint, str(dockerfile)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr
    assert check_dockerfile(dockerfile.read_text()) == []


def test_dockerfile_installs_only_the_runtime_and_the_project(render_scenario):
    instructions = dockerfile_instructions(render_scenario("docker_image").read("Dockerfile"))
    text = "\n".join(f"{keyword} {arguments}" for _, keyword, arguments in instructions)
    final_stage = text[text.rindex("\nFROM ") :]

    assert [k for _, k, _ in instructions if k == "FROM"] == ["FROM", "FROM"]
    assert "COPY --from=ghcr.io/astral-sh/uv:" in text
    assert "uv sync --locked --no-dev --no-editable" in text
    assert "COPY --chown=kedro:kedro conf ./conf" in final_stage  # every environment...
    dockerignore = render_scenario("docker_image").read(".dockerignore").splitlines()
    assert {"conf/local", "conf/**/*credentials*"} <= set(dockerignore)  # ...but local secrets
    assert "mkdir -p conf/local" in final_stage
    assert "ENV KEDRO_DISABLE_TELEMETRY=true" in final_stage
    assert "conf/local" not in re.sub(r"mkdir -p conf/local|chown \S+ conf/local", "", text)
    assert "USER kedro" in final_stage
    assert 'CMD ["kedro", "azureml", "execute", "--help"]' in final_stage


@pytest.mark.parametrize(
    ("dockerfile", "problem"),
    [
        ("RUN echo hi\nFROM python:3.11\nUSER app\n", "RUN before the first FROM"),
        ('FROM python:3.11\nCMD ["kedro"]\n', "CMD runs as root"),
        ('FROM python:3.11\nUSER root\nCMD ["kedro"]\n', "CMD runs as root"),
        ("FROM python:3.11\nUSER app\nCMD [kedro]\n", "CMD is not a JSON array"),
        ("FROM python:3.11\nRUNN make\nUSER app\n", "unknown instruction 'RUNN'"),
        ("FROM python:3.11\nCOPY --from=build /a /a\nUSER app\n", "no such stage"),
        ("FROM python:3.11\nRUN apt-get update \\\n  # a comment\n  && true\n", "runs as root"),
    ],
)
def test_instruction_check_finds_what_hadolint_would(dockerfile, problem):
    assert any(problem in found for found in check_dockerfile(dockerfile))


def test_instruction_check_joins_continuations_and_skips_heredocs():
    text = (
        "ARG V=1\nFROM python:3.11 AS build\nRUN echo a \\\n    # note\n    && echo b\n"
        "RUN <<EOF\nnot an instruction\nEOF\nFROM python:3.11\nCOPY --from=build /x /x\n"
        'USER 1000\nCMD ["true"]\n'
    )

    assert [keyword for _, keyword, _ in dockerfile_instructions(text)] == [
        "ARG",
        "FROM",
        "RUN",
        "RUN",
        "FROM",
        "COPY",
        "USER",
        "CMD",
    ]
    assert check_dockerfile(text) == []


@pytest.mark.parametrize("dependencies_from", ["requirements.txt", "uv.lock"])
def test_the_dockerfile_of_an_adopted_project_installs_from_its_dependency_file(
    render, dependencies_from
):
    project = render(adopt=True, dependencies_from=dependencies_from)
    text = project.read("Dockerfile")
    instructions = "\n".join(f"{k} {a}" for _, k, a in dockerfile_instructions(text))

    assert check_dockerfile(text) == []
    if dependencies_from == "requirements.txt":
        assert "COPY requirements.txt ./" in instructions
        assert 'pip install -r requirements.txt "kedro-azureml-runtime' in instructions
        assert "pip install --no-deps ." in instructions
        assert "uv" not in instructions.replace("uvicorn", "")
    else:
        assert "uv sync --locked --no-dev --no-editable" in instructions
        assert "requirements.txt" not in instructions
    # what every step image has, whatever the dependencies come from
    assert 'CMD ["kedro", "azureml", "execute", "--help"]' in instructions
    assert sorted(p.name for p in project.path.iterdir()) == [
        ".amlignore",
        ".copier-answers.yml",
        ".dockerignore",
        "Dockerfile",
        "azureml.schema.json",
        "conf",
    ]
