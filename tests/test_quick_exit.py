"""A deploy command's process freezes its heap at exit (``kedro_azureml_deploy.cli.command``): the
collector's passes at interpreter shutdown skip what the command built; Kedro's own commands are
left as they are."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from project_factory import KedroProject, NodeSpec, quiet_kedro_env

#: Runs Kedro's CLI as its console script does, with an ``atexit`` handler registered before it,
#: so called after every handler the command registers: it reports what the collector sees then.
AT_EXIT = textwrap.dedent(
    """
    import atexit, gc, sys

    def report():
        print(f"frozen {gc.get_freeze_count()}", flush=True)

    atexit.register(report)

    from kedro.framework.cli import main

    sys.argv = ["kedro", *sys.argv[1:]]
    main()
    """
)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> KedroProject:
    path = tmp_path_factory.mktemp("quick-exit") / "p"
    return KedroProject(path, nodes=[NodeSpec("first", "identity", [], ["out"])]).write()


def at_exit(project: KedroProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", AT_EXIT, *args],
        cwd=project.path,
        env={**os.environ, **quiet_kedro_env()},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_deploy_command_exits_with_its_heap_frozen(project):
    result = at_exit(project, "azureml", "info")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    frozen = [int(line.split()[1]) for line in lines if line.startswith("frozen ")]
    assert frozen and frozen[0] > 10_000, result.stdout


def test_a_failed_deploy_command_exits_frozen_as_well(project):
    result = at_exit(project, "azureml", "compile", "-j", "no-such-job")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert any(
        line.startswith("frozen ") and line != "frozen 0" for line in result.stdout.splitlines()
    )


def test_kedro_s_own_commands_exit_as_they_always_did(project):
    result = at_exit(project, "--help")
    assert result.returncode == 0, result.stderr
    assert "frozen 0" in result.stdout.splitlines()
