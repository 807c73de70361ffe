"""``loadsim check``: the connection ORS would make, checked before enabling persistence."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from loadsim import options as O
from loadsim.config.persistence import add_arguments, from_namespace
from loadsim.errors import CheckFailed, OptionsError
from loadsim.options import add_flag


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="check the connection ORS would make (before enabling persistence)",
                       description="Connects with the ORS [persistence] options and reports masters, replicas, "
                                   "slot coverage, Redis version, TLS and auth, then audits each master's "
                                   "configuration (CONFIG GET: maxmemory, maxmemory-policy, appendonly, appendfsync, "
                                   "cluster-node-timeout, cluster-require-full-coverage, maxclients): an eviction "
                                   "policy other than noeviction fails the check; no memory limit, no AOF, no or "
                                   "uneven replicas and too low a maxclients are warnings. Options: flags, LOCUST_* "
                                   "environment variables, or --ors-config FILE with a [persistence] section. "
                                   "Exit 0 ok, 1 check failed, 2 bad options. The password is never printed.")
    add_arguments(p)
    # the options other commands take too: their rows (loadsim.options)
    add_flag(p, O.HA_PAIRS, default=O.HA_PAIRS.default_value, help="For the maxclients rule.")
    add_flag(p, O.WORKER_THREADS, default=O.WORKER_THREADS.default_value,
             help="For the maxclients rule: the estate opens 2 x ha-pairs x worker-threads connections to each master.")
    p.add_argument("--json", action="store_true", help="print the report as JSON (failures stay one line, exit 1)")
    p.add_argument("--fips", action="store_true",
                   help="also make, to every node, the TLS handshake ORS makes in FIPS mode (scxml\\fips-enabled): "
                        "FIPS 140-approved versions, AES-GCM suites and NIST groups only (no ChaCha20, no X25519), "
                        "with this machine's OpenSSL FIPS provider when it has one (OPENSSL_CONF / OPENSSL_MODULES "
                        "as for ORS), else with FIPS-approved settings (said so); fails (exit 1) if a node refuses. "
                        "Needs TLS")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: Any) -> int:
    from loadsim.cli.jsonout import emit
    from loadsim.redis.check import audit_cluster, estate_connections, scrub

    O.HA_PAIRS.check(args.ha_pairs)
    O.WORKER_THREADS.check(args.worker_threads)
    opts = from_namespace(args)
    if args.fips and not opts.tls_enabled:  # before any connection: a flag that needs another
        raise OptionsError("--fips checks the TLS handshake ORS makes in FIPS mode: give tls-enabled = true and "
                           "tls-cacert (FIPS mode needs TLS)")
    fips = None
    report = None

    def as_json() -> dict[str, Any] | None:
        """The report as --json prints it (on failure too: what the check found before it failed)."""
        data: dict[str, Any] = {}
        if report is not None:
            data = {**asdict(report), "masters": len(report.masters), "replicas": len(report.replicas)}
            for key in ("config", "config_not_audited", "replicas_per_master"):
                del data[key]
            data["config"] = {"audited": report.config_not_audited is None,
                              "not_audited": report.config_not_audited, "per_master": report.config,
                              "replicas_per_master": report.replicas_per_master, "ha_pairs": args.ha_pairs,
                              "worker_threads": args.worker_threads,
                              "estate_connections_per_node": estate_connections(args.ha_pairs, args.worker_threads)}
        if fips is not None:
            data["fips"] = fips.as_dict()
        return json.loads(scrub(json.dumps(data), opts.password)) if data else None

    try:
        report, errors = audit_cluster(opts, args.ha_pairs, args.worker_threads)
        if errors:
            raise CheckFailed(scrub("; ".join(errors), opts.password))
        if args.fips:
            from loadsim.redis.fips import check_fips, refusal

            fips = check_fips(opts, [n.address for n in report.nodes])
            if fips.refused:
                raise CheckFailed(refusal(fips))
    except CheckFailed as exc:
        raise CheckFailed(f"check failed: {exc}", details=as_json()) from None
    if args.json:
        emit(as_json() or {}, secrets=[opts.password])
        return 0
    lines = report.lines()
    if fips is not None:  # before the closing OK line, which then covers FIPS mode too
        lines[-1:-1] = [*fips.lines(), f"FIPS: every node accepts a FIPS-approved TLS handshake ({fips.mode})"]
    print("\n".join(scrub(line, opts.password) for line in lines))
    return 0

