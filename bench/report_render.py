"""How long does `loadsim report` take on a 10-run sweep? Target: under 60 s. Prints; asserts nothing.

    .venv/bin/python bench/report_render.py [SWEEP_DIR]

Without SWEEP_DIR it first records a real 10-point sweep (1..10 HA pairs, 5 s each, about 90 s).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    if len(sys.argv) > 1:
        sweep = Path(sys.argv[1])
    else:
        sweep = Path(tempfile.mkdtemp(prefix="loadsim-render-")) / "sweep"
        print(f"recording a 10-run sweep into {sweep} ...", flush=True)
        subprocess.run([sys.executable, "-m", "loadsim", "sweep", "--ha-pairs", ",".join(map(str, range(1, 11))),
                        "--run-time", "5s", "--out", str(sweep), "--", "--aht", "30"], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "loadsim", "report", str(sweep)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    times.sort()
    print(f"loadsim report on {sweep}: median {times[1]:.1f} s of 3 (min {times[0]:.1f}, max {times[2]:.1f}); "
          f"{times[1] / 60:.2f} of the 60 s target")


if __name__ == "__main__":
    main()
