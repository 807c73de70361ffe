"""``loadsim explain [TERM]``: what a word of a run's text means (ahead, stale, a flag ...), and what to do next."""

from __future__ import annotations

import argparse
from typing import Any

from loadsim.errors import OptionsError
from loadsim.results.glossary import GLOSSARY, explain

# words the text uses for a group of terms
_GROUPS = {"readback": ("current", "stale", "ahead", "missing", "corrupt", "never acknowledged", "unreadable"),
           "runclass": ("clean run", "rig-bound", "redis-bound", "fault"),
           "flags": ("generator_saturated", "schedule_fell_behind", "errors", "no_steady_state", "cluster_down",
                     "master_fault", "writes_paused")}


def register(sub: Any) -> None:
    p = sub.add_parser("explain", help="what a term of the results means (ahead, stale, a flag ...)",
                       description="The glossary of loadsim's results: every term the text prints, and for each "
                                   "flag what to do next. Without a term: all of them.")
    p.add_argument("term", nargs="*", help="a term, e.g. ahead, 'never acknowledged', schedule_fell_behind, "
                                           "read-back or flags")
    p.set_defaults(func=_cmd)


def _cmd(args: argparse.Namespace) -> int:
    term = " ".join(args.term)
    if not term:
        names: tuple[str, ...] = tuple(GLOSSARY)
    else:
        group = "".join(ch for ch in term.lower() if ch.isalnum())
        names = _GROUPS.get(group, (term,))
    width = max(len(n) for n in names) + 2
    for name in names:
        found = explain(name)
        if found is None:
            raise OptionsError(f"no term '{term}' in the glossary; 'loadsim explain' lists every term")
        print(f"{found[0]:<{width}}{found[1]}")
    return 0
