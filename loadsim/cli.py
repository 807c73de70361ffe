"""The ``loadsim`` command line.

One ``_add_<name>(subparsers)`` + ``_cmd_<name>(args) -> int`` pair per subcommand, registered in
``COMMANDS`` (or, for a subcommand in its own module, an ``add_<name>`` listed in ``_optional_commands``).
Every error a user can cause prints one line ``loadsim: error: ...`` with no traceback. Exit codes:
0 ok, 1 a check failed (``loadsim check``: ``CheckFailed``), 2 bad input or a cluster/results error,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from .cluster import ClusterError, ClusterSpec, EmbeddedCluster
from .options import OptionsError
from .results import ResultsError, find_runs, load, summary_table
from .sweep import SweepError

DEFAULT_STATE = ".loadsim/cluster"
USER_ERRORS: tuple[type[Exception], ...] = (OptionsError, ClusterError, ResultsError, SweepError, ValueError,
                                            OSError)


class CheckFailed(RuntimeError):
    """A check ran and found a problem (exit 1); the message is one line naming the problem and the fix."""


def _err(message: str) -> None:
    print(f"loadsim: error: {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------ cluster
def _add_cluster(sub: Any) -> None:
    p = sub.add_parser("cluster", help="start, inspect and stop an embedded local Redis Cluster",
                       description="An embedded Redis Cluster of real redis-server processes on 127.0.0.1.")
    csub = p.add_subparsers(dest="action", required=True, metavar="up|status|down")
    up = csub.add_parser("up", help="start a cluster (kept running until 'down')")
    up.add_argument("--masters", type=int, default=3, help="masters (default 3, at least 3)")
    up.add_argument("--replicas", type=int, default=0, help="replicas per master (default 0)")
    up.add_argument("--tls", action="store_true", help="TLS on client, replication and cluster bus ports")
    up.add_argument("--mutual-tls", action="store_true", help="clients must present a certificate (needs --tls)")
    up.add_argument("--acl", action="store_true",
                    help="default user off; user 'ors' limited to ORS:* keys and the commands ORS needs")
    up.add_argument("--aof", action="store_true", help="append-only file, fsync every second")
    up.add_argument("--maxmemory", default=None, help="per node, e.g. 512mb (policy noeviction)")
    up.add_argument("--cluster-node-timeout", type=int, default=15000, metavar="MS",
                    help="cluster-node-timeout in ms (Redis default 15000)")
    csub.add_parser("status", help="table of the nodes of --state-dir: pid, alive, role, cluster_state")
    csub.add_parser("down", help="stop every redis-server of --state-dir (SIGTERM, then SIGKILL); node logs "
                                 "and data stay in <state-dir>/node-*/ for inspection, remove the folder when done")
    for parser in (up, *csub.choices.values()):
        if not any(a.dest == "state_dir" for a in parser._actions):
            parser.add_argument("--state-dir", default=DEFAULT_STATE,
                                help=f"folder of the cluster's state, logs, certificates (default {DEFAULT_STATE})")
    p.set_defaults(func=_cmd_cluster)


def _print_nodes(rows: list[dict[str, Any]]) -> None:
    print(f"{'node':>4}  {'address':<21}{'pid':>8}  {'alive':<6}{'role':<9}cluster_state")
    for r in rows:
        print(f"{r['node']:>4}  {r['address']:<21}{r['pid']:>8}  {str(r['alive']):<6}{r['role']:<9}"
              f"{r['cluster_state']}")


def _cmd_cluster(args: argparse.Namespace) -> int:
    state = Path(args.state_dir)
    if args.action == "up":
        spec = ClusterSpec(masters=args.masters, replicas=args.replicas, tls=args.tls or args.mutual_tls,
                           mutual_tls=args.mutual_tls, acl=args.acl, aof=args.aof, maxmemory=args.maxmemory,
                           cluster_node_timeout_ms=args.cluster_node_timeout)
        total = spec.masters * (1 + spec.replicas)
        print(f"starting {total} redis-server processes ({spec.masters} masters, {spec.replicas} replicas each"
              f"{', TLS' if spec.tls else ''}{', mutual TLS' if spec.mutual_tls else ''}{', ACL' if spec.acl else ''}"
              f"{', AOF' if spec.aof else ''}) in {state} ...", flush=True)
        cluster = EmbeddedCluster(spec, state).start(echo=lambda m: print("  " + m, flush=True))
        _print_nodes(cluster.status())
        opts = cluster.options
        held = "mode 0600, it holds the password" if spec.acl else "mode 0600"
        print(f"\ncluster_state:ok. ORS options ({held}): {state / 'ors.ini'}")
        print(f"  redis-nodes = {','.join(str(n) for n in opts.redis_nodes)}")
        if spec.acl:
            print(f"  username = {opts.username}  (password: see {state / 'ors.ini'})")
        cli = f"redis-cli -c -p {cluster.nodes[0].port}"
        if spec.tls:
            t = cluster.tls_dir
            print(f"  tls-enabled = true, tls-cacert = {t / 'ca.crt'}")
            if spec.mutual_tls:
                print(f"  tls-cert = {t / 'client.crt'}, tls-key = {t / 'client.key'}")
            cli += f" --tls --cacert {t / 'ca.crt'} --cert {t / 'client.crt'} --key {t / 'client.key'}"
        if spec.acl:
            cli = f"REDISCLI_AUTH=<password> {cli} --user {opts.username}"
        print(f"\ncheck it:  loadsim check --ors-config {state / 'ors.ini'}\nreach it:  {cli}")
        print(f"stop it:   loadsim cluster down --state-dir {state}")
        return 0
    cluster = EmbeddedCluster.load(state)
    if args.action == "status":
        _print_nodes(cluster.status())
        return 0
    stopped = cluster.stop()
    print(f"stopped {len(stopped)} redis-server processes: {' '.join(map(str, stopped)) or '(none were running)'}")
    print(f"node logs and data stay in {state}/node-*/ (remove the folder when done)")
    return 0


# ------------------------------------------------------------------------------------------ results
def _add_results(sub: Any) -> None:
    p = sub.add_parser("results", help="show the results of runs")
    rsub = p.add_subparsers(dest="action", required=True, metavar="show")
    show = rsub.add_parser("show", help="print a run's summary as a table (or every run of a sweep)")
    show.add_argument("path", help="a run folder, a sweep folder or a folder of runs")
    p.set_defaults(func=_cmd_results)


def _cmd_results(args: argparse.Namespace) -> int:
    for i, run in enumerate(find_runs(args.path)):
        if i:
            print("\n" + "-" * 100)
        print(summary_table(load(run).summary) + f"\n\nresults: {run}")
    return 0


# ------------------------------------------------------------------------------------------ sweep
def _add_sweep(sub: Any) -> None:
    p = sub.add_parser("sweep", help="run a grid of real runs (HA pairs x masters x replicas x TLS x repeats)",
                       description="Each point gets a fresh embedded cluster and a headless Locust run; "
                                   "one results folder per point plus sweep.json. Extra Locust/scenario "
                                   "options go after '--', e.g. -- --aht 60 --cps-per-pair 10")
    p.add_argument("--ha-pairs", default="1,3,9", help="comma list (default 1,3,9)")
    p.add_argument("--masters", default="3", help="comma list (default 3)")
    p.add_argument("--replicas", default="0", help="comma list (default 0)")
    p.add_argument("--tls", default="off", help="comma list of off/on (default off)")
    p.add_argument("--complexity", default="standard", help="comma list of presets (default standard)")
    p.add_argument("--cps-per-pair", default=None, help="comma list (default: the scenario's)")
    p.add_argument("--repeats", type=int, default=1, help="repeats of every point (default 1)")
    p.add_argument("--run-time", default="60s", help="per point, Locust syntax (default 60s)")
    p.add_argument("--scenario", default="ha9", help="scenario name in scenarios/ or a .py path (default ha9)")
    p.add_argument("--out", default=None, help="sweep folder (default results/sweep-<timestamp>)")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="after '--': options passed to every run")
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    import time

    from .sweep import Grid, parse_list, parse_onoff, run_sweep

    grid = Grid(ha_pairs=parse_list("ha-pairs", args.ha_pairs, int), masters=parse_list("masters", args.masters, int),
                replicas=parse_list("replicas", args.replicas, int), tls=parse_list("tls", args.tls, parse_onoff),
                complexity=parse_list("complexity", args.complexity, str),
                cps_per_pair=parse_list("cps-per-pair", args.cps_per_pair, float) if args.cps_per_pair else [None],
                repeats=args.repeats)
    if args.repeats < 1 or any(m < 3 for m in grid.masters) or any(p < 1 for p in grid.ha_pairs):
        raise SweepError("--repeats and --ha-pairs must be >= 1 and --masters >= 3")
    extra = [a for a in args.extra if a != "--"]
    for axis in ("--complexity", "--cps-per-pair", "-u", "--users", "--redis-nodes", "--results-dir", "--tls-enabled"):
        if axis in extra:
            raise SweepError(f"'{axis}' after '--' would override the sweep's own axis; give it as a sweep option "
                             "(loadsim sweep --help)")
    out = Path(args.out or f"results/sweep-{time.strftime('%Y%m%d-%H%M%S')}")
    print(f"sweep of {len(grid.points())} runs x {args.run_time} into {out}", flush=True)
    run_sweep(grid, out, args.run_time, args.scenario, extra, echo=lambda m: print(m, flush=True))
    print(f"\nsweep done: {out}\nnext: loadsim report {out}")
    return 0


# ------------------------------------------------------------------------------------------ compare-tls
def _add_compare_tls(sub: Any) -> None:
    p = sub.add_parser("compare-tls", help="what TLS costs: plain vs TLS, interleaved repeats, report-ready",
                       description="Same workload and seed on a plain and a TLS embedded cluster, A/B "
                                   "interleaved, at a fixed load and stepping up to saturation; plus a "
                                   "redis-benchmark cross-check. Render with 'loadsim report OUT'.")
    p.add_argument("scenario", nargs="?", default="ha9", help="scenario name in scenarios/ (default ha9)")
    p.add_argument("--ha-pairs", type=int, default=3)
    p.add_argument("--masters", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3, help="at least 3 (default 3)")
    p.add_argument("--run-time", default="30s")
    p.add_argument("--cps-per-pair", type=float, default=20.0, help="the fixed offered load (default 20)")
    p.add_argument("--complexity", default="standard")
    p.add_argument("--mutual-tls", action="store_true", help="the TLS arm uses client certificates")
    p.add_argument("--slo-p99-us", type=float, default=5000.0, help="p99 SLO for saturation (default 5000 us)")
    p.add_argument("--saturation-steps", type=int, default=4, help="x1.6 load steps per arm (default 4; 0 = none)")
    p.add_argument("--out", default=None, help="folder (default results/compare-tls-<timestamp>)")
    p.set_defaults(func=_cmd_compare_tls)


def _cmd_compare_tls(args: argparse.Namespace) -> int:
    import time

    from .tlscompare import CompareSpec, run_compare

    spec = CompareSpec(ha_pairs=args.ha_pairs, masters=args.masters, repeats=args.repeats, run_time=args.run_time,
                       cps_per_pair=args.cps_per_pair, complexity=args.complexity, mutual_tls=args.mutual_tls,
                       slo_p99_us=args.slo_p99_us, saturation_steps=args.saturation_steps, scenario=args.scenario)
    out = Path(args.out or f"results/compare-tls-{time.strftime('%Y%m%d-%H%M%S')}")
    run_compare(spec, out, echo=lambda m: print(m, flush=True))
    import json

    analysis = json.loads((out / "compare.json").read_text())["analysis"]
    print("\nTLS/plain (95 % CI):")
    for metric, r in analysis["ratios"].items():
        print(f"  {metric:<28} {r['ratio']:.3f}  [{r['ci_low']:.3f}, {r['ci_high']:.3f}]")
    bounds = analysis.get("max_sustained_is_lower_bound", {})
    rates = {arm: (f">= {v}" if bounds.get(arm) else v) for arm, v in analysis["max_sustained_ops_per_s"].items()}
    print(f"max sustained ops/s: {rates}\nnext: loadsim report {out}")
    return 0


# ------------------------------------------------------------------------------------------ main
COMMANDS: list[Callable[[Any], None]] = [_add_cluster, _add_results, _add_sweep, _add_compare_tls]


def _optional_commands() -> list[Callable[[Any], None]]:
    """Subcommands that live in their own modules (check, plan, report)."""
    found = []
    modules = (("loadsim.check", ("add_check",)), ("loadsim.plan_cli", ("add_plan", "add_report", "add_validate")))
    for module, names in modules:
        try:
            mod = __import__(module, fromlist=list(names))
        except ImportError:
            continue
        found += [getattr(mod, n) for n in names if hasattr(mod, n)]
    return found


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (problem + where to look), exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"loadsim: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="loadsim", description="Capacity planning and load simulation for "
                                     "Genesys ORS session persistence on Redis Cluster.")
    parser.add_argument("--version", action="version", version=f"loadsim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in [*COMMANDS, *_optional_commands()]:
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CheckFailed as exc:
        _err(str(exc))
        return 1
    except USER_ERRORS as exc:
        _err(str(exc))
        return 2
    except KeyboardInterrupt:
        _err("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
