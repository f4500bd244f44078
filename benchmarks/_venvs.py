"""Shared helpers for the benchmarks: build the "runtime" and "floor" venvs, inspect them.

Standard library only, so every benchmark runs with ``python benchmarks/<name>.py`` or
``uv run --no-project python benchmarks/<name>.py``.

- runtime venv: the ``kedro-azureml-runtime`` wheel (built with ``uv build --no-sources``, exactly
  what a step image installs) + ``kedro-datasets`` (no extras).
- floor venv: ``kedro`` at the version the runtime venv resolved + ``kedro-datasets``: the least any
  Kedro step image needs. Every distribution both venvs share is pinned to the runtime venv's
  version (the runtime venv's freeze is passed as constraints), so the two differ only by what the
  runtime adds.

Both venvs use the interpreter running the benchmark (``uv venv --python sys.executable``) and uv's
cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RUNTIME_DISTRIBUTION = "kedro-azureml-runtime"
EXTRA_PACKAGES = ("kedro-datasets",)
TARGET_RATIO = 1.10

#: Telemetry off for every Kedro process the benchmarks start.
QUIET_ENV = {"KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


@dataclass(frozen=True)
class Venv:
    """A virtual environment built by :func:`build_venvs`."""

    label: str
    path: Path

    @property
    def bin(self) -> Path:
        return self.path / ("Scripts" if os.name == "nt" else "bin")

    @property
    def python(self) -> Path:
        return self.bin / ("python.exe" if os.name == "nt" else "python")

    def script(self, name: str) -> Path:
        return self.bin / (f"{name}.exe" if os.name == "nt" else name)

    @property
    def site_packages(self) -> Path:
        out = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
            env=clean_env(),
        )
        return Path(out.stdout.strip())

    def distributions(self) -> dict[str, str]:
        """Normalised distribution name to version, read from the ``*.dist-info`` folders."""
        found: dict[str, str] = {}
        for info in self.site_packages.glob("*.dist-info"):
            name, _, version = info.name[: -len(".dist-info")].partition("-")
            found[normalise(name)] = version
        return dict(sorted(found.items()))


@dataclass(frozen=True)
class VenvPair:
    runtime: Venv
    floor: Venv
    kedro_version: str
    wheel: Path


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def clean_env(**extra: str) -> dict[str, str]:
    """``os.environ`` without what would make a child Python see another environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "CONDA_PREFIX"}
    }
    env.update(QUIET_ENV)
    env.update(extra)
    return env


def run(cmd: Sequence[str | os.PathLike[str]], *, cwd: Path | None = None) -> str:
    """Run a setup command; on failure, show its output and stop."""
    result = subprocess.run(
        [str(part) for part in cmd], cwd=cwd, capture_output=True, text=True, env=clean_env()
    )
    if result.returncode != 0:
        sys.exit(
            f"command failed ({result.returncode}): {' '.join(map(str, cmd))}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result.stdout


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        sys.exit(
            "uv is not on PATH: install it (https://docs.astral.sh/uv/) to run the benchmarks."
        )
    return found


def build_runtime_wheel(out_dir: Path) -> Path:
    """Build the runtime's wheel as a release would (no workspace sources)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run(
        [uv(), "build", "--package", RUNTIME_DISTRIBUTION, "--no-sources", "-o", out_dir],
        cwd=REPO_ROOT,
    )
    wheels = sorted(out_dir.glob("kedro_azureml_runtime-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"expected one runtime wheel in {out_dir}, found {[w.name for w in wheels]}")
    return wheels[0]


def make_venv(
    label: str, path: Path, requirements: Sequence[str], *, constraints: Path | None = None
) -> Venv:
    """``uv venv`` with this interpreter, then ``uv pip install`` of ``requirements``.

    Commands run from the venv's parent folder, so no project or workspace setting of the current
    directory leaks into the resolution.
    """
    run([uv(), "venv", "--quiet", "--python", sys.executable, path], cwd=path.parent)
    venv = Venv(label, path)
    cmd: list[str | os.PathLike[str]] = [
        uv(),
        "pip",
        "install",
        "--quiet",
        "--python",
        venv.python,
        *requirements,
    ]
    if constraints is not None:
        cmd += ["--constraint", constraints]
    run(cmd, cwd=path.parent)
    return venv


def kedro_version(venv: Venv) -> str:
    out = run([venv.python, "-c", "import importlib.metadata as m; print(m.version('kedro'))"])
    return out.strip()


def build_venvs(workdir: Path) -> VenvPair:
    """Build the runtime and floor venvs under ``workdir``."""
    print(
        f"building the runtime wheel and two venvs under {workdir} (Python {sys.version.split()[0]})"
    )
    wheel = build_runtime_wheel(workdir / "dist")
    runtime = make_venv("runtime", workdir / "venv-runtime", [str(wheel), *EXTRA_PACKAGES])
    version = kedro_version(runtime)
    # Pin everything the floor shares with the runtime venv to the runtime venv's versions.
    freeze = run([uv(), "pip", "freeze", "--python", runtime.python], cwd=workdir)
    constraints = workdir / "floor-constraints.txt"
    constraints.write_text(
        "\n".join(
            line
            for line in freeze.splitlines()
            if "==" in line and normalise(line.split("==")[0]) != RUNTIME_DISTRIBUTION
        )
        + "\n"
    )
    floor = make_venv(
        "floor",
        workdir / "venv-floor",
        [f"kedro=={version}", *EXTRA_PACKAGES],
        constraints=constraints,
    )
    return VenvPair(runtime=runtime, floor=floor, kedro_version=version, wheel=wheel)


def azure_entries(venv: Venv) -> list[str]:
    """Top-level entries of site-packages whose name starts with ``azure`` (must be none)."""
    return sorted(
        p.name for p in venv.site_packages.iterdir() if p.name.lower().startswith("azure")
    )


@contextmanager
def workspace(prefix: str, *, keep: bool = False) -> Iterator[Path]:
    """A temporary folder, removed afterwards unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def verdict(ratio: float, target: float = TARGET_RATIO) -> str:
    return "OK" if ratio <= target else "MISSES TARGET"


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table, columns right-aligned except the first."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = []
    for index, row in enumerate([headers, *rows]):
        cells = [
            str(cell).ljust(width) if col == 0 else str(cell).rjust(width)
            for col, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
