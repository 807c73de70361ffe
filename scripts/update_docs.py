"""Regenerate the tables in docs/ that are generated from the code (the tests say when to run this).

    .venv/bin/python scripts/update_docs.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from loadsim.docs_tables import GENERATED  # noqa: E402


def splice(text: str, marker: str, table: str) -> str:
    """``text`` with the part between ``<!-- marker:begin -->`` and ``<!-- marker:end -->`` replaced."""
    pattern = re.compile(rf"(<!-- {marker}:begin -->\n).*?(<!-- {marker}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"no <!-- {marker}:begin/end --> markers found")
    return pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)


def main() -> int:
    for doc, marker, render in GENERATED:
        path = ROOT / doc
        new = splice(path.read_text(encoding="utf-8"), marker, render())
        if new != path.read_text(encoding="utf-8"):
            path.write_text(new, encoding="utf-8")
            print(f"updated {doc} ({marker})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
