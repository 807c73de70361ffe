"""Regenerate the tables in docs/ that are generated from the code, and the sizing notebook's parameter lines (the
tests say when to run this).

    .venv/bin/python scripts/update_docs.py
"""

from __future__ import annotations

import re
import sys
from dataclasses import fields
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


def sync_sizing_parameters() -> None:
    """The sizing notebook's parameters cell has a line per question field (`loadsim plan`'s flags, the rows of
    loadsim.options): a field added to the question gets its line here, before ``node_ram_gib``."""
    import nbformat

    from loadsim.model.question import NOT_FLAGS, Deployment, option_of
    from loadsim.paths import notebook_file

    path = notebook_file("sizing")
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", []))
    lines = cell.source.split("\n")
    have = {line.split("=")[0].strip() for line in lines if "=" in line and not line.startswith("#")}
    missing = [f.name for f in fields(Deployment) if f.name not in NOT_FLAGS and f.name not in have]
    if not missing:
        return
    at = next(i for i, line in enumerate(lines) if line.startswith("node_ram_gib"))
    new = [f"{name} = None  # plan's --{option_of(name).name}" if option_of(name) else f"{name} = None"
           for name in missing]
    cell.source = "\n".join(lines[:at] + new + lines[at:])
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    print(f"updated {path.relative_to(ROOT)} (parameters: {', '.join(missing)})")


def main() -> int:
    for doc, marker, render in GENERATED:
        path = ROOT / doc
        new = splice(path.read_text(encoding="utf-8"), marker, render())
        if new != path.read_text(encoding="utf-8"):
            path.write_text(new, encoding="utf-8")
            print(f"updated {doc} ({marker})")
    sync_sizing_parameters()
    return 0


if __name__ == "__main__":
    sys.exit(main())
