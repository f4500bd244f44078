"""Key Vault resolver import: what registering ``${azureml.keyvault:...}`` in settings.py costs.

Every ``kedro`` call in a template project imports ``kedro_azureml_runtime.key_vault`` from
``settings.py``; the SDK it reads secrets with is imported only when a secret is read. This
benchmark times a fresh interpreter, wall clock, for

- floor: ``python -c "import kedro.config, kedro_azureml_runtime"``: Kedro's config loader and the
  runtime, which every ``kedro`` call in such a project imports anyway;
- resolver: the same, then ``import kedro_azureml_runtime.key_vault``;

interleaved pair by pair after one untimed warm-up of each, and checks that the resolver's import
loads no ``azure`` module. Target: resolver/floor <= 1.10 for the min and for the median. For
information it also times what the first secret read adds: importing ``azure.identity`` and
``azure.keyvault.secrets`` (needs the ``keyvault`` extra, as in the workspace venv).

    uv run python benchmarks/key_vault_import.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _venvs import TARGET_RATIO, clean_env, format_table, verdict  # noqa: E402

FLOOR = "import kedro.config, kedro_azureml_runtime"
RESOLVER = f"{FLOOR}\nimport kedro_azureml_runtime.key_vault"
SDK = "import azure.identity, azure.keyvault.secrets"


def timed(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=clean_env())
    return time.perf_counter() - start


def azure_modules_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'azure')))"
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, env=clean_env()
    ).stdout
    return json.loads(out.splitlines()[-1])


def own_import_ms(runs: int = 5) -> float:
    """What the resolver module adds once the runtime is imported: its own ``-X importtime``."""
    best = float("inf")
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", RESOLVER],
            check=True,
            capture_output=True,
            text=True,
            env=clean_env(),
        ).stderr
        line = next(
            line for line in err.splitlines() if line.endswith("| kedro_azureml_runtime.key_vault")
        )
        best = min(best, int(line.split("|")[1]) / 1000)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)

    cases = {"resolver": RESOLVER, "floor": FLOOR, "sdk (first read)": f"{RESOLVER}\n{SDK}"}
    for code in cases.values():
        timed(code)  # warm-up: the OS file cache, bytecode
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, code in cases.items():
            times[name].append(timed(code))

    rows = [
        [name, f"{min(t) * 1000:.1f}", f"{statistics.median(t) * 1000:.1f}"]
        for name, t in times.items()
    ]
    print(format_table(["case", "min ms", "median ms"], rows))
    ratio_min = min(times["resolver"]) / min(times["floor"])
    ratio_median = statistics.median(times["resolver"]) / statistics.median(times["floor"])
    print(
        f"resolver/floor: min {ratio_min:.3f}, median {ratio_median:.3f} {verdict(max(ratio_min, ratio_median))}"
    )
    own = own_import_ms()
    print(f"importing kedro_azureml_runtime.key_vault itself (-X importtime, min): {own:.2f} ms")
    azure = azure_modules_after(RESOLVER)
    print(f"azure modules after importing the resolver: {', '.join(azure) if azure else 'none'}")
    return 1 if max(ratio_min, ratio_median) > TARGET_RATIO or azure else 0


if __name__ == "__main__":
    sys.exit(main())
