"""The generated tables in docs/ agree with the code (regenerate: python scripts/update_docs.py)."""

import re
from pathlib import Path

import pytest

from loadsim.docs_tables import GENERATED

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("doc", "marker", "render"), GENERATED, ids=[f"{d}:{m}" for d, m, _ in GENERATED])
def test_generated_table_matches_the_code(doc, marker, render):
    text = (ROOT / doc).read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker}:begin -->\n(.*?)\n?<!-- {marker}:end -->", text, re.S)
    assert found, f"{doc} lost its <!-- {marker}:begin/end --> markers"
    assert found.group(1) == render(), f"{doc} ({marker}) disagrees with the code: run scripts/update_docs.py"
