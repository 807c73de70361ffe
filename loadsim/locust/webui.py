"""The live Redis Cluster and persistence view in Locust's web UI: ``/loadsim/redis`` and its JSON data.

Both hang on Locust's own Flask app (``environment.web_ui.app``). The data are the run's once-a-second
``INFO`` samples of every node (``loadsim.redis.monitor``, the same rows as node_series.csv): per node
used_memory, CPU % of one core, commands/s, connected clients and keys over time, the latest sample of
each, markers for switchovers, and a live projection: the busiest master's memory at steady state
(Little's law population) against maxmemory, and its CPU against the ceiling. Above them, the persistence
operations' µs percentiles from the run's HdrHistograms (Locust's tables round to whole ms). The page draws with
plain canvas code (no scripts from the internet: the UI must work on a closed network).
"""

from __future__ import annotations

import ipaddress
import logging
from importlib import resources
from typing import Any

from loadsim import defaults as D
from loadsim.config.persistence import OPTIONS
from loadsim.config.simulation import SIM_OPTIONS
from loadsim.errors import UserError
from loadsim.results.summary import cpu_seconds, number

SERIES_POINTS = 300  # the last five minutes at one sample a second
LOOPBACK = "127.0.0.1"  # where the web UI listens unless the user asks for another address (--web-host)
# Locust's own fields of its start form, as names of its parsed options (locust/web.py, ``swarm()``): the test's
# shape. Locust's /swarm writes any other parsed option a request names, too (its --html file, for one).
LOCUST_FORM_FIELDS = frozenset({"user_count", "num_users", "spawn_rate", "host", "run_time", "user_classes",
                                "shape_class", "profile"})

log = logging.getLogger("loadsim")


def form_options() -> frozenset[str]:
    """loadsim's options the web form may set (each option's own record says), as parsed-option names."""
    return frozenset({o.dest for o in SIM_OPTIONS if o.form} | {o.dest for o in OPTIONS if o.form and not o.secret})


def form_fields() -> frozenset[str]:
    """Every field a request to /swarm may carry: Locust's test shape and loadsim's settable options."""
    return LOCUST_FORM_FIELDS | form_options()


def refused_fields(posted: list[str], parsed: dict[str, Any]) -> list[str]:
    """The fields of a /swarm request that would set an option the form may not set (pure). A field that names
    no option is ignored by Locust, and here."""
    allowed = form_fields()
    return [key for key in posted if key in parsed and key not in allowed]


def exposure_warning(ns: Any) -> str | None:
    """One line when the web UI listens beyond loopback without Locust's --web-login, else None."""
    if getattr(ns, "web_login", False):
        return None
    host = (getattr(ns, "web_host", "") or "").strip()
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return None
    except ValueError:
        pass  # "" or "*" (every interface) or a host name
    where = f"every interface ({host or '*'})" if host in ("", "*", "0.0.0.0", "::") else host
    return (f"the web UI listens on {where} (port {getattr(ns, 'web_port', '?')}) without --web-login: anyone who "
            "reaches it can start and stop tests; add --web-login, or leave out --web-host (127.0.0.1)")


def node_series(rows: list[dict[str, Any]], points: int = SERIES_POINTS) -> dict[str, dict[str, Any]]:
    """Per node: role and the time series of what the page draws (pure: rows in, numbers out).

    CPU % of one core and commands/s are deltas between consecutive samples of the same node."""
    by_node: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if not r.get("error"):
            by_node.setdefault(r["node"], []).append(r)
    out: dict[str, dict[str, Any]] = {}
    for node, samples in sorted(by_node.items()):
        samples = samples[-(points + 1):]
        series: dict[str, list[float]] = {"t": [], "used_memory": [], "cpu_percent": [], "commands_per_s": [],
                                          "connected_clients": [], "keys": []}
        for prev, cur in zip(samples, samples[1:], strict=False):
            dt = float(cur["time"]) - float(prev["time"])
            if dt <= 0:
                continue
            cpu = cpu_seconds(cur) - cpu_seconds(prev)
            series["t"].append(round(number(cur.get("elapsed_s")), 2))
            series["used_memory"].append(number(cur.get("used_memory")))
            series["cpu_percent"].append(round(100.0 * cpu / dt, 2))
            series["commands_per_s"].append(round((number(cur.get("total_commands_processed"))
                                                   - number(prev.get("total_commands_processed"))) / dt, 1))
            series["connected_clients"].append(number(cur.get("connected_clients")))
            series["keys"].append(number(cur.get("keys")))
        last = samples[-1]
        out[node] = {"role": last.get("role"), "replica_of": last.get("replica_of") or None, "series": series,
                     "repl_offset": number(last.get("master_repl_offset")),
                     "latest": {"used_memory": number(last.get("used_memory")), "keys": int(number(last.get("keys"))),
                                "connected_clients": int(number(last.get("connected_clients"))),
                                "cpu_percent": series["cpu_percent"][-1] if series["cpu_percent"] else None,
                                "commands_per_s": series["commands_per_s"][-1] if series["commands_per_s"] else None}}
    return out


def operations(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per persistence operation: count, errors and µs percentiles from intended start, steady window
    (the HdrHistograms the summary reports; Locust's own tables round to whole milliseconds)."""
    out = {}
    for name, op in summary.items():
        lat = op["latency_us"]
        if lat["count"] or op["errors"]:
            out[name] = {"count": lat["count"], "errors": op["errors"],
                         **{k: lat[k] for k in ("p50", "p90", "p99", "p999", "max")}}
    return out


def replication_lag(nodes: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Per replica: bytes its master has written that it has not applied yet (latest samples; None when its
    master is not among the sampled nodes)."""
    lag: dict[str, float | None] = {}
    for name, node in nodes.items():
        master = nodes.get(node.get("replica_of") or "")
        if node["role"] == "replica":
            lag[name] = max(0.0, master["repl_offset"] - node["repl_offset"]) if master else None
    return lag


def projection(nodes: dict[str, dict[str, Any]], live_now: float, live_expected: float,
               node_ram_bytes: float = D.value("node_ram_bytes"),
               maxmemory_fraction: float = D.value("maxmemory_fraction"),
               cpu_ceiling: float = D.value("cpu_ceiling")) -> dict[str, Any]:
    """The verdict so far: the busiest master's used_memory scaled to the steady-state population (Little's
    law), against maxmemory of a node of the given RAM, and its CPU against the ceiling (pure)."""
    masters = {n: v for n, v in nodes.items() if v["role"] == "master"}
    if not masters or live_now <= 0:
        return {"ready": False, "reason": "waiting for sessions and server samples"}
    busiest = max(masters.values(), key=lambda v: v["latest"]["used_memory"])
    memory_now = busiest["latest"]["used_memory"]
    memory_steady = memory_now * max(1.0, live_expected / live_now)
    cpu = max((v["latest"]["cpu_percent"] or 0.0) for v in masters.values())
    maxmemory = node_ram_bytes * maxmemory_fraction
    memory_ok, cpu_ok = memory_steady <= maxmemory, cpu <= 100 * cpu_ceiling
    return {"ready": True, "memory_now": memory_now, "memory_steady": memory_steady, "maxmemory": maxmemory,
            "memory_margin": 1 - memory_steady / maxmemory, "cpu_percent": cpu, "cpu_ceiling_percent":
            100 * cpu_ceiling, "cpu_headroom": 100 * cpu_ceiling - cpu,
            "verdict": "PASS so far" if memory_ok and cpu_ok else
            ("FAIL so far: memory" if not memory_ok else "FAIL so far: CPU")}


def register(environment: Any, runtime: Any) -> None:
    """Add the page and its data to Locust's web UI (no-op when there is no web UI)."""
    web_ui = getattr(environment, "web_ui", None)
    if web_ui is None:
        return
    from flask import jsonify

    page = resources.files("loadsim.locust").joinpath("redis_view.html").read_text(encoding="utf-8")
    guard_swarm(web_ui, runtime)

    @web_ui.app.route("/loadsim/redis")
    def loadsim_redis_page() -> Any:
        return page

    @web_ui.app.route("/loadsim/redis/data")
    def loadsim_redis_data() -> Any:
        run = runtime.run or runtime.last_run
        if run is None:
            return jsonify({"running": False, "nodes": {}, "projection": {"ready": False,
                                                                           "reason": "no test started yet"}})
        nodes = node_series(run.node_rows)
        live_now, _ = run.live_now()
        markers = []
        switch_at = run.engine.sim.get("switchover_at")
        if switch_at:
            markers.append({"t": switch_at, "label": "switchover"})
        return jsonify({"running": runtime.run is not None, "results": str(run.path), "nodes": nodes,
                        "markers": markers, "operations": operations(run.recorder.operations_summary()),
                        "replication_lag_bytes": replication_lag(nodes),
                        "projection": projection(nodes, live_now, run.engine.describe()["expected_live_sessions"])})


def guard_swarm(web_ui: Any, runtime: Any) -> None:
    """Wrap Locust's /swarm: a request that names an option the form may not set, or a value loadsim refuses, gets
    Locust's own failure reply (``success: false`` and a message, which the page shows under the form), and
    nothing starts. Locust's login, when on, still comes first."""
    from flask import jsonify, request

    endpoint = next(rule.endpoint for rule in web_ui.app.url_map.iter_rules() if rule.rule.endswith("/swarm"))
    swarm = web_ui.app.view_functions[endpoint]

    def guarded_swarm(*args: Any, **kwargs: Any) -> Any:
        parsed = vars(runtime.namespace)
        refused = refused_fields(list(request.form), parsed)
        if refused:
            names = ", ".join(f"--{key.replace('_', '-')}" for key in refused)
            message = (f"{names}: not settable from the web UI (options that name files, folders, programs or "
                       "where to connect keep the value given at start); restart locust with the value instead")
            log.warning("refused a test from the web UI: %s", message)
            return jsonify({"success": False, "message": message, "host": runtime.environment.host})
        settable = form_options()
        fields = {key: request.form.get(key, "") for key in request.form if key in settable}
        if request.form.get("user_count", "").strip().isdigit():  # else Locust refuses it with its own message
            fields["num_users"] = request.form["user_count"].strip()
        try:
            runtime.check_form(fields)
        except (UserError, ValueError) as exc:
            message = f"{str(exc).rstrip('.')}; nothing was started: fix the form and start again"
            log.error("loadsim: error: %s", message)
            return jsonify({"success": False, "message": message, "host": runtime.environment.host})
        return swarm(*args, **kwargs)

    web_ui.app.view_functions[endpoint] = web_ui.auth_required_if_enabled(guarded_swarm)
