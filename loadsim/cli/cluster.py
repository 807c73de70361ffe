"""``loadsim cluster up|status|down``: the embedded Redis Cluster."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from loadsim.defaults import value

DEFAULT_STATE = ".loadsim/cluster"
NODE_TIMEOUT_MS = value("cluster_node_timeout_ms")


def register(sub: Any) -> None:
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
    up.add_argument("--cluster-node-timeout", type=int, default=NODE_TIMEOUT_MS, metavar="MS",
                    help=f"cluster-node-timeout in ms (Redis default {NODE_TIMEOUT_MS})")
    up.add_argument("--redis-server", default=None, metavar="PATH",
                    help="the redis-server binary to run (default: the one on PATH); redis-cli is taken from "
                         "the same folder if there is one there, else from PATH")
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
    from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster, redis_binaries

    state = Path(args.state_dir)
    if args.action == "up":
        spec = ClusterSpec(masters=args.masters, replicas=args.replicas, tls=args.tls,
                           mutual_tls=args.mutual_tls, acl=args.acl, aof=args.aof, maxmemory=args.maxmemory,
                           cluster_node_timeout_ms=args.cluster_node_timeout, redis_server=args.redis_server)
        spec.validate()
        redis_binaries(spec.redis_server)  # a bad --redis-server: one line before anything starts
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
