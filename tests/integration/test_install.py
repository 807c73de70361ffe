"""A non-editable install works outside the checkout: the wheel carries the scenarios and notebooks.

Builds the wheel, installs it (with the notebooks extra) into a fresh virtual environment, and from a
folder that is not the checkout, with PYTHONPATH unset: `loadsim plan`, a 5 s headless Locust run of the
bundled scenario on the embedded cluster, and `loadsim report` on that run.
"""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(cmd, cwd, env, timeout=300):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, f"{cmd[:3]} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)], base, env)
    wheel = next(wheels.glob("loadsim-*.whl"))
    target = base / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    # dependencies come from the package index (pip's cache makes this quick after `make setup`)
    _run([str(target / "bin" / "pip"), "install", "-q", f"{wheel}[notebooks]"], base, env, timeout=900)
    work = base / "elsewhere"
    work.mkdir()
    return target / "bin", work, env


def test_wheel_holds_the_bundled_scenarios_and_notebooks(installed):
    bin_dir, work, env = installed
    path = _run([str(bin_dir / "loadsim"), "scenario-path", "ha9"], work, env).stdout.strip()
    assert path.endswith("site-packages/loadsim/scenarios/ha9.py") and Path(path).is_file()
    assert not path.startswith(str(ROOT))
    names = _run([str(bin_dir / "loadsim"), "scenario-path"], work, env).stdout.split()
    assert "ha9" in names


def test_plan_run_and_report_from_another_folder(installed):
    bin_dir, work, env = installed
    plan = _run([str(bin_dir / "loadsim"), "plan"], work, env)
    assert "PASS: 9 HA pairs on 3 masters" in plan.stdout
    scenario = _run([str(bin_dir / "loadsim"), "scenario-path", "ha9"], work, env).stdout.strip()
    out = work / "run"
    _run([str(bin_dir / "locust"), "-f", scenario, "--headless", "-t", "5s", "-u", "2", "--only-summary",
          "--results-dir", str(out)], work, env, timeout=180)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] and summary["server"]["commands"] == summary["server"]["commands_client_counted"] > 0
    report = _run([str(bin_dir / "loadsim"), "report", str(out)], work, env, timeout=300)
    assert (out / "report.html").stat().st_size > 10_000 and "report:" in report.stdout
    # the notebooks extra brings JupyterLab, for working in the notebooks (make notebook)
    assert _run([str(bin_dir / "jupyter"), "lab", "--version"], work, env).stdout.strip()[0].isdigit()
