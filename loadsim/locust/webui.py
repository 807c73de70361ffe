"""loadsim in Locust's web UI: the Redis Cluster tab, the live view with its charts, and a form that is safe.

Everything hangs on Locust's own web UI (``environment.web_ui``), extended the ways Locust documents: a tab of its
own (``template_args`` ``extended_tabs``/``extended_tables``, its rows added to ``/stats/requests``), routes on its
Flask app, and a script added to its page that groups the start form. The data are the run's once-a-second ``INFO``
samples of every node (``loadsim.redis.monitor``, the same rows as node_series.csv): per node used_memory, CPU % of
one core, commands/s, connected clients and keys over time, markers for switchovers, the persistence operations'
µs percentiles from the run's HdrHistograms (Locust's tables round to whole ms), a live projection while the test
runs, and the sizing verdict on the run's summary once it is written. The page draws with plain canvas code (no
scripts from the internet: the UI must work on a closed network).

The form: /swarm refuses a request that names an option the form may not set (files, folders, programs, where and
as whom to connect: each option's record says) and checks loadsim's values before anything starts.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import logging
import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

from locust.runners import STATE_INIT, STATE_RUNNING, STATE_SPAWNING, STATE_STOPPED

from loadsim import defaults as D
from loadsim.config.persistence import OPTIONS, read_ors_config
from loadsim.config.simulation import GROUPS, REPEATABLE, SIM_OPTIONS
from loadsim.errors import UserError
from loadsim.results.summary import cpu_seconds, number

SERIES_POINTS = 300  # the last five minutes at one sample a second
LOOPBACK = "127.0.0.1"  # where the web UI listens unless the user asks for another address (--web-host)
# Locust's own fields of its start form, as names of its parsed options (locust/web.py, ``swarm()``): the test's
# shape. Locust's /swarm writes any other parsed option a request names, too (its --html file, for one).
LOCUST_FORM_FIELDS = frozenset({"user_count", "num_users", "spawn_rate", "host", "run_time", "user_classes",
                                "shape_class", "profile"})

TAB = "loadsim-redis"  # the key of the Redis Cluster tab in Locust's UI (its URL: /?tab=loadsim-redis)
HA_PAIRS_LABEL = "Number of HA pairs (one Locust user is one HA pair: a primary and a backup ORS node)"
RAMP_LABEL = "Ramp up (HA pairs started per second)"

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


def test_shape_problem(form: Any) -> tuple[str, str] | None:
    """(field, one line) when the form's HA pairs or ramp-up is not a valid number, else None (pure). Locust's page
    sent -1 HA pairs as 1 and started the test."""
    pairs = str(form.get("user_count", "")).strip()
    if not pairs.isdigit() or int(pairs) < 1:
        return "user_count", f"HA pairs: '{pairs}' is not a whole number of 1 or more; give e.g. 9"
    rate_text = str(form.get("spawn_rate", "")).strip()
    try:
        rate = float(rate_text)
    except ValueError:
        rate = float("nan")
    if not (math.isfinite(rate) and rate > 0):
        return "spawn_rate", f"Ramp up: '{rate_text}' is not a number of HA pairs per second above 0; give e.g. 9"
    return None


def resize_problem(runner: Any, form: Any) -> str | None:
    """One line when the form asks a running test for another number of HA pairs (Locust's "Edit"), else None.

    A run is one deployment: its summary, its unit costs and its verdict are for the HA pairs it started with, and
    pairs added mid-run write their pre-fill inside the steady window (seen: 4 pairs, then 2, then 5, with pre-fill:
    2.55 commands per operation in the window against the workload's 1.87, and a summary of 4 HA pairs)."""
    if runner is None or runner.state not in (STATE_SPAWNING, STATE_RUNNING):
        return None
    running = int(getattr(runner, "target_user_count", 0) or 0)
    asked = str(form.get("user_count", "")).strip()
    if not running or asked == str(running):
        return None
    return (f"HA pairs: a running test keeps its {running} (its summary and sizing verdict describe one deployment); "
            f"stop it and start a new test with {asked}")


def field_named(message: str) -> str | None:
    """The form field a refusal names (``--aht: ...``, ``redis-connect-timeout: ...``), else None (pure)."""
    match = re.match(r"(?:--)?([a-z][a-z0-9-]*)[ :]", message)
    if not match:
        return None
    dest = match.group(1).replace("-", "_")
    return dest if dest in form_options() else None


def login_problem(web_ui: Any) -> str | None:
    """One line when Locust's ``--web-login`` is given but nothing logs a user in, else None.

    Locust's --web-login puts its pages behind Flask-Login and leaves the login itself to the locustfile (a user
    loader and a secret key: docs.locust.io, "Adding authentication to the Web UI"). Without one, every request
    failed with an auth traceback in the log and the page showed "Locust auth exception". loadsim's scenarios
    have no login of their own, so a locustfile that wants one registers it (an ``init`` listener added before
    ``scenario(...)``, or at import time) and this check finds it."""
    if web_ui is None or not getattr(web_ui, "web_login", False):
        return None
    manager = getattr(web_ui, "_login_manager", None)
    has_loader = manager is not None and (getattr(manager, "_user_callback", None) is not None
                                          or getattr(manager, "_request_callback", None) is not None)
    if has_loader and web_ui.app.config.get("SECRET_KEY"):
        return None
    return ("--web-login needs a login set up in the locustfile (a user loader and a SECRET_KEY, registered before "
            "scenario(...): see Locust's 'Adding authentication to the Web UI'); loadsim's scenarios have none: "
            "leave out --web-login and keep the web UI on 127.0.0.1 (reach it through an SSH tunnel)")


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
            "reaches it can start and stop tests; leave out --web-host (127.0.0.1) and reach it through an SSH "
            "tunnel, or set up a login in the locustfile and add --web-login")


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
                                "commands_per_s": series["commands_per_s"][-1] if series["commands_per_s"] else None,
                                # the node's maxmemory setting, for the verdict (absent in older rows)
                                **({"maxmemory": number(last["maxmemory"])} if last.get("maxmemory") is not None
                                   else {})}}
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


def projection(nodes: dict[str, dict[str, Any]], live_now: float, params: Any,
               node_ram_bytes: float = D.value("node_ram_bytes"),
               maxmemory_fraction: float = D.value("maxmemory_fraction"),
               cpu_ceiling: float | None = None, tls: bool = False, aof: bool | None = None,
               network_rtt_us: float | None = None, capacity_from: str | None = None) -> dict[str, Any]:
    """The verdict so far: the one assessment ``loadsim plan`` makes (``sizing.verdict``), for the deployment
    being run, built as ``plan --from`` the finished run builds it (``question.own_deployment``: its workload
    ``params``, masters, replicas, TLS, AOF and the production round trip it was given), with the model calibrated
    on the latest samples (used_memory at the live sessions now, CPU per command now) and, for a run given
    ``--capacity-from``, that folder's CPU per command and queueing curve applied as plan applies them
    (``loadsim.results.capacity.with_capacity_of``; the folder is read, nothing else). maxmemory is the cluster's
    own (INFO memory ``maxmemory``, the CONFIG value, readable without CONFIG rights) when set; otherwise the
    plan's assumed node RAM x maxmemory fraction, and the verdict says it is assumed."""
    from loadsim.errors import FitError
    from loadsim.model import sizing as sz
    from loadsim.model.question import cluster_maxmemory, own_deployment
    from loadsim.results.capacity import with_capacity_of

    cpu_ceiling = sz.PLAN_CPU_CEILING if cpu_ceiling is None else cpu_ceiling  # share of one core

    masters = {n: v for n, v in nodes.items() if v["role"] == "master"}
    if not masters or live_now <= 0 or params is None:
        return {"ready": False, "reason": "waiting for sessions and server samples"}
    latest = [v["latest"] for v in masters.values()]
    real = cluster_maxmemory(latest)  # plan --from the finished run reads the same (its masters' maxmemory)
    if real is not None:
        maxmemory, assumed = real, ""
    else:
        maxmemory = node_ram_bytes * maxmemory_fraction
        assumed = (f"maxmemory assumed: {node_ram_bytes / 2**30:.1f} GiB node x {maxmemory_fraction:.0%} "
                   "(the cluster's maxmemory is not set)")
    # the cluster as run (a test cluster without replicas fails the plan's failover requirement, as its final
    # verdict does: one answer for the same deployment)
    # (whole replicas per master, as the summary counts them: 2 replicas for 3 masters is 0 per master)
    replicas = sum(1 for v in nodes.values() if v["role"] == "replica") // len(masters)
    run = sz.MeasuredRun(
        name="live", run_class=sz.IN_PROGRESS, evidence="", tls=tls, ha_pairs=params.ha_pairs,
        masters=len(masters), live_sessions=live_now, used_memory=sum(number(x.get("used_memory")) for x in latest),
        cpu_s=sum(number(x.get("cpu_percent")) for x in latest) / 100, master_seconds=float(len(masters)),
        commands=sum(number(x.get("commands_per_s")) for x in latest),
        operations_steady=0.0, cpu_us_per_command=0.0, workload=params, replicas=replicas)
    try:
        costs = sz.fit_unit_costs([run])
    except FitError as exc:
        return {"ready": False, "reason": f"waiting: {exc}"}
    try:
        costs = with_capacity_of(costs, (capacity_from,), tls)  # checked at start: a folder with capacity.json
        ram = {} if real is not None else {"node_ram_bytes": node_ram_bytes}  # the cluster's maxmemory, or plan's
        d = own_deployment(params, masters=len(masters), replicas=replicas, tls=tls, aof=aof,
                           network_rtt_us=network_rtt_us, maxmemory=real, maxmemory_fraction=maxmemory_fraction,
                           cpu_ceiling=cpu_ceiling, **ram)
    except UserError as exc:  # e.g. a maxmemory below what a plan accepts as a node; a capacity file damaged since
        return {"ready": False, "reason": f"cannot assess this cluster: {exc}"}
    v = sz.verdict(d, costs, with_envelope=False, with_search=False)  # no master count shown: see verdict
    p = v.prediction
    busiest = max(masters.values(), key=lambda x: x["latest"]["used_memory"])
    cpu = max((x["latest"]["cpu_percent"] or 0.0) for x in masters.values())
    failing = [k.name for k in p.constraints if not k.ok]
    notes = [k.text() for k in v.not_assessed] + ([assumed] if assumed else [])
    return {"ready": True, "memory_now": busiest["latest"]["used_memory"], "memory_steady": p.memory_per_master,
            "maxmemory": maxmemory, "maxmemory_assumed": bool(assumed),
            "memory_margin": 1 - p.memory_per_master / maxmemory, "cpu_percent": cpu,
            "cpu_ceiling_percent": 100 * cpu_ceiling, "cpu_headroom": 100 * cpu_ceiling - cpu,
            "constraints": {k.name: k.status for k in p.constraints},
            # the unit cost plan --from the finished run prints too (a capacity folder's when the run was given one)
            "cpu_us_per_command": p.costs.service_s(p.bytes_per_command, p.tls) * 1e6,
            "unit_costs_source": costs.source,
            "verdict": ("PASS so far" if v.passed else f"FAIL so far: {', '.join(failing)}")
            + (f" ({'; '.join(notes)})" if notes else "")}


def register(environment: Any, runtime: Any) -> None:
    """Add the Redis Cluster tab, the live page and its data, the form's layout, and the /swarm guard to Locust's
    web UI (no-op when there is no web UI)."""
    web_ui = getattr(environment, "web_ui", None)
    if web_ui is None:
        return
    from flask import jsonify, request

    package = resources.files("loadsim.locust")
    page = package.joinpath("redis_view.html").read_text(encoding="utf-8")
    script = package.joinpath("webui.js").read_text(encoding="utf-8")
    guard_swarm(web_ui, runtime)
    base = (getattr(runtime.namespace, "web_base_path", "") or "").rstrip("/")
    # Locust merges these into the arguments of its page (update_template_args keeps keys it does not set)
    web_ui.template_args["extended_tabs"] = [{"title": "Redis Cluster", "key": TAB}]
    web_ui.template_args["extended_tables"] = [{"key": TAB, "structure": [
        {"key": "item", "title": "Redis Cluster"}, {"key": "value", "title": "value"},
        {"key": "detail", "title": "detail"}]}]
    layout = json.dumps({**form_layout(runtime), "base": base}).replace("</", "<\\/")  # inside <script>
    view = ViewCache(runtime)

    @web_ui.app.route("/loadsim/redis")
    @web_ui.auth_required_if_enabled  # behind Locust's --web-login, as its own pages
    def loadsim_redis_page() -> Any:
        return page

    @web_ui.app.route("/loadsim/webui.js")
    @web_ui.auth_required_if_enabled  # behind Locust's --web-login, as its own pages
    def loadsim_script() -> Any:
        return script, 200, {"Content-Type": "text/javascript; charset=utf-8"}

    @web_ui.app.route("/loadsim/redis/data")
    @web_ui.auth_required_if_enabled  # behind Locust's --web-login, as its own pages
    def loadsim_redis_data() -> Any:
        return jsonify(view.data())

    @web_ui.app.after_request
    def extend_locust_pages(response: Any) -> Any:
        path = request.path
        if path == f"{base}/" and request.method == "GET" and response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            tags = (f"<script>window.loadsimForm = {layout};</script>"
                    f'<script src="{base}/loadsim/webui.js"></script>')
            response.set_data(html.replace("</body>", tags + "</body>", 1))
        elif path == f"{base}/stats/requests" and response.mimetype == "application/json":
            data = response.get_json()
            data["extended_stats"] = [{"key": TAB, "data": tab_rows(view.data())}]
            if runtime.lifecycle.starting and data.get("state") in (STATE_INIT, STATE_STOPPED):
                # Locust says "spawning" only once test_start has returned, and loadsim's may restart the embedded
                # cluster first: a page that saw "ready" meanwhile went back to the start form and stopped polling
                data["state"] = STATE_SPAWNING
            response.set_data(json.dumps(data))
        return response


class ViewCache:
    """``view_data`` once per server sample, shared by the page's pollers.

    The handlers run inside the generator's event loop (Locust's web UI is a gevent server in the same process), so
    every moment spent here is a moment no HA pair releases an operation. With the tab open three pollers ask
    (Locust's statistics every 2 s, the charts every 2 s, the reload check every 3 s) while the figures change once
    a second (a server sample); each asks again only for a new sample, a new test, or the summary written."""

    def __init__(self, runtime: Any):
        self._runtime = runtime
        self._key: tuple[Any, ...] | None = None
        self._data: dict[str, Any] = {}

    def data(self) -> dict[str, Any]:
        runtime = self._runtime
        run = runtime.run or runtime.last_run
        key = (None,) if run is None else (str(run.path), runtime.run is run, len(run.node_rows),
                                           len(run.client_rows))
        if key != self._key:
            self._data, self._key = view_data(runtime), key
        return self._data


def view_data(runtime: Any) -> dict[str, Any]:
    """What the Redis view shows: the current (or last) test's node series, operations, projection, and once the
    summary is written, the sizing verdict and the summary's own figures."""
    run = runtime.run or runtime.last_run
    if run is None:
        return {"running": False, "nodes": {}, "operations": {}, "markers": [],
                "projection": {"ready": False, "reason": "no test started yet"}}
    nodes = node_series(run.node_rows)
    live_now, _ = run.live_now()
    markers = []
    switch_at = run.engine.settings.switchover_at_s
    if switch_at:
        markers.append({"t": switch_at, "label": "switchover"})
    steady = run.engine.steady_from
    data: dict[str, Any] = {
        "running": runtime.run is run, "results": str(run.path), "nodes": nodes, "markers": markers,
        "stats_resets": list(run.stats_resets),
        "steady_from_s": round(steady - run.started_perf, 2) if steady != float("inf") else None,
        "operations": operations(run.recorder.operations_summary()), "replication_lag_bytes": replication_lag(nodes),
        "projection": live_projection(run, nodes, live_now)}
    summary = written_summary(run.path) if runtime.run is not run else None
    if summary is not None:
        # the summary's window: none for a run stopped before its steady window began (the engine's planned start
        # then lies after the run's end)
        data["steady_from_s"] = summary.get("steady_from_s")
        data["operations"] = operations(summary["operations"])
        verdict, why = verdict_or_why(summary, run.path)
        data["final"] = {"masters": {m["node"]: {"used_memory": m["used_memory"], "keys": m["keys"]}
                                     for m in summary["masters"]},
                         "verdict": verdict, "no_verdict": no_verdict_text(summary, why) if verdict is None else ""}
    return data


def live_projection(run: Any, nodes: dict[str, dict[str, Any]], live_now: float) -> dict[str, Any]:
    """``projection`` for a run in progress, with what ``plan --from`` the finished run reads of it: TLS, AOF, the
    production round trip and the capacity folder it was given."""
    settings = run.engine.settings
    spec = run.cluster.spec if getattr(run, "cluster", None) is not None else None
    return projection(nodes, live_now, getattr(run.engine, "params", None), tls=bool(run.engine.opts.tls_enabled),
                      aof=bool(spec.aof) if spec is not None else None, network_rtt_us=settings.network_rtt_us,
                      capacity_from=settings.capacity_from)


def written_summary(folder: Path) -> dict[str, Any] | None:
    """The run's summary.json once it is complete (None before, or if it cannot be read)."""
    try:
        summary = json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) and summary.get("complete") else None


def run_verdict(summary: dict[str, Any], folder: Any = ".") -> dict[str, Any] | None:
    """The sizing verdict on this run's own deployment (its pairs, load, masters, replicas, TLS): exactly what
    ``loadsim plan --from <this run>`` answers (``loadsim.results.runs.verdict_for``: the same question, the same
    unit costs fitted on the run). None when the run cannot be judged (then plan --from says why in one line)."""
    return verdict_or_why(summary, folder)[0]


def no_verdict_text(summary: dict[str, Any], why: str) -> str:
    """What the tab and the charts page say for a finished run without a verdict (one text for both)."""
    if summary.get("no_steady_window"):
        why = f"no steady window: {summary['no_steady_window']}"
    return f"no sizing verdict for this run: {why or 'loadsim plan --from the run says why'}"


def verdict_or_why(summary: dict[str, Any], folder: Any = ".") -> tuple[dict[str, Any] | None, str]:
    """``run_verdict`` and, when there is none, why (plan --from's one line). The one place the view asks for a
    verdict."""
    from loadsim.errors import LoadsimError
    from loadsim.model import sizing as sz
    from loadsim.results.runs import verdict_for

    try:
        v, _ = verdict_for(Path(folder))
        return sz.verdict_dict(v), ""
    except (LoadsimError, KeyError, ValueError, ZeroDivisionError) as exc:
        log.info("no sizing verdict for this run: %s", exc)
        return None, str(exc)


def _mib(value: float) -> str:
    return f"{value / 2**20:,.1f} MiB"


def tab_rows(data: dict[str, Any]) -> list[dict[str, str]]:
    """The Redis Cluster tab's table (pure): the verdict, each operation's µs percentiles, each node's latest
    figures (the summary's once it is written), and where the charts are."""
    rows: list[dict[str, str]] = []
    final = data.get("final")
    verdict = final.get("verdict") if final else None
    p = data["projection"]
    if verdict is not None:
        b = verdict["binding"]
        rows.append({"item": "verdict", "value": "PASS" if verdict["passed"] else "FAIL",
                     "detail": f"{verdict['headline']}; binding: {b['name']}: {b['figures']}; "
                               f"{verdict['masters_text']}; unit costs: {verdict['unit_costs']['source']}; the same "
                               f"as loadsim plan --from {Path(data.get('results') or '.').name}"})
        # every constraint of the verdict, as plan prints it (sizing.RULES): a new one shows without a row of its own
        rows += [{"item": f"constraint: {k['short']}", "value": k["status"],
                  "detail": k["figures"] + (f"; {k['detail']}" if k["detail"] else "")
                  + (f"; fix: {k['fix']}" if k["fix"] and not k["ok"] else "")} for k in verdict["constraints"]]
    elif final:
        # the run is over and has no verdict (e.g. no steady window): said, never the live projection's "so far"
        rows.append({"item": "verdict", "value": "none", "detail": final.get("no_verdict") or ""})
    elif p.get("ready"):
        rows.append({"item": "verdict", "value": p["verdict"],
                     "detail": f"projection from the live samples (the sizing verdict follows the summary): busiest "
                               f"master {_mib(p['memory_now'])} now, {_mib(p['memory_steady'])} at steady state of "
                               f"{_mib(p['maxmemory'])} maxmemory; CPU {p['cpu_percent']:.1f} % of one core; "
                               f"server CPU {p['cpu_us_per_command']:.1f} µs per command ({p['unit_costs_source']})"})
    else:
        rows.append({"item": "verdict", "value": "waiting", "detail": p.get("reason", "")})
    if data.get("stats_resets"):
        # Locust's Reset stats is not applied to loadsim's record: said in one row (the run text says the same)
        from loadsim.results.text import stats_reset_line

        rows.append({"item": "Reset stats", "value": "not applied to loadsim",
                     "detail": stats_reset_line(data["stats_resets"])})
    for name, op in data.get("operations", {}).items():
        rows.append({"item": f"{name} p99", "value": f"{op['p99']:,} µs",
                     "detail": f"p50 {op['p50']:,}, p90 {op['p90']:,}, p99.9 {op['p999']:,}, max {op['max']:,} µs "
                               f"from the intended start; {op['count']:,} operations, {op['errors']:,} errors"})
    final_masters = final["masters"] if final else {}
    for node, n in data.get("nodes", {}).items():
        latest = n["latest"]
        used, keys = (final_masters[node]["used_memory"], final_masters[node]["keys"]) if node in final_masters \
            else (latest["used_memory"], latest["keys"])
        cpu, cmds = latest["cpu_percent"], latest["commands_per_s"]
        rows.append({"item": f"{node} ({n['role']})", "value": _mib(used),
                     "detail": f"{keys:,} keys; CPU {cpu if cpu is not None else 0:.1f} % of one core; "
                               f"{cmds if cmds is not None else 0:,.0f} commands/s; {latest['connected_clients']} "
                               "clients" + (" (end of the run)" if node in final_masters else " (latest sample)")})
    rows.append({"item": "charts", "value": "below", "detail": "per master over time; also at /loadsim/redis"})
    if data.get("results"):
        rows.append({"item": "results", "value": Path(data["results"]).name, "detail": data["results"]})
    return rows


def _camel(dest: str) -> str:
    """The name Locust's form gives a field (its page turns option names into camelCase)."""
    first, *rest = dest.split("_")
    return first + "".join(word.capitalize() for word in rest)


def form_layout(runtime: Any) -> dict[str, Any]:
    """What the page's script needs to lay out the start form: the groups in order; per field the form may set, its
    short label, help (on hover) and group; per option given at start only, the value it has (never a secret)."""
    start = runtime.start_values
    ors_ini: dict[str, str] = {}
    if start.get("ors_config"):
        try:
            ors_ini = read_ors_config(start["ors_config"])
        except UserError:
            ors_ini = {}
    records = [(o.dest, o.name, o.label or o.name, o.full_help, o.group, o.form) for o in SIM_OPTIONS]
    records += [(o.dest, o.name, (o.label or o.name) + (f" (blank: {o.default})" if o.default and o.form else ""),
                 o.help, o.group, o.form) for o in OPTIONS if not o.secret]
    records.append(("ors_config", "ors-config", "ORS ini file", "ORS-style ini file whose [persistence] section "
                    "supplies the options not given otherwise.", "cluster", False))
    fields, fixed = {}, []
    for order, (dest, name, label, help_text, group, settable) in enumerate(records):
        place = {"label": label, "help": f"--{name}: {help_text}", "group": group, "order": order}
        if settable:
            fields[_camel(dest)] = place
            continue
        given = start.get(dest)
        if isinstance(given, list):
            given = ", ".join(str(v) for v in given)
        if given in (None, "") and name in ors_ini:
            given = f"{ors_ini[name]} (from the ORS ini file)"
        elif given in (None, ""):
            given = "not set: the embedded cluster" if dest == "redis_nodes" else "not set"
        fixed.append({**place, "value": str(given)})
    fields["userCount"] = {"label": HA_PAIRS_LABEL, "help": "How many ORS HA pairs to simulate: each Locust user "
                           "is one HA pair (a primary and a backup ORS node).", "group": None, "order": -2}
    fields["spawnRate"] = {"label": RAMP_LABEL, "help": "HA pairs started per second until all run.",
                           "group": None, "order": -1}
    return {"groups": list(GROUPS), "fields": fields, "fixed": fixed, "tab": TAB,
            "fixed_note": "given at start: a file, folder, program or where and as whom to connect is never taken "
                          "from this form (restart locust to change it)"}


def guard_swarm(web_ui: Any, runtime: Any) -> None:
    """Wrap Locust's /swarm: a request that names an option the form may not set, or a value loadsim refuses, gets
    Locust's own failure reply (``success: false`` and a message, which the page shows under the form), and
    nothing starts. Locust's login, when on, still comes first."""
    from flask import jsonify, request
    from werkzeug.datastructures import ImmutableMultiDict

    endpoint = next(rule.endpoint for rule in web_ui.app.url_map.iter_rules() if rule.rule.endswith("/swarm"))
    stats_endpoint = next(rule.endpoint for rule in web_ui.app.url_map.iter_rules()
                          if rule.rule.endswith("/stats/requests"))
    swarm = web_ui.app.view_functions[endpoint]
    settable = form_options()
    # a blank field means the value given at start (command line, environment, scenario default), as the form
    # showed it: Locust's /swarm turned a blank number into float('') (HTTP 500) and a blank boolean into false
    at_start = {dest: copy.deepcopy(getattr(runtime.namespace, dest, None)) for dest in settable}

    def refuse(message: str, field: str | None) -> Any:
        log.error("loadsim: error: %s", message)
        return jsonify({"success": False, "message": message, "host": runtime.environment.host,
                        "loadsim_field": _camel(field) if field else None})

    def guarded_swarm(*args: Any, **kwargs: Any) -> Any:
        parsed = vars(runtime.namespace)
        refused = refused_fields(list(request.form), parsed)
        if refused:
            names = ", ".join(f"--{key.replace('_', '-')}" for key in refused)
            message = (f"{names}: not settable from the web UI (options that name files, folders, programs or "
                       "where to connect keep the value given at start); restart locust with the value instead")
            log.warning("refused a test from the web UI: %s", message)
            return jsonify({"success": False, "message": message, "host": runtime.environment.host,
                            "loadsim_field": None})
        shape = test_shape_problem(request.form)
        if shape:
            return refuse(f"{shape[1]}; nothing was started: fix the form and start again", shape[0])
        resize = resize_problem(runtime.environment.runner, request.form)
        if resize:
            return refuse(resize, "user_count")
        fields: dict[str, Any] = {}
        for key in settable & set(request.form):
            values = [v for v in request.form.getlist(key) if v.strip()]
            if not values:
                fields[key] = at_start[key]
            elif isinstance(at_start[key], list) or key in REPEATABLE:
                fields[key] = [part.strip() for v in values for part in v.split(",") if part.strip()]
            else:
                fields[key] = values[-1].strip()
        fields["num_users"] = request.form["user_count"].strip()
        try:
            runtime.check_form(fields)
        except (UserError, ValueError) as exc:
            message = f"{str(exc).rstrip('.')}; nothing was started: fix the form and start again"
            return refuse(message, field_named(message))
        # loadsim's fields are loadsim's to convert (the values checked above, set as checked); Locust's /swarm
        # gets the test's shape only, so nothing reaches its type conversion that would raise (HTTP 500)
        for key, value in fields.items():
            if key != "num_users":
                setattr(runtime.namespace, key, value)
        request.form = ImmutableMultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in settable])
        idle = runtime.environment.runner.state in (STATE_INIT, STATE_STOPPED)  # a new test, not a running one's resize
        response = swarm(*args, **kwargs)
        if idle and hasattr(response, "get_json") and (response.get_json(silent=True) or {}).get("success"):
            # The page polls /stats/requests and stops polling (its Stop button gone) when it reads "stopped". Locust
            # starts the test in a greenlet after this reply and keeps /stats/requests' answer for 2 s (its memoize):
            # a second test started within 2 s of a poll, or polled before that greenlet ran, read "stopped" and was
            # shown stopped while it ran. It is being started from now on (the page reads "spawning": register), and
            # Locust's kept answer is dropped.
            runtime.lifecycle.starting_test()
            clear = getattr(web_ui.app.view_functions.get(stats_endpoint), "clear_cache", None)
            if clear is not None:
                clear()
        run_time = (response.get_json(silent=True) or {}).get("run_time") if hasattr(response, "get_json") else None
        if run_time:
            # Locust's timer started with this request, but the test may first restart the embedded cluster (the
            # form changed its shape): the run time counts from when the HA pairs start instead
            web_ui._cancel_run_time_timer()
            runtime.run_time_from_start_of_load(float(run_time))
        return response

    web_ui.app.view_functions[endpoint] = web_ui.auth_required_if_enabled(guarded_swarm)
