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
    check_report_input(args.path, params)
    render(args.path, params, echo=lambda m: print(m, flush=True))
    return 0


# Parameters that report sets itself: the folder the notebook reads
_FOLDER_PARAMETERS = ("results_dir", "run_dir", "compare_dir")


def check_report_input(path: str, params: dict[str, Any]) -> None:
    """Everything the notebook would read, checked before it runs (so a bad input is one line and nothing is
    written): the folder, every run's summary (a damaged one named), at least one complete run, and the
    parameters: names the notebook has, values the sizing model accepts."""
    from pathlib import Path

    import papermill

    from loadsim.errors import ResultsError
    from loadsim.report.render import notebook_for
    from loadsim.results.reader import INCOMPLETE, find_runs, read_summary

    folder = Path(path)
    if not folder.is_dir():
        raise ResultsError(f"'{folder}' does not exist or is not a folder; give a run, sweep or compare-tls folder")
    summaries = [read_summary(run) for run in find_runs(folder)]  # a damaged one: its name and key, one line
    nb = notebook_for(folder)
    if nb.name == "tls_vs_plain.ipynb":
        try:
            index = json.loads((folder / "compare.json").read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ResultsError(f"'{folder / 'compare.json'}' is damaged ({exc}); re-run compare-tls") from None
        if not isinstance(index, dict) or not isinstance(index.get("fixed"), list):
            raise ResultsError(f"'{folder / 'compare.json'}' is not a compare-tls index; re-run compare-tls")
    if not any(s.get("complete") for s in summaries):
        raise ResultsError(f"'{folder}': {INCOMPLETE} (no run under it wrote its summary); nothing to report on")
    known = papermill.inspect_notebook(str(nb))
    for name in params:
        if name in _FOLDER_PARAMETERS:
            raise OptionsError(f"-p {name}: report sets it to the folder given; leave it out")
        if name not in known:
            names = ", ".join(n for n in known if n not in _FOLDER_PARAMETERS) or "none"
            raise OptionsError(f"-p {name}: {nb.stem} report has no such parameter; its parameters: {names}")
    if nb.name == "sizing.ipynb":
        _check_sizing_parameters(params)


def _check_sizing_parameters(params: dict[str, Any]) -> None:
    """The target deployment the sizing notebook will build, built here first (same checks as ``plan``)."""
    from loadsim.cli.plan import deployment_from_args

    given = {k: v for k, v in params.items() if v is not None}
    texts, flags = ("complexity", "key_layout", "estate", "redis_version", "allocator"), ("aof", "n_plus_1", "tls")
    for name, value in given.items():
        if name in texts:
            if not isinstance(value, str):
                raise OptionsError(f"-p {name}={value!r}: give a text, e.g. -p {name}='\"...\"'")
        elif isinstance(value, bool) != (name in flags) or not isinstance(value, (int, float)):
            kind = "true or false" if name in flags else "a number"
            raise OptionsError(f"-p {name}={value!r}: give {kind}, e.g. -p {name}="
                               f"{'true' if name in flags else '12'}")
    try:
        deployment_from_args(argparse.Namespace(**given))
    except OptionsError as exc:
        shown = " ".join(f"-p {k}={json.dumps(v)}" for k, v in given.items())
        raise OptionsError(f"{shown}: {exc}") from None
