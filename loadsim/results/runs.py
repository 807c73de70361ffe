"""Run folders as typed run records for sizing: ``read_runs(path)`` is the one reader.

Sizing (``loadsim.model.sizing``) fits ``MeasuredRun`` records and never reads summary.json itself; this module is
where the summary's key paths (docs/results.md) meet the model. ``plan --from``, ``validate``, the sizing report
and the TLS report all read runs through it.
"""

from __future__ import annotations

import os
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from loadsim.config.simulation import run_settings
from loadsim.errors import OptionsError, ResultsError
from loadsim.model import question
from loadsim.model import sizing as sz
from loadsim.model import workload as wl
from loadsim.results.capacity import read_json, with_capacity_of
from loadsim.results.figures import used_memory_added
from loadsim.results.reader import check_summary, find_runs
from loadsim.results.schema import upgrade
from loadsim.results.writer import SUMMARY


def _read(path: Path) -> dict[str, Any] | None:
    return read_json(path, "rerun that run or move it out of the folder")


def _version(text: str | None) -> tuple[int, int]:
    """The memory model's constants family for INFO redis_version ("7.2.4" -> (7, 2); else 7.0's)."""
    try:
        major, minor = (int(x) for x in (text or "").split(",")[0].strip().split(".")[:2])
    except ValueError:
        return (7, 0)
    return (7, 2) if (major, minor) >= (7, 2) else (7, 0)


def _from_summary(w: dict[str, Any]) -> wl.WorkloadParams | None:
    """The workload from the summary's own description (a run folder without config.json): the preset by name
    with the run's mean record size, records, lifetimes, TTL and layout."""
    try:
        preset = wl.PRESETS[str(w["complexity"]).split("+")[0]]
        complexity = replace(preset, record_bytes=int(w.get("record_bytes_mean") or preset.record_bytes),
                             records=int(w.get("records_per_session") or 1))
        kept = {k: w[k] for k in ("cps_per_pair", "aht_s", "key_layout", "worker_threads", "session_ttl_s",
                                  "digital_share") if k in w}
        kept.update({k: v for k, v in (w.get("lifetime") or {}).items()
                     if k in {f.name for f in fields(wl.WorkloadParams)}})
        return wl.WorkloadParams(**kept, complexity=complexity)
    except (KeyError, TypeError, ValueError, OptionsError):
        return None


def workload_of(config: dict[str, Any] | None, summary_workload: dict[str, Any] | None = None
                ) -> wl.WorkloadParams | None:
    """The run's workload model from its config.json, else from the summary's description of it (None when
    neither describes it)."""
    raw = (config or {}).get("workload")
    if not isinstance(raw, dict) or not isinstance(raw.get("complexity"), dict):
        return _from_summary(summary_workload) if summary_workload else None
    try:
        c = raw["complexity"]
        complexity = wl.Complexity(**{f.name: (tuple(tuple(x) for x in c[f.name]) if f.name == "size_histogram"
                                               else c[f.name]) for f in fields(wl.Complexity) if f.name in c})
        kept = {f.name: raw[f.name] for f in fields(wl.WorkloadParams) if f.name in raw and f.name != "complexity"}
        return wl.WorkloadParams(**kept, complexity=complexity)
    except (TypeError, ValueError, OptionsError):
        return None


# Summaries from this schema version on carry the run's classification as measured (host CPU pressure, steal, the
# rig's share of p99); older ones are classified by ``upgrade`` from their flags only, which cannot see a busy
# host: for sizing they stay "unclassified" (their evidence kept).
CLASSIFIED_FROM_SCHEMA = 3


def run_record(path: Path, summary: dict[str, Any], config: dict[str, Any] | None,
               measured_class: bool = True) -> sz.MeasuredRun:
    """One complete run's summary (current schema) and config as the record sizing fits; ``measured_class``
    False: the summary predates the classification (see CLASSIFIED_FROM_SCHEMA)."""
    masters = summary["masters"]
    kind = dict(summary.get("run_class") or {})
    if not measured_class:
        kind["class"] = sz.UNCLASSIFIED
    cluster = summary.get("cluster", {})
    settings = run_settings((config or {}).get("simulation") or {})
    return sz.MeasuredRun(
        name=path.name, run_class=kind.get("class", sz.UNCLASSIFIED), evidence=kind.get("evidence", ""),
        tls=bool(cluster.get("tls")), ha_pairs=int(summary["workload"]["ha_pairs"]), masters=len(masters),
        live_sessions=float(summary["live_sessions"]["steady_mean"]),
        used_memory=used_memory_added(summary),  # less what the cluster held before the run
        cpu_s=float(sum(m["cpu_s_steady"] for m in masters)),
        master_seconds=float(sum(m["steady_s"] for m in masters)),
        commands=float(sum(m["commands_steady"] for m in masters)),
        operations_steady=float(summary["rates"]["achieved_ops_per_s"] * (summary.get("steady_s") or 0.0)),
        cpu_us_per_command=_steady_cpu_us(masters),
        workload=workload_of(config, summary.get("workload")), eager_connections=settings.pool_connections == "eager",
        redis_version=_version(cluster.get("redis_version")), path=str(path),
        bytes_in=(float(sum(m["net_input_bytes_steady"] for m in masters))
                  if all("net_input_bytes_steady" in m for m in masters) else None),
        idle_share=(summary["server"].get("idle_cpu") or {}).get("share_per_master"),
        redis_exec_us=_redis_exec(summary), replicas=int(cluster.get("replicas") or 0))


def _steady_cpu_us(masters: list[dict[str, Any]]) -> float:
    """Server CPU per command over the steady window, µs (idle CPU included): the run's own figure as its text
    prints it (``summary.server.cpu_us_per_command_steady``), also for summaries written before it was kept."""
    commands = sum(m.get("commands_steady", 0) for m in masters)
    return sum(m.get("cpu_s_steady", 0.0) for m in masters) * 1e6 / commands if commands else 0.0


def _redis_exec(summary: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """Redis's own execution per command (p50, p99, p99.9 µs) the run recorded (INFO latencystats; None for each
    it lacks: p99.9 is recorded from this version on)."""
    per = ((summary.get("latency_split") or {}).get("redis_us_per_command") or {})
    return tuple(float(v) if v is not None else None for v in (per.get(q) for q in ("p50", "p99", "p999")))


def read_config(run: Path) -> dict[str, Any] | None:
    """A run folder's config.json (None when absent)."""
    return _read(run / "config.json")


def read_runs(path: str | os.PathLike[str], tls: bool | None = None) -> list[sz.MeasuredRun]:
    """Every complete run at or below ``path`` (a run, a sweep or a folder of runs) as typed records; with
    ``tls`` only the runs with (True) or without (False) TLS. Raises ResultsError naming the fix when none."""
    out = []
    unmeasured: list[str] = []
    for run in find_runs(path):
        summary = _read(run / SUMMARY)
        if not summary or not summary.get("complete") or not summary.get("masters"):
            continue
        summary = check_summary(summary, str(run / SUMMARY))  # a damaged one: its name and key, one line
        if (summary.get("server") or {}).get("not_measured"):
            # Redis's figures are null (e.g. the ACL user cannot run INFO): its zeros would fit 0 µs per command
            unmeasured.append(f"{run.name} ({summary['server']['not_measured']})")
            continue
        measured_class = int(summary.get("schema_version") or 0) >= CLASSIFIED_FROM_SCHEMA
        out.append(run_record(run, upgrade(summary, str(run / SUMMARY)), _read(run / "config.json"), measured_class))
    if not out and unmeasured:
        raise ResultsError(f"no run under '{path}' measured Redis's own figures, so none can size a cluster: "
                           f"{unmeasured[0]}")
    if not out:
        raise ResultsError(f"no complete runs under '{path}'")
    if tls is not None:
        chosen = [r for r in out if r.tls == tls]
        if not chosen:
            raise ResultsError(f"no runs {'with' if tls else 'without'} TLS among {len(out)} runs under '{path}'; "
                               f"drop --tls or give runs {'with' if tls else 'without'} it")
        return chosen
    return out


def unit_costs(path: str | os.PathLike[str] | None, tls: bool | None = None
               ) -> tuple[sz.UnitCosts, list[sz.MeasuredRun]]:
    """The unit costs of a folder, the one way every surface builds them (plan, report, sweep's closing line),
    with the precedence of ``loadsim.model.unitcosts``: a `loadsim capacity` result in the folder (per arm, plain
    or TLS) > the fit of the runs (``tls``: only the runs with or without TLS) > the reference values. No folder:
    the reference values. Returns the costs and the runs fitted. Each arm's queueing curve is kept with its arm:
    the composition reads the one of the question's transport (``loadsim.model.latency.queueing``). A run folder
    without one of its own reads the capacity folder it was given (``--capacity-from``, in its config.json): the
    web tab's verdict and ``plan --from`` the run then read the same."""
    if not path:
        return sz.DEFAULT_COSTS, []
    runs = read_runs(path, tls=tls)
    return with_capacity_of(sz.fit_unit_costs(runs), (path, recorded_capacity_folder(path)), tls), runs


def recorded_capacity_folder(path: str | os.PathLike[str]) -> str | None:
    """The `loadsim capacity` folder a run was given (``--capacity-from``, recorded in its config.json); None for a
    folder that is no run or a run given none."""
    root = Path(path)
    if not (root / SUMMARY).exists():
        return None
    return run_settings((_read(root / "config.json") or {}).get("simulation") or {}).capacity_from


def _own_question(run: Path) -> tuple[sz.Deployment, dict[str, Any]] | None:
    """A complete run's own deployment (its pairs and workload, masters, replicas per master, TLS, AOF) and its
    summary; None when the run is incomplete or its workload cannot be modelled."""
    summary = _read(run / SUMMARY)
    if not summary or not summary.get("complete") or not summary.get("masters"):
        return None
    summary = upgrade(check_summary(summary, str(run / SUMMARY)), str(run / SUMMARY))
    workload = workload_of(_read(run / "config.json"), summary.get("workload"))
    if workload is None:
        return None
    cluster = summary.get("cluster") or {}
    aof = cluster.get("aof")
    # the production round trip the run was given (--network-rtt-us, the web form; a run recorded before the option
    # existed: the default, as the question's own)
    rtt = run_settings((_read(run / "config.json") or {}).get("simulation") or {}).network_rtt_us
    own = question.own_deployment(workload, masters=len(summary["masters"]), replicas=int(cluster.get("replicas") or 0),
                                  tls=bool(cluster.get("tls")), aof=None if aof is None else bool(aof),
                                  network_rtt_us=rtt, maxmemory=question.cluster_maxmemory(summary["masters"]))
    return own, summary


def folder_question(path: str | os.PathLike[str]) -> tuple[sz.Deployment, str] | None:
    """The question a results folder asks by itself: a run's own deployment; a sweep's largest point (the most HA
    pairs x calls/s, then masters; plain before TLS); a folder holding one run, that run's. None for a folder of
    several runs that is no sweep (then plan's defaults are asked). Returns the deployment and what it is."""
    root = Path(path)
    if (root / SUMMARY).exists():
        own = _own_question(root)
        return (own[0], f"the run's own deployment ({root.name})") if own else None
    points = [(run, own[0]) for run in find_runs(root) if (own := _own_question(run)) is not None]
    if not points:
        return None
    if (root / "sweep.json").exists():
        run, d = max(points, key=lambda x: (x[1].ha_pairs * x[1].cps_per_pair, x[1].ha_pairs, x[1].masters,
                                            not x[1].tls))
        return d, f"the sweep's largest point ({run.name})"
    if len(points) == 1:
        return points[0][1], f"the run's own deployment ({points[0][0].name})"
    return None


def ask_folder(path: str | os.PathLike[str] | None, changes: dict[str, Any]) -> sz.Question:
    """The question for ``loadsim plan [--from PATH]``, the web tab and the report: the folder's own (see
    ``folder_question``) or plan's defaults, with ``changes`` (the flags given) as a what-if over it."""
    own = folder_question(path) if path else None
    if own is None:
        return question.ask(sz.Deployment(), question.PLAN_DEFAULTS, **changes)
    return question.ask(own[0], own[1], **changes)


def fitted_tls(q: sz.Question, changes: dict[str, Any]) -> bool | None:
    """Which runs a question is fitted on: those with its TLS setting when it came from a run or a sweep or the TLS
    flag was given; otherwise every run (a folder of plain and TLS runs asked plan's defaults)."""
    return q.deployment.tls if (q.asked != question.PLAN_DEFAULTS or "tls" in changes) else None


def verdict_for(path: str | os.PathLike[str] | None, changes: dict[str, Any] | None = None,
                with_envelope: bool = True) -> tuple[sz.Verdict, list[str]]:
    """The one verdict on a folder's question (``ask_folder``) with the unit costs fitted on its runs (plan --from,
    the web tab on a finished run, the report): the verdict and the runs fitted."""
    changes = dict(changes or {})
    q = ask_folder(path, changes)
    costs, runs = unit_costs(path, fitted_tls(q, changes))
    return sz.verdict(q, costs, with_envelope=with_envelope), [r.path for r in runs]
