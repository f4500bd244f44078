"""Image footprint: what the runtime adds to a step image, in bytes of site-packages.

Compares the site-packages of two venvs built with the same interpreter and uv's cache:

- runtime: the ``kedro-azureml-runtime`` wheel + ``kedro-datasets`` (what a step image installs);
- floor: ``kedro`` at the same version + ``kedro-datasets`` (any Kedro step image needs this much).

Sizes are the apparent sizes of the installed files (symbolic links not followed, ``__pycache__``
left out: uv installs without compiling bytecode, and what a first run compiles depends on what it
imports). Target: runtime/floor <= 1.10. Also lists the distributions only the runtime venv holds
and fails if anything named ``azure*`` is installed.

    uv run --no-project python benchmarks/image_footprint.py [--runs 5]

``--runs`` builds the pair of venvs that many times (fresh folders, uv's cache) and reports the
largest ratio seen, to show the measurement does not depend on one install.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in benchmarks/ or tests/support/
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _venvs import (  # noqa: E402
    TARGET_RATIO,
    Venv,
    azure_entries,
    build_venvs,
    format_table,
    verdict,
    workspace,
)

MIB = 1024 * 1024


def tree_bytes(root: Path) -> tuple[int, int]:
    """Total apparent size and file count under ``root``, without ``__pycache__`` folders."""
    total = count = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            total += (Path(folder) / name).lstat().st_size
            count += 1
    return total, count


def tree_bytes_of_distribution(venv: Venv, package: str) -> int:
    """Size of one import package plus its ``*.dist-info`` folder."""
    site = venv.site_packages
    total = tree_bytes(site / package)[0]
    return total + sum(tree_bytes(info)[0] for info in site.glob(f"{package}-*.dist-info"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="times the venv pair is built (>= 1)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")

    with workspace("kedro-azureml-footprint-", keep=args.keep) as root:
        first = build_venvs(root / "build-0")
        runtime_dists = first.runtime.distributions()
        floor_dists = first.floor.distributions()
        runtime_only = {n: v for n, v in runtime_dists.items() if n not in floor_dists}
        floor_only = sorted(n for n in floor_dists if n not in runtime_dists)
        azure = azure_entries(first.runtime)
        runtime_own = tree_bytes_of_distribution(first.runtime, "kedro_azureml_runtime")
        samples = [(tree_bytes(first.runtime.site_packages), tree_bytes(first.floor.site_packages))]
        for index in range(1, args.runs):
            pair = build_venvs(root / f"build-{index}")
            samples.append(
                (tree_bytes(pair.runtime.site_packages), tree_bytes(pair.floor.site_packages))
            )

    (r_bytes, r_files), (f_bytes, f_files) = samples[0]
    ratios = [runtime[0] / floor[0] for runtime, floor in samples]
    ratio = max(ratios)
    print()
    print(
        f"Image footprint: site-packages, kedro {first.kedro_version}, {first.wheel.name}, "
        f"{args.runs} builds of each venv"
    )
    rows = [
        [
            "runtime: runtime wheel + kedro-datasets",
            f"{r_bytes / MIB:.2f}",
            f"{r_bytes}",
            f"{r_files}",
        ],
        ["floor: kedro + kedro-datasets", f"{f_bytes / MIB:.2f}", f"{f_bytes}", f"{f_files}"],
        [
            "runtime - floor",
            f"{(r_bytes - f_bytes) / MIB:.2f}",
            f"{r_bytes - f_bytes}",
            f"{r_files - f_files}",
        ],
    ]
    print(format_table(["venv", "MiB", "bytes", "files"], rows))
    same = (
        len({runtime for runtime, _ in samples}) == 1 and len({floor for _, floor in samples}) == 1
    )
    stable = (
        "identical in every build"
        if same
        else f"min {min(ratios):.4f}, max {ratio:.4f} over builds"
    )
    print(
        f"ratio runtime/floor: {ratio:.4f} ({stable}); target <= {TARGET_RATIO:.2f}: {verdict(ratio)}"
    )
    print(f"kedro-azureml-runtime itself (package + dist-info): {runtime_own / 1024:.1f} KiB")
    listed = ", ".join(f"{name} {version}" for name, version in runtime_only.items()) or "none"
    print(f"distributions in the runtime venv but not in the floor venv: {listed}")
    if floor_only:
        print(
            f"distributions in the floor venv but not in the runtime venv: {', '.join(floor_only)}"
        )
    print(f"azure in runtime site-packages: {'YES: ' + ', '.join(azure) if azure else 'no'}")
    return 1 if ratio > TARGET_RATIO or azure else 0


if __name__ == "__main__":
    sys.exit(main())
