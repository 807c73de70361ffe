"""``loadsim check``: the connection ORS would make, checked before enabling persistence."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from loadsim.config.persistence import add_arguments, from_namespace
from loadsim.errors import CheckFailed


def register(sub: Any) -> None:
    p = sub.add_parser("check", help="check the connection ORS would make (before enabling persistence)",
                       description="Connects with the ORS [persistence] options and reports masters, replicas, "
                                   "slot coverage, Redis version, TLS and auth. Options: flags, LOCUST_* "
                                   "environment variables, or --ors-config FILE with a [persistence] section. "
                                   "Exit 0 ok, 1 check failed, 2 bad options. The password is never printed.")
    add_arguments(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON (failures stay one line, exit 1)")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: Any) -> int:
    from loadsim.redis.check import run_check, scrub

    opts = from_namespace(args)
    try:
        report = run_check(opts)
    except CheckFailed as exc:
        raise CheckFailed(f"check failed: {exc}") from None
    if args.json:
        data = {**asdict(report), "masters": len(report.masters), "replicas": len(report.replicas)}
        print(scrub(json.dumps(data, indent=2), opts.password))
        return 0
    print("\n".join(scrub(line, opts.password) for line in report.lines()))
    return 0

