"""The Locust path (every process of a load test) imports no pandas, matplotlib, papermill or nbclient."""

import json
import subprocess
import sys

HEAVY = ("pandas", "matplotlib", "papermill", "nbclient", "nbconvert", "scipy")


def test_locust_path_imports_nothing_heavy():
    code = ("import json, sys; import loadsim.locust.users, loadsim.locust.plugin, loadsim.results.summary, "
            "loadsim.results.writer, loadsim.results.text, loadsim.results.schema; "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_the_reader_is_where_pandas_comes_in():
    code = "import json, sys; import loadsim.results.reader; print(json.dumps('pandas' in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout.strip().splitlines()[-1]) is True


def test_the_command_line_loads_its_heavy_parts_only_when_a_command_needs_them():
    code = f"import json, sys; import loadsim.cli; print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and json.loads(proc.stdout.strip().splitlines()[-1]) == []
