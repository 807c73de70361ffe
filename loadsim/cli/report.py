"""``loadsim report``: execute the sizing or TLS notebook on a results folder."""

from __future__ import annotations

import argparse
import json
from typing import Any

from loadsim.errors import OptionsError


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="execute the sizing or TLS notebook on a results folder -> report.html",
                       description="A sweep/run folder gets notebooks/sizing.ipynb, a compare-tls folder "
                                   "notebooks/tls_vs_plain.ipynb; writes DIR/report.html and DIR/figures/*.png.")
    p.add_argument("path", help="a run, sweep or compare-tls folder")
    p.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="notebook parameter, e.g. -p ha_pairs=12 -p node_ram_gib=16 (JSON values)")
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from loadsim.report.render import render

    params: dict[str, Any] = {}
    for item in args.parameter:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise OptionsError(f"-p '{item}': write NAME=VALUE, e.g. -p ha_pairs=12")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    render(args.path, params, echo=lambda m: print(m, flush=True))
    return 0
