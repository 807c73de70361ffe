"""Writes notebooks/sizing.ipynb and tls_vs_plain.ipynb from the cells below (run after editing them).

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
                  "print('only a lower bound (every step passed; add --saturation-steps):', "
                  "index['analysis'].get('max_sustained_is_lower_bound'))\n"
                  "sat"),
    new_code_cell("fig = tlsreport.plot_saturation(sat, spec['slo_p99_us'])\n"
                  "fig.savefig(figures / 'tls_saturation.png', dpi=110, bbox_inches='tight')"),
    new_markdown_cell("## Connection set-up and the redis-benchmark cross-check"),
    new_code_cell("tlsreport.cross_check_table(index)"),
    new_markdown_cell("## Sizing consequence: masters needed with and without TLS"),
    new_code_cell("tlsreport.sizing_consequence(d, index)"),
]


SIZING_CELLS = [
    new_markdown_cell("# Sizing: do 3 Redis masters handle 9 ORS HA pairs?\n\n"
                      "Unit costs are measured on the runs in `results_dir`, a model is fitted and the target "
                      "deployment below is predicted from it. Every assumption is listed; change the parameters "
                      "(`loadsim report DIR` passes them to papermill) to size your own deployment."),
    new_code_cell("results_dir = '.'\n"
                  "ha_pairs = 9\n"
                  "masters = 3\n"
                  "replicas = 1\n"
                  "cps_per_pair = 5.0\n"
                  "aht_s = 180.0\n"
                  "complexity = 'standard'\n"
                  "key_layout = 'per-session'\n"
                  "node_ram_gib = 8.0\n"
                  "aof = True\n"
                  "tls = False  # fit unit costs on the runs with this TLS setting", metadata={"tags": ["parameters"]}),
    new_code_cell("from pathlib import Path\n"
                  "\n"
                  "from loadsim import report, sizing\n"
                  "\n"
                  "figures = Path(results_dir) / 'figures'\n"
                  "figures.mkdir(exist_ok=True)\n"
                  "target = sizing.Deployment(ha_pairs=ha_pairs, masters=masters, replicas=replicas, "
                  "cps_per_pair=cps_per_pair, aht_s=aht_s, complexity=complexity, key_layout=key_layout, "
                  "node_ram_bytes=node_ram_gib * sizing.GIB, aof=aof)\n"
                  "summaries = report.load_summaries(results_dir)\n"
                  "runs = report.run_table(summaries)\n"
                  "runs"),
    new_markdown_cell("## Assumptions (target deployment)"),
    new_code_cell("report.assumptions_table(target)"),
    new_markdown_cell("## Unit costs measured on the runs"),
    new_code_cell("costs, how = report.costs_or_default(report.select(summaries, tls=tls) "
                  "if any(bool(s['cluster'].get('tls')) == tls for s in summaries) else summaries)\n"
                  "print('unit costs:', how)\n"
                  "report.costs_table(costs)"),
    new_markdown_cell("## Verdict"),
    new_code_cell("verdict = sizing.verdict(target, costs)\n"
                  "print(verdict.text())"),
    new_markdown_cell("## Curves"),
    new_code_cell("report.plot_memory_curves(target, costs).savefig(figures / 'memory_per_node.png', dpi=110, "
                  "bbox_inches='tight')"),
    new_code_cell("report.plot_recommended_masters(target, costs).savefig(figures / 'recommended_masters.png', "
                  "dpi=110, bbox_inches='tight')"),
    new_code_cell("report.plot_measured(runs, 'p99_update_us', 'p99 session.update, µs', "
                  "'Measured p99 latency vs HA pairs').savefig(figures / 'p99_vs_ha_pairs.png', dpi=110, "
                  "bbox_inches='tight')"),
    new_code_cell("report.plot_measured(runs, 'busiest_master_cpu', 'busiest master CPU, share of a core', "
                  "'Measured CPU per master').savefig(figures / 'cpu_per_master.png', dpi=110, "
                  "bbox_inches='tight')"),
]


def main() -> None:
    meta = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    for name, cells in (("tls_vs_plain.ipynb", TLS_CELLS), ("sizing.ipynb", SIZING_CELLS)):
        nbformat.write(new_notebook(cells=cells, metadata=meta), ROOT / "notebooks" / name)


if __name__ == "__main__":
    main()
