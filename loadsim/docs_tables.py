"""Tables in docs/ generated from the code: (document, marker, renderer). ``scripts/update_docs.py``
writes them; ``tests/unit/test_docs.py`` fails when a document and the code disagree."""

from __future__ import annotations

from collections.abc import Callable

from loadsim.defaults import defaults_table, presets_table
from loadsim.results.schema import markdown_table as summary_keys_table
from loadsim.results.shapes import markdown as json_shapes

GENERATED: list[tuple[str, str, Callable[[], str]]] = [
    ("docs/results.md", "schema", summary_keys_table),
    ("docs/results.md", "json-shapes", json_shapes),
    ("docs/workload.md", "presets", presets_table),
    ("docs/workload.md", "defaults", defaults_table),
]
