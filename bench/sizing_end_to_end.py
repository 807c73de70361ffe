"""How long does a sizing answer take from nothing? Prints figures; asserts nothing.

    .venv/bin/python bench/sizing_end_to_end.py [--out DIR]

Runs what a new user runs: ``loadsim sweep`` with its defaults (the grid the sizing notebook expects: 1, 3 and 9
HA pairs on 3 masters, one repeat of 60 s each, a fresh embedded cluster per point), then ``loadsim report`` on
the sweep, and times both against the target of the issue "Performance": a verdict and curves in <= 10 minutes
on 2 cores. The report's verdict line is printed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 600.0


def timed(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None, help="sweep folder (default: a temporary one)")
    a = ap.parse_args()
    out = Path(a.out or tempfile.mkdtemp(prefix="loadsim-e2e-")) / "sweep"
    loadsim = [sys.executable, "-m", "loadsim"]
    print(f"# sizing end to end on {os.cpu_count()} cores: loadsim sweep (defaults) + loadsim report -> {out}")
    sweep_s, _ = timed([*loadsim, "sweep", "--out", str(out)])
    print(f"loadsim sweep --out {out}: {sweep_s:.0f} s")
    report_s, report_out = timed([*loadsim, "report", str(out)])
    print(f"loadsim report {out}: {report_s:.0f} s")
    html = (out / "report.html").read_text(encoding="utf-8")
    verdict = re.search(r"(PASS|FAIL): [^<]*", html)
    print(f"verdict: {verdict.group(0) if verdict else 'not found in report.html'}")
    total = sweep_s + report_s
    print(f"total {total:.0f} s = {total / 60:.1f} min; target <= {TARGET_S / 60:.0f} min: "
          f"{'met' if total <= TARGET_S else 'NOT met'} (ratio {total / TARGET_S:.2f})")


if __name__ == "__main__":
    main()
