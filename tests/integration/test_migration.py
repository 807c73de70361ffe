"""scenarios/migration.py follows the vendor's migration runbook; each step's observation matches the document."""

import subprocess
import sys
from pathlib import Path

from loadsim.results import reader as results

ROOT = Path(__file__).resolve().parents[2]


def test_the_migration_runbook_behaves_as_documented(tmp_path):
    out = tmp_path / "mig"
    proc = subprocess.run([sys.executable, "-m", "locust", "-f", str(ROOT / "scenarios" / "migration.py"),
                           "--headless", "--only-summary", "-t", "27s", "--migration-step", "5",
                           "--worker-threads", "2", "--results-dir", str(out)],
                          capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    s = results.load(out).summary
    steps = s["migration"]
    assert [m["step"] for m in steps] == [0, 1, 1, 2, 3, 4]
    assert all(m["ok"] for m in steps), steps
    by = {(m["step"], m["what"][:10]): m for m in steps}
    assert by[(0, "every appl")]["observed"] == "0 Redis commands"
    assert by[(1, "backups se")]["observed"].startswith("0 of ")  # in-progress sessions not restored
    assert "0 written but not found" in by[(3, "the other ")]["observed"]
    assert by[(4, "rollback: ")]["observed"] == "0 Redis commands after the rollback"
    assert "NOT AS DOCUMENTED" not in proc.stdout and "migration step 3" in proc.stdout
