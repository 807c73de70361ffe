"""Writes notebooks/tls_vs_plain.ipynb from the cell sources below (run after editing them).

Notebooks stay thin: they load results and call loadsim functions; the logic lives in the package.
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

TLS_CELLS = [
    new_markdown_cell("# TLS vs plain: what TLS between ORS and Redis costs\n\n"
                      "Same workload, same seed, plain and TLS embedded clusters of the same shape, A/B interleaved. "
                      "Ratios are TLS/plain with a 95 % confidence interval from the paired repeats."),
    new_code_cell("compare_dir = '.'", metadata={"tags": ["parameters"]}),
    new_code_cell("import json\n"
                  "from pathlib import Path\n"
                  "\n"
                  "import pandas as pd\n"
                  "\n"
                  "from loadsim import tlsreport\n"
                  "\n"
                  "d = Path(compare_dir)\n"
                  "index = json.loads((d / 'compare.json').read_text())\n"
                  "figures = d / 'figures'\n"
                  "figures.mkdir(exist_ok=True)\n"
                  "spec = index['spec']\n"
                  "pd.DataFrame([spec]).T.rename(columns={0: 'value'})"),
    new_markdown_cell("## Ratios at a fixed offered load"),
    new_code_cell("table = tlsreport.ratio_table(index)\n"
                  "print('both arms achieved the offered load:', index['analysis']['fixed_load_achieved_by_both'])\n"
                  "table"),
    new_code_cell("fig = tlsreport.plot_ratios(table)\n"
                  "fig.savefig(figures / 'tls_ratios.png', dpi=110, bbox_inches='tight')"),
    new_markdown_cell("## Saturation: highest offered rate whose p99 stays under the SLO"),
    new_code_cell("sat = tlsreport.saturation_table(d, index)\n"
                  "print('max sustained ops/s:', index['analysis']['max_sustained_ops_per_s'])\n"
                  "sat"),
    new_code_cell("fig = tlsreport.plot_saturation(sat, spec['slo_p99_us'])\n"
                  "fig.savefig(figures / 'tls_saturation.png', dpi=110, bbox_inches='tight')"),
    new_markdown_cell("## Connection set-up and the redis-benchmark cross-check"),
    new_code_cell("tlsreport.cross_check_table(index)"),
    new_markdown_cell("## Sizing consequence: masters needed with and without TLS"),
    new_code_cell("tlsreport.sizing_consequence(d, index)"),
]


def main() -> None:
    nb = new_notebook(cells=TLS_CELLS, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                  "language": "python"}})
    nbformat.write(nb, ROOT / "notebooks" / "tls_vs_plain.ipynb")


if __name__ == "__main__":
    main()
