"""Step environment: a replayed step in the environment the replay builds like the step image,
against the same step in the workspace's ``.venv`` (what ``--python .venv/bin/python`` runs).

The template's project (``copier copy --defaults`` of this checkout, ``kedro_azureml_source`` set to
it, then ``uv lock``) gets its step environment built by ``replay.step_environment`` into a
scratch cache (the build's time is reported, with uv's cache as it is). Then, alternating the two
environments in each repetition: one step, ``kedro azureml execute --node make_points`` in the
project with a fresh output folder, as the replay starts it (after one untimed start of each, so
both have their bytecode; ``PYTHONDONTWRITEBYTECODE`` is unset for them); and, with ``--replays``, the whole
``kedro azureml run -j default --local`` (default environment vs ``--python`` this one).

Needs the workspace environment (kedro-azureml-deploy and copier installed):

    uv run python benchmarks/step_environment.py [--runs 5] [--replays] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _venvs import clean_env, format_table, uv, workspace  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CACHE_VARIABLE = "KEDRO_AZUREML_STEP_ENVS"


def render_template_project(root: Path) -> Path:
    source = root / "template"
    source.mkdir()
    shutil.copy2(REPO / "copier.yml", source / "copier.yml")
    shutil.copytree(REPO / "templates", source / "templates")
    target = root / "template-project"
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet",
         "-d", f"kedro_azureml_source={REPO}", "-d", f"python_version={python}", source, target],
        check=True, capture_output=True, env=clean_env(),
    )  # fmt: skip
    subprocess.run(
        [uv(), "lock", "--quiet"], cwd=target, check=True, capture_output=True,
        env=clean_env(UV_PYTHON=sys.executable, UV_PYTHON_DOWNLOADS="never"),
    )  # fmt: skip
    return target


def timed(cmd: Sequence[str | os.PathLike[str]], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run([str(part) for part in cmd], cwd=cwd, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{result.stderr.decode()[-3000:]}")
    return elapsed


def row(label: str, built: list[float], laptop: list[float]) -> list[str]:
    ratio_min, ratio_median = (
        min(laptop) / min(built),
        statistics.median(laptop) / statistics.median(built),
    )
    return [
        label,
        f"{min(built):.2f} / {statistics.median(built):.2f}",
        f"{min(laptop):.2f} / {statistics.median(laptop):.2f}",
        f"{ratio_min:.2f} / {ratio_median:.2f}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions (at least 5)")
    parser.add_argument("--replays", action="store_true", help="also time whole replays")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    with workspace("kazml-step-env-", keep=args.keep) as root:
        project = render_template_project(root)
        os.environ[CACHE_VARIABLE] = str(root / "step-envs")
        from kedro_azureml_deploy.replay.step_environment import step_environment

        start = time.perf_counter()
        built = step_environment(project).bin_folder
        build_time = time.perf_counter() - start
        laptop = Path(sys.executable).absolute().parent
        env = clean_env(**{CACHE_VARIABLE: str(root / "step-envs")})
        # both environments keep their bytecode (the built one is compiled when it is built): a
        # PYTHONDONTWRITEBYTECODE of the caller would make the .venv compile every module it
        # imports, in every step
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        times: dict[str, dict[Path, list[float]]] = {"step": {built: [], laptop: []}}
        if args.replays:
            times["replay"] = {built: [], laptop: []}
        for repetition in range(-1, args.runs):  # -1: untimed, writes the .venv's bytecode
            for folder in (built, laptop) if repetition % 2 == 0 else (laptop, built):
                output = root / "outputs" / f"{folder.parent.name}-{repetition}"
                step = [folder / "kedro", "azureml", "execute", "--node", "make_points"]
                step += ["--az-output", "points", output]
                step_env = {**env, "PATH": f"{folder}{os.pathsep}{env['PATH']}"}
                elapsed = timed(step, project, step_env)
                if repetition < 0:
                    continue
                times["step"][folder].append(elapsed)
                if args.replays:
                    replay = [laptop / "kedro", "azureml", "run", "-j", "default", "--local"]
                    if folder == laptop:
                        replay += ["--python", sys.executable]
                    times["replay"][folder].append(timed(replay, project, env))
        print(f"step environment built in {build_time:.1f} s (uv's cache as it was)")
        print(f"{args.runs} runs each, alternating; seconds as min / median\n")
        rows = [row("one step (make_points)", times["step"][built], times["step"][laptop])]
        if args.replays:
            rows.append(
                row("run -j default --local", times["replay"][built], times["replay"][laptop])
            )
        headers = ["what", "built step env", "workspace .venv", ".venv / built"]
        print(format_table(headers, rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
