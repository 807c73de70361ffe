"""Fidelity of the sizing model: fit on small runs, predict a bigger one it never saw.

    .venv/bin/python bench/fidelity.py [--run-time 40s] [--fit-pairs 1,2,3] [--check-pairs 9]

Runs a sweep at --fit-pairs HA pairs and one run at --check-pairs (fresh embedded 3-master clusters,
default workload of scenarios/ha9.py), fits unit costs on the sweep, predicts the check run's used_memory
and server CPU, and prints predicted vs measured with the error. Targets: memory within 10 %, CPU within
20 %. Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loadsim(*args: str) -> str:
    out = subprocess.run([sys.executable, "-m", "loadsim", *args], capture_output=True, text=True, cwd=ROOT)
    if out.returncode not in (0, 3):
        raise SystemExit(f"loadsim {' '.join(args)} failed: {out.stderr.strip()[-500:]}")
    return out.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run-time", default="40s")
    ap.add_argument("--fit-pairs", default="1,2,3")
    ap.add_argument("--check-pairs", default="9")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    out = Path(a.out or tempfile.mkdtemp(prefix="loadsim-fidelity-"))
    print(f"# fit sweep at {a.fit_pairs} HA pairs, check run at {a.check_pairs} pairs, {a.run_time} each -> {out}")
    loadsim("sweep", "--ha-pairs", a.fit_pairs, "--run-time", a.run_time, "--out", str(out / "fit"))
    loadsim("sweep", "--ha-pairs", a.check_pairs, "--run-time", a.run_time, "--out", str(out / "check"))
    print(loadsim("validate", "--fit", str(out / "fit"), "--check", str(out / "check")))


if __name__ == "__main__":
    main()
