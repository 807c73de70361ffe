"""Every picture the README shows is in the repository, as a real PNG (taken from real runs by the scripts in
scripts/: webui-screenshots.py, notebook-screenshot.py, report-screenshots.sh)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_pictures_exist_and_are_pngs():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pictures = re.findall(r'<img src="([^"]+)"', readme) + re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert len(pictures) >= 2
    for rel in pictures:
        data = (ROOT / rel).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, rel
