"""``loadsim report DIR``: execute a notebook headless on a results folder, write report.html + PNGs.

A folder with ``compare.json`` (from ``loadsim compare-tls``) gets the TLS notebook; any other folder
of runs (a run, a sweep) gets the sizing notebook. Both ship in the package (``loadsim.paths``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loadsim.errors import ResultsError
from loadsim.paths import notebook_file
from loadsim.results.reader import find_runs
from loadsim.results.writer import atomic_write, write_problem


@contextlib.contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send this process's stderr, and so the kernel's it starts (it inherits the descriptor), to ``path``:
    the kernel's start-up warnings and shut-down noise belong in a log, not in the user's terminal."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def notebook_for(folder: Path) -> Path:
    """The TLS notebook for a compare-tls folder, the recovery notebook for one run with faults, switchovers,
    failovers or the migration runbook, the sizing notebook for any other folder of runs."""
    if (folder / "compare.json").exists():
        return notebook_file("tls_vs_plain")
    summary = folder / "summary.json"
    if summary.exists():
        from loadsim.report.recovery import EVENT_KEYS

        try:
            data = json.loads(summary.read_text())
        except (OSError, ValueError):
            data = {}
        if any(data.get(k) for k in EVENT_KEYS):
            return notebook_file("recovery")
    return notebook_file("sizing")


def render(folder: str | Path, parameters: dict[str, Any] | None = None, echo: Any = print) -> Path:
    """Execute the right notebook on ``folder``; write ``report.ipynb``, ``report.html``, ``figures/``."""
    import nbformat
    import papermill

    folder = Path(folder).resolve()
    if not folder.is_dir():
        raise ResultsError(f"'{folder}' does not exist or is not a folder; give a run, sweep or compare folder")
    nb = notebook_for(folder)
    if nb.name == "sizing.ipynb":
        find_runs(folder)  # fails early, in one line, if there is nothing to report on
        # headless: no live what-if controls (they need a kernel to talk to; the HTML shows the report's question)
        params = {"results_dir": str(folder), **(parameters or {}), "what_if": False}
    elif nb.name == "recovery.ipynb":
        params = {"run_dir": str(folder), **(parameters or {})}
    else:
        params = {"compare_dir": str(folder), **(parameters or {})}
    echo(f"executing {nb.name} on {folder} ...")
    t0 = time.monotonic()
    # Written under temporary names and renamed only once all of it is written: a failure (a cell, a full
    # disk) leaves an earlier report of this folder as it was, and no empty report files.
    executed, log = folder / f".report-{os.getpid()}.ipynb", folder / f".report-{os.getpid()}.log"
    elsewhere = "copy the results to a folder"
    try:
        (folder / "figures").mkdir(exist_ok=True)
        try:
            with _stderr_to(log), _document_kernel():
                papermill.execute_notebook(str(nb), str(executed), parameters=params, kernel_name="python3",
                                           progress_bar=False, cwd=str(folder), log_output=False,
                                           stdout_file=None, stderr_file=None)
        except papermill.PapermillExecutionError as exc:
            failed_nb, failed_log = folder / "report-failed.ipynb", folder / "report-failed.log"
            os.replace(executed, failed_nb)
            os.replace(log, failed_log)
            raise ResultsError(f"the report notebook failed in {cell_name(nb, exc.source)}: "
                               f"{exc.ename}: {exc.evalue}; see {failed_nb} and {failed_log}") from None
        html, _ = document_exporter().from_notebook_node(nbformat.read(executed, as_version=4))
        atomic_write(folder / "report.html", html)
        os.replace(executed, folder / "report.ipynb")
        os.replace(log, folder / "report.log")
    except OSError as exc:
        raise write_problem(folder, exc, elsewhere) from None
    finally:
        executed.unlink(missing_ok=True)
        log.unlink(missing_ok=True)
    echo(f"report: {folder / 'report.html'} ({time.monotonic() - t0:.1f} s), figures in {folder / 'figures'}")
    return folder / "report.html"


def document_number(value: float) -> str:
    """A float as a report prints it: 12,345 / 123.4 / 2.35 / 0.0123, never 20 digits or nan."""
    if not math.isfinite(value):
        return "-"
    size = abs(value)
    if size >= 1000 or value == int(value):
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:,.1f}"
    if size >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def document_cell(value: Any) -> Any:
    """A table cell as a report prints it: every number (int or float, not a bool) as ``document_number`` (so
    ``2,187`` beside ``2,734``, never ``2187``), a missing value (None, NaN) as ``-``; anything else as it is."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return document_number(float(value))


def document_table_html(frame: Any) -> str:
    """A DataFrame as the report's HTML table: every cell through ``document_cell`` (no ``NaN``, one number
    format), the index's and columns' labels as they are."""
    import pandas as pd

    if isinstance(frame.index, pd.RangeIndex):  # a row number says nothing in a document
        return frame.map(document_cell).to_html(index=False, notebook=True)
    return frame.map(document_cell).to_html(notebook=True)


# run by the report's kernel at start-up (IPython's startup folder): every table the notebooks show is formatted
_KERNEL_STARTUP = """\
import pandas as _pd
from loadsim.report.render import document_number as _number, document_table_html as _table
_pd.set_option("display.float_format", _number)
get_ipython().display_formatter.formatters["text/html"].for_type(_pd.DataFrame, _table)
_pd.set_option("display.max_colwidth", None)  # a cell is shown whole: never "(as the ratio t..."
"""


@contextlib.contextmanager
def _document_kernel() -> Iterator[None]:
    """The report's kernel formats numbers for people (``document_number``) in every DataFrame the notebooks
    display, without each notebook having to: a private IPython folder whose startup script sets pandas'
    float format (the kernel inherits IPYTHONDIR). A user's own IPython profile is left out of reports."""
    import tempfile

    saved = os.environ.get("IPYTHONDIR")
    with tempfile.TemporaryDirectory(prefix="loadsim-ipython-") as home:
        startup = Path(home) / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-loadsim-report.py").write_text(_KERNEL_STARTUP, encoding="utf-8")
        os.environ["IPYTHONDIR"] = home
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("IPYTHONDIR", None)
            else:
                os.environ["IPYTHONDIR"] = saved


def document_exporter() -> Any:
    """nbconvert's HTML exporter set to write a document: no code, no ``In [..]`` / ``Out[..]`` prompts."""
    from nbconvert import HTMLExporter

    return HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)


def cell_name(template: Path, source: str) -> str:
    """The failing cell as JupyterLab numbers it on the template after Run All: ``cell [3]``, the template's
    third code cell, found by its source (the executed copy's numbers are shifted by papermill's injected
    parameters cell), with its first line and the template's name."""
    import nbformat

    first = next((line.strip() for line in source.splitlines() if line.strip()), "")
    try:
        code = [c.source for c in nbformat.read(template, as_version=4).cells if c.cell_type == "code"]
    except (OSError, ValueError):
        code = []
    where = f"cell [{code.index(source) + 1}]" if source in code else "a cell"
    return f"{where} of {template.name} ('{first[:60]}')"
