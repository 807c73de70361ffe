"""A run's summary as plain text for the terminal (pure)."""

from __future__ import annotations

import statistics
from typing import Any

from loadsim.model.runclass import NO_STEADY_STATE, advice
from loadsim.model.workload import operation_percentile
from loadsim.results.glossary import explain


def recovery_line(rv: dict[str, Any]) -> str:
    """The switchover's outcome in one line (the run's text and the recovery report say the same). A recovery
    the run's end cut short says so: its sessions not restored yet are not lost, the run was too short."""
    if not rv.get("complete", True):
        unfinished = [p for p in rv.get("per_pair", []) if not p.get("complete", True)]
        return (f"switchover: recovery NOT FINISHED when the run ended ({len(unfinished)} of {rv.get('pairs', 0)} "
                f"pairs still restoring, {rv.get('expected', 0):,} live sessions expected): lost sessions unknown; "
                "run longer after the switchover")
    return (f"switchover: {rv.get('recovered', 0):,} sessions recovered of {rv.get('expected', 0):,} live, "
            f"{rv.get('lost', 0):,} lost ({rv.get('lost_never_written', 0):,} never written: their create was "
            f"queued in or cut off with the old primary, or refused; {rv.get('lost_written', 0):,} written but "
            f"not found), slowest pair {rv.get('max_seconds', 0):.2f} s")

def human_bytes(n: float) -> str:
    """1536 → "1.5 KiB", 47_800_000 → "45.6 MiB" (binary units, as Redis's used_memory_human)."""
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,.0f} B"


def summary_table(summary: dict[str, Any]) -> str:
    """The summary as a plain-text table for the terminal."""
    w = summary.get("workload", {})
    down = outage_line(summary)
    # a rig-bound or redis-bound run says so first; a clean run's evidence follows the rates
    cls = run_class_line(summary)
    first = [] if (summary.get("run_class") or {}).get("class", "clean") == "clean" else [cls]
    lines = first + ([down] if down else []) + [
        f"run: {summary.get('scenario')}  {summary.get('started')}  {summary.get('duration_s', 0):.0f} s"
        f"  complete={summary.get('complete')}",
        f"workload: {w.get('ha_pairs')} HA pairs x {w.get('cps_per_pair')} cps, AHT {w.get('aht_s')} s, "
        f"{w.get('complexity')}, layout {w.get('key_layout')}, {w.get('worker_threads')} threads/node"
        + (f", estate {w['estate']}" if w.get("estate") else "")
        + (f", mean session lifetime {w['mean_lifetime_s']:,.0f} s" if w.get("mean_lifetime_s") not in
           (None, w.get("aht_s")) else ""),
        rates_line(summary),
        *([] if first else [cls]),
        "",
        *operations_table(summary),
        *split_lines(summary),
    ]
    ls = summary.get("live_sessions", {})
    steady_mean = (f"steady mean {ls.get('steady_mean', 0):.0f}" if not summary.get("no_steady_window")
                   else "no steady window")
    lines += ["", f"live sessions: {steady_mean}, final {ls.get('final', 0)}, "
                  f"Little's law {ls.get('expected', 0):.0f}"]
    masters = summary.get("masters", [])
    codes = (summary.get("read_back") or {}).get("masters_down_codes") or {}
    states = [master_state(m, codes.get(m.get("node", ""))) for m in masters]
    lines.append(f"{'master':<22}{'used_memory':>14}{'keys':>10}{'cpu s':>8}{'commands':>10}"
                 + ("   state" if any(states) else ""))
    for m, state in zip(masters, states, strict=True):
        lines.append(f"{m.get('node', '?'):<22}{human_bytes(m.get('used_memory', 0)):>14}{m.get('keys', 0):>10}"
                     f"{m.get('cpu_s', 0):>8.2f}{m.get('commands', 0):>10}" + (f"   {state}" if state else ""))
    lines += [failover_line(f) for f in summary.get("failovers", [])]
    hot = hot_master_line(summary)
    if hot:
        lines.append(hot)
    if summary.get("cleanup"):
        cl = summary["cleanup"]
        lines.append(f"index cleaning: {cl.get('runs', 0)} cleanings removed {cl.get('entries_removed', 0)} entries "
                     "whose session had expired")
    s, c = summary.get("server", {}), summary.get("client", {})
    server = (f"{s['not_measured']} (client counted {s.get('commands_client_counted', 0)} commands)"
              if s.get("not_measured") else
              f"server: {s.get('commands', 0)} commands (client counted {s.get('commands_client_counted', 0)}), "
              f"{server_cpu_text(summary)}")
    lines.append(f"{server}; generator: {generator_cpu_text(c)}, max {c.get('max_cpu_percent', 0):.0f} % CPU"
                 + (" (Locust workers)" if c.get("coordinator") else ""))
    if c.get("coordinator"):
        co = c["coordinator"]
        lines.append(f"Locust master (coordination, not in the generator's figures): {co['cpu_s']:.2f} s CPU, "
                     f"{co['cpu_us_per_command']:.1f} us per command, median {co['median_cpu_percent']:.1f} % CPU")
    unit = unit_cost_line(summary)
    if unit:
        lines.append(unit)
    elif summary.get("no_steady_window"):
        lines.append("unit cost for sizing (plan --from this run): none, no steady window")
    if summary.get("recovery"):
        lines.append(recovery_line(summary["recovery"]))
    for m in summary.get("migration", []):
        lines.append(f"migration step {m['step']} at {m['at_s']:.1f} s: {m['what']}: {m['observed']} (vendor: "
                     f"{m['expected']}){'' if m['ok'] else ' NOT AS DOCUMENTED'}")
    rc = summary.get("client", {}).get("redis_client")
    if rc and (rc.get("refreshes_skipped") or rc.get("reconnects") or rc.get("moved") or rc.get("refresh_errors")):
        lines.append(f"ORS client: {rc.get('slot_refreshes', 0)} slot-map reloads ({rc.get('refreshes_skipped', 0)} "
                     f"rate-limited, {rc.get('refresh_errors', 0)} failed), {rc.get('connections_opened', 0)} "
                     f"connections opened, {rc.get('reconnects', 0)} reconnects, {rc.get('moved', 0)} MOVED, "
                     f"{rc.get('asked', 0)} ASK")
    for f in summary.get("faults", []):
        extra = "".join(f", {k.removesuffix('_s')} at {f[k]:.1f} s" for k in ("resumed_s", "restarted_s", "recovered_s")
                        if f.get(k) is not None)
        where = f.get("node") or (f"pairs {f['pairs']}" if f.get("pairs") else f.get("target"))
        if f.get("sessions_left") is not None:
            extra += (f": {f['sessions_left']:,} sessions left to their TTL, the last expiring at "
                      f"{f.get('last_expiry_s', 0):.1f} s")
        lines.append(f"fault at {f.get('done_s', 0):.1f} s: {f.get('action')} {where}{extra}"
                     + ("" if f.get("result") == "ok" else f" ({f.get('result')})"))
    for w in summary.get("error_windows", []):
        until = f"to {w['to_s']:.1f} s ({w['seconds']:.1f} s)" if w.get("to_s") is not None else "to the end"
        lines.append(f"error window on {w['master']}: from {w['from_s']:.1f} s {until}, {w['failures']:,} failed "
                     "commands")
    for fi in summary.get("fault_impact", []):
        rec = (f"back under 2x after {fi['latency_recovered_s']:.1f} s" if fi.get("latency_recovered_s") is not None
               else "not back under 2x by the end")
        drained = (f"drained after {fi['backlog_drained_s']:.1f} s" if fi.get("backlog_drained_s") is not None
                   else "did not drain" + (f" ({fi['backlog_at_end']:,} still queued at the end)"
                                           if fi.get("backlog_at_end") else ""))
        lines.append(f"impact of {fi['fault']}: latency max {fi['latency_max_us_before']:,.0f} -> "
                     f"{fi['latency_max_us_peak']:,.0f} us, {rec}; backlog {fi['backlog_peak']:,} operations, "
                     f"{drained}; generator CPU peak {fi['generator_cpu_peak_percent']:.0f} %: the latency was "
                     f"{fi['latency_was']}"
                     + (f"; new connections to Redis up to {fi['new_connections_per_s_peak']:,.0f}/s (before "
                        f"{fi.get('new_connections_per_s_before') or 0:,.0f}/s)"
                        if fi.get("new_connections_per_s_peak") is not None else ""))
    lines.extend(read_back_lines(summary.get("read_back")))
    errors = summary.get("errors", {})
    acc = summary.get("accounting") or {}
    if acc.get("due"):
        lines.append(accounting_line(acc))
    if errors:
        lines.append("errors by kind: " + ", ".join(f"{k} {v:,}" for k, v in sorted(errors.items()))
                     + (f"; not sent {acc['not_sent']:,}" if acc.get("not_sent") else ""))
    if errors.get("oom"):
        lines.append(f"maxmemory reached: Redis refused {errors['oom']:,} writes with OOM (noeviction); give the "
                     "masters more memory or fewer sessions")
    lines += flag_lines(summary)
    return "\n".join(lines)


def accounting_line(acc: dict[str, Any]) -> str:
    """"operations: 1,234 due = 1,200 sent (1,190 ok + 10 errors) + 34 not sent (...)": every operation once."""
    line = (f"operations: {acc['due']:,} due = {acc['sent']:,} sent ({acc['ok']:,} ok + {acc['errors']:,} errors) + "
            f"{acc['not_sent']:,} not sent")
    if acc.get("not_sent"):
        line += (f" (still queued when the run ended: behind a silent master or a late schedule; backlog at the end "
                 f"{acc.get('backlog_at_end', 0):,})")
    if acc.get("unaccounted"):
        line += f"; {acc['unaccounted']:,} NOT ACCOUNTED FOR"
    return line


def _us(value: float, width: int) -> str:
    """A µs figure right-aligned in ``width`` with at least one space before it: µs with thousands separators while
    they fit, else seconds ("13.97 s"; before: 13,934,591 ran into its neighbour, "24,17513,934,591")."""
    text = f"{value:,.0f}"
    if len(text) >= width:
        text = f"{value / 1e6:,.2f} s"
    return text.rjust(width)


def operations_table(summary: dict[str, Any]) -> list[str]:
    """Per operation: count and errors of the statistics window (the same numbers as Locust's tables and CSV),
    the warm-up apart, and the window's latency percentiles in µs."""
    window = summary.get("steady_from_s")
    since = f"from {window:.1f} s" if window is not None else "none: no steady window"
    lines = [f"{'operation':<18}{'count':>9}{'errors':>8}{'warm-up':>9}{'p50 us':>9}{'p90 us':>9}{'p99 us':>9}"
             f"{'p99.9 us':>10}{'max us':>10}{'svc p99':>9}"]
    for name, op in summary.get("operations", {}).items():
        lat, svc = op.get("latency_us", {}), op.get("service_us", {})
        head = f"{name:<18}{op.get('count', 0):>9,}{op.get('errors', 0):>8,}{op.get('warmup', 0):>9,}"
        if not lat.get("count"):
            lines.append(head + f"{'-':>9}{'-':>9}{'-':>9}{'-':>10}{'-':>10}{'-':>9}")
            continue
        lines.append(head + _us(lat.get('p50', 0), 9) + _us(lat.get('p90', 0), 9) + _us(lat.get('p99', 0), 9)
                     + _us(lat.get('p999', 0), 10) + _us(lat.get('max', 0), 10) + _us(svc.get('p99', 0), 9))
    lines += [f"(count, errors, percentiles: the statistics window ({since}), the same as Locust's tables and "
              "CSV; warm-up: operations before it,", " in no other figure; latency from the intended start, svc = "
              "service time from the send; 'loadsim explain' says more)"]
    resets = summary.get("locust_stats_reset_at_s")
    if resets:
        lines.append(stats_reset_line(resets))
    return lines


def stats_reset_line(resets: list[float]) -> str:
    """Locust's Reset stats during the run: what it reset and what it did not (the web tab says the same)."""
    at = ", ".join(f"{x:.1f} s" for x in resets)
    return (f"Locust's Reset stats was pressed at {at}: Locust's table and locust_stats.csv count from then; "
            "loadsim's figures (this summary, the Redis tab) keep the whole statistics window, the run's record")


def flag_lines(summary: dict[str, Any]) -> list[str]:
    """"flags: none", or one line per raised flag: its figure, what it means and what to do next."""
    raised = [k for k, v in summary.get("flags", {}).items() if v]
    cls = (summary.get("run_class") or {}).get("class", "clean")
    if not raised and cls != "clean":
        # the headline's class is a finding too: "flags: none" under a RIG-BOUND first line read as all clear
        reasons = ", ".join((summary.get("run_class") or {}).get("reasons") or []) or "see the first line"
        return [f"flags: no flag raised, but the run is {cls.upper()} ({reasons}), as its first line says"]
    if not raised:
        return ["flags: none"]
    lines = ["flags: " + ", ".join(raised)]
    for flag in raised:
        meaning = explain(flag)
        lines.append(f"  {flag}: {flag_figure(flag, summary)}" + (f"; {meaning[1]}" if meaning else ""))
    return lines


def flag_figure(flag: str, summary: dict[str, Any]) -> str:
    """The number behind a raised flag, as the summary holds it."""
    if flag == "schedule_fell_behind":
        lag, r = summary.get("schedule_lag_us", {}), summary.get("rates", {})
        return (f"schedule lag p99 {lag.get('p99', 0) / 1000:,.1f} ms (limit 10 ms), achieved "
                f"{r.get('achieved_ops_per_s', 0):,.1f} of {r.get('offered_ops_per_s', 0):,.1f} ops/s offered")
    if flag == "generator_saturated":
        c = summary.get("client", {})
        return (f"generator CPU max {c.get('max_cpu_percent', 0):.0f} %, median "
                f"{c.get('median_cpu_percent', 0):.0f} % (limit 90 %)")
    if flag == "errors":
        errors = summary.get("errors", {})
        return f"{sum(errors.values()):,} failed operations (" + ", ".join(
            f"{k} {v:,}" for k, v in sorted(errors.items())) + ")"
    if flag == "no_steady_state":
        if summary.get("no_steady_window"):
            return f"no steady window: {summary['no_steady_window']}"
        return f"statistics window {summary.get('steady_s', 0):.1f} s (at least 5 s needed)"
    if flag == "writes_paused":
        pauses = sorted(summary.get("client_pauses", {}).items())
        return "CLIENT PAUSE on " + ", ".join(f"{n} ({c}x)" for n, c in pauses)
    if flag == "command_gap":
        sv = summary.get("server", {})
        return (f"Redis counted {sv.get('commands', 0):,} commands, the client {sv.get('commands_client_counted', 0):,}"
                " (tolerance 0.1 %, at least 5)")
    if flag == "eviction_allowed":
        return "; ".join(summary.get("cluster_audit", {}).get("eviction_allowed", [])) or "raised"
    if flag == "cluster_audit":
        return "; ".join(summary.get("cluster_audit", {}).get("doubts", [])) or "raised"
    if flag == "master_fault":
        return "; ".join((summary.get("run_class") or {}).get("reasons") or []) or "raised"
    if flag == "worker_late_steady":
        return "; ".join(f"worker {r['worker']} {r['late_s']:.2f} s late ({r['ha_pairs']} HA pairs"
                         + (f", {100 * r['rates_bias']:.1f} % of the steady rates left out" if r["rates_bias"]
                            is not None else "") + ")"
                         for r in summary.get("late_steady_starts", []) if r["past_tolerance"]) or "raised"
    if flag == "cluster_held_data":
        b = summary.get("baseline") or {}
        return (f"{b.get('keys', 0):,} keys ({b.get('data_bytes', 0) / 2**20:,.1f} MiB of data) before the run, "
                f"{'' if b.get('prefix_complete', True) else 'at least '}{b.get('prefix_keys', 0):,} under its own "
                f"prefix {b.get('prefix', '')}; memory is calibrated on what the run added")
    if flag == "cluster_down":
        return f"down {sum(p.get('seconds', 0) for p in summary.get('outages', [])):.1f} s in all"
    return "raised"


def run_class_line(summary: dict[str, Any]) -> str:
    """The run's class with its evidence: the first line, so that a rig-bound run is never read as Redis's."""
    rc = summary.get("run_class") or {}
    cls = rc.get("class", "not classified")
    head = cls.upper() if cls != "clean" else "clean run"
    evidence = str(rc.get("evidence", ""))
    return f"{head}: {evidence.split(': ', 1)[1] if ': ' in evidence else evidence}"


def split_lines(summary: dict[str, Any]) -> list[str]:
    """Where p50 and p99 went, per operation: before the send (lag, wait for a worker), the client's CPU, the
    network, Redis, and what none of them explains (its own line: nothing is scaled to fit)."""
    split = summary.get("latency_split")
    if not split or not split.get("operations"):
        return []

    def us(v: Any) -> str:
        return "n/a" if v is None else f"{v:,.0f}"

    lines = [f"where the latency went (us, p50 / p99; network = commands x PING {us(split.get('network_us'))} us "
             f"measured outside the generator, client = commands x its CPU "
             f"{us(split.get('client_us_per_command'))} us, Redis from "
             f"{str(split.get('redis_source', '')).split(' (')[0]}; percentiles do not add up):"]
    for name, op in split["operations"].items():
        a, b = op["p50"], op["p99"]
        lines.append(f"  {name:<16} total {us(a['total_us'])} / {us(b['total_us'])}: before the send "
                     f"{us(a['before_send_us'])} / {us(b['before_send_us'])}, client {us(a['client_us'])} / "
                     f"{us(b['client_us'])}, network {us(a['network_us'])} / {us(b['network_us'])}, Redis "
                     f"{us(a['redis_us'])} / {us(b['redis_us'])}, unexplained {us(a.get('unexplained_us'))} / "
                     f"{us(b.get('unexplained_us'))}")
    return lines


def server_cpu_text(summary: dict[str, Any]) -> str:
    """The run's own server CPU per command, labelled with its window: the steady window's when the run has one
    (idle CPU included), else the whole run's (pre-fill included)."""
    s = summary.get("server", {})
    if s.get("cpu_us_per_command_steady") and not summary.get("flags", {}).get("no_steady_state"):
        return (f"{s['cpu_us_per_command_steady']:.1f} us CPU/command over the steady window, idle CPU included "
                f"(whole run, pre-fill included: {s.get('cpu_us_per_command', 0):.1f})")
    return f"{s.get('cpu_us_per_command', 0):.1f} us CPU/command over the whole run, pre-fill and idle CPU included"


def unit_cost_line(summary: dict[str, Any]) -> str | None:
    """The unit cost this run gives the sizing (``loadsim.model.unitcosts.fit_cpu`` on its steady window, the
    same as ``plan --from`` this run): CPU per command after the idle masters' own CPU, at its bytes per command.
    None when the steady window holds no commands."""
    from loadsim.model import unitcosts as uc

    masters = [m for m in summary.get("masters", []) if m.get("steady_s")]
    commands = sum(m.get("commands_steady", 0) for m in masters)
    if not commands:  # (a run whose steady window is too short to be called one still gives plan its figures)
        return None
    tls = bool(summary.get("cluster", {}).get("tls"))
    received = [m.get("net_input_bytes_steady") for m in masters]
    sample = uc.CpuSample("run", tls, sum(m["cpu_s_steady"] for m in masters), sum(m["steady_s"] for m in masters),
                          commands, float(sum(received)) if None not in received else None,  # type: ignore[arg-type]
                          (summary.get("server", {}).get("idle_cpu") or {}).get("share_per_master"))
    arm = uc.fit_cpu([sample], tls)
    costs = uc.UnitCosts(**{"tls" if tls else "plain": arm})
    if sample.bytes_in is None:
        return (f"unit cost for sizing (plan --from this run): {arm.service_s(0.0) * 1e6:.1f} us CPU/command (bytes "
                f"per command not measured), after a master's base CPU {arm.base.short(100, ' % of a core', 2)}")
    # the line plan prints (UnitCosts.cpu_line), at this run's own bytes per command
    return "unit cost for sizing (plan --from this run): " + costs.cpu_line(sample.bytes_in / commands, tls)


def generator_cpu_text(client: dict[str, Any]) -> str:
    """The generator's CPU per command as the summary holds it (``summary.generator_cpu_per_command``: net of the
    processes' own idle CPU), with what was taken out and the gross figure when an idle CPU was measured."""
    text = f"{client.get('cpu_us_per_command', 0):.1f} us CPU/command"
    idle = client.get("idle_cpu")
    if not idle or not idle.get("measured"):
        return text + " (idle CPU not measured: gross)"
    of = "" if idle["measured"] == idle["processes"] else f" in {idle['measured']} of {idle['processes']} processes"
    return (text + f" net of its idle {100 * idle['share']:.2f} % of a core{of} "
            f"({client.get('cpu_us_per_command_gross', 0):.1f} gross)")


def rates_line(summary: dict[str, Any]) -> str:
    """Steady-state rates; without a steady state, the whole run's (never zeros where work flowed)."""
    r, c = summary.get("rates", {}), summary.get("client", {})
    if summary.get("flags", {}).get("no_steady_state") and "whole_run_achieved_ops_per_s" in r:
        return (f"rates (whole run, NO STEADY STATE): offered {r.get('whole_run_offered_ops_per_s', 0):,.1f} ops/s, "
                f"achieved {r.get('whole_run_achieved_ops_per_s', 0):,.1f} ops/s, {r.get('commands_per_s', 0):,.1f} "
                f"commands/s, {r.get('backlog_at_end', 0):,} operations never drained; generator "
                f"{generator_cpu_text(c)}, median {c.get('median_cpu_percent', 0):.0f} % "
                f"CPU: {advice(list((summary.get('run_class') or {}).get('codes') or [NO_STEADY_STATE]))}")
    return (f"rates (steady state): offered {r.get('offered_ops_per_s', 0):.1f} ops/s, achieved "
            f"{r.get('achieved_ops_per_s', 0):.1f} ops/s, {r.get('steady_commands_per_s', 0):.1f} commands/s "
            f"({r.get('commands_per_s', 0):.1f}/s over the whole run, pre-fill included)")


def read_back_lines(rb: dict[str, Any] | None) -> list[str]:
    """The read-back in words: every live session in one bucket (never acknowledged, checked, unreadable and
    why, lost with a dead master), or why it was not done. [] when the summary has no read-back at all."""
    if rb is None:
        return []
    live = rb.get("live")
    if "checked" not in rb:  # not attempted (turned off, nothing persisted, no worker sent one)
        return [f"read-back: not done: {rb.get('not_done', 'no reason recorded')}"]
    checked, unreadable = rb.get("checked", 0), rb.get("unreadable", rb.get("errors", 0))
    sampled = f" (a sample: every {rb['sampled_every']})" if rb.get("sampled_every", 1) > 1 else ""
    lost = rb.get("stale", 0) + rb.get("missing", 0) + rb.get("corrupt", 0)
    line = (f"read-back of {live:,} live sessions{sampled}: {checked:,} checked: {rb.get('current', 0):,} current, "
            f"{rb.get('stale', 0):,} stale, {rb.get('missing', 0):,} missing, {rb.get('corrupt', 0):,} corrupt, "
            f"{rb.get('ahead', 0):,} ahead; {rb.get('never_acknowledged', 0):,} never acknowledged; "
            f"{unreadable:,} unreadable")
    why = rb.get("unreadable_why") or {}
    if why:
        line += " (" + ", ".join(f"{k} {v:,}" for k, v in sorted(why.items())) + ")"
    if lost:
        line += f"; ACKNOWLEDGED WRITES LOST: {lost:,}"
    lines = [line + "  (what these words mean: loadsim explain read-back)"]
    if rb.get("not_done"):
        lines.append(f"read-back NOT DONE: {rb['not_done']}: none of the {live:,} live sessions could be read")
    if rb.get("lost_with_dead_master"):
        down = rb.get("masters_down") or {}
        dead = ", ".join(a for a, what in sorted(down.items()) if what == "refuses connections") or "every master"
        lines.append(f"read-back: {rb['lost_with_dead_master']:,} sessions LOST WITH A DEAD MASTER ({dead}: no "
                     "replica took its slots)")
    for address, what in sorted((rb.get("masters_down") or {}).items()):
        if what != "refuses connections":
            lines.append(f"read-back: master {address} {what}: its sessions are counted unreadable")
    if rb.get("incomplete"):
        lines.append(f"read-back incomplete: {rb['incomplete']}")
    return lines


def outage_line(summary: dict[str, Any]) -> str | None:
    """"CLUSTER DOWN from 21.0 s to 36.5 s (15.5 s): no master answered", or None if it never was down."""
    periods = summary.get("outages", [])
    if not periods:
        return None

    def one(p: dict[str, Any]) -> str:
        to = f"{p['to_s']:.1f} s" if p.get("to_s") is not None else "the end"
        return f"from {p.get('from_s', 0):.1f} s to {to} ({p.get('seconds', 0):.1f} s): {p.get('why', '?')}"

    if len(periods) == 1:
        return "CLUSTER DOWN " + one(periods[0])
    total = sum(p.get("seconds", 0) for p in periods)
    return f"CLUSTER DOWN {len(periods)} times, {total:.1f} s in all: " + "; ".join(one(p) for p in periods)


# what a master down at the end was, by the read-back's fault code (its probe and the cluster bus), for the table
_DOWN_WORDS = {"master-dead": "DEAD", "master-stopped": "STOPPED", "master-paused": "PAUSED",
               "master-silent": "SILENT", "master-busy": "BUSY"}


def master_state(m: dict[str, Any], code: str | None = None) -> str:
    """What became of a master, for the masters table ("" for a master that served the whole run). ``code``: what
    the read-back found it at the end (a run-class fault code), which names a silent master stopped or paused and
    a master answering BUSY."""
    status, timeline = m.get("status"), m.get("timeline") or []
    since = f"from {m.get('down_from_s') or 0:.1f} s (last seen {m.get('last_seen_s') or 0:.1f} s)"
    if code == "master-busy":
        return "BUSY: answers every command with BUSY (a script past busy-reply-threshold) at the end"
    if status == "dead":
        word = _DOWN_WORDS.get(code or "", "DEAD" if m.get("down_how", "refused") == "refused" else "SILENT")
        how = {"DEAD": "refuses connections", "STOPPED": "accepts connections, answers neither clients nor the "
               "cluster bus", "PAUSED": "answers the cluster bus, holds its clients (CLIENT PAUSE)",
               "SILENT": "accepts connections, no answer"}[word]
        return f"{word}: {how} {since}" if word != "DEAD" else f"DEAD: no answer {since}"
    changes = [t for t in timeline[1:] if t.get("state") in ("master", "replica")]
    if status == "former master":
        demoted = [t for t in changes if t["state"] == "replica"]
        return f"former master: replica from {demoted[-1]['at_s']:.1f} s" if demoted else "former master"
    if timeline and timeline[0].get("state") == "replica" and changes:
        return f"promoted: master from {changes[0]['at_s']:.1f} s"
    if any(t.get("state") == "down" for t in timeline):
        back = [t for t in timeline if t.get("state") == "down"]
        return f"did not answer at {back[0]['at_s']:.1f} s, back as master"
    return ""


def failover_line(f: dict[str, Any]) -> str:
    """One line per failover the monitor saw."""
    what = "became a replica" if f.get("how") == "became a replica" else "stopped answering"
    head = f"failover: {f.get('node')} {what} at {f.get('down_at_s', 0):.1f} s"
    back = f"; it answered again at {f['back_at_s']:.1f} s" if f.get("back_at_s") is not None else ""
    if f.get("taken_over_before"):
        return (f"{head}: its replica {f['replaced_by']} had taken over its slots at {f.get('promoted_at_s', 0):.1f} s;"
                f" it came back as a replica{back}")
    if f.get("replaced_by"):
        return (f"{head}, {f['replaced_by']} master at {f.get('promoted_at_s', 0):.1f} s: failover "
                f"{f.get('failover_s', 0):.1f} s (monitor samples, ~1 s apart){back}")
    return f"{head}: no replica took over (its slots had no master){back}"


# (key, label, how to read it from a summary, format) of the figures `loadsim results compare` puts side by side
_COMPARED: list[tuple[str, str, Any, str]] = [
    # the class first: a rig-bound run's latency beside a clean run's is the machine's, not Redis's
    ("run_class", "run class", lambda s: (s.get("run_class") or {}).get("class", "not classified"), "{}"),
    ("ha_pairs", "HA pairs", lambda s: s["workload"]["ha_pairs"], "{:,.0f}"),
    ("tls", "TLS", lambda s: s["cluster"].get("tls"), "{}"),
    ("offered_ops_per_s", "offered ops/s", lambda s: s["rates"]["offered_ops_per_s"], "{:,.1f}"),
    ("achieved_ops_per_s", "achieved ops/s", lambda s: s["rates"]["achieved_ops_per_s"], "{:,.1f}"),
    ("steady_commands_per_s", "commands/s (steady)", lambda s: s["rates"].get("steady_commands_per_s", 0.0),
     "{:,.1f}"),
    ("update_p50_us", "update p50 us", lambda s: operation_percentile(s, "p50"), "{:,.0f}"),
    ("update_p99_us", "update p99 us", lambda s: operation_percentile(s, "p99"), "{:,.0f}"),
    ("update_p999_us", "update p99.9 us", lambda s: operation_percentile(s, "p999"), "{:,.0f}"),
    ("server_cpu_us_per_command", "server CPU us/command", lambda s: s["server"]["cpu_us_per_command"], "{:,.1f}"),
    ("client_cpu_us_per_command", "client CPU us/command", lambda s: s["client"]["cpu_us_per_command"], "{:,.1f}"),
    ("live_sessions", "live sessions", lambda s: s["live_sessions"]["steady_mean"], "{:,.0f}"),
    ("used_memory", "used_memory", lambda s: s["server"]["used_memory"], "bytes"),
    ("errors", "errors", lambda s: sum(s.get("errors", {}).values()), "{:,.0f}"),
]


def compare_figures(runs: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str, tuple[list[Any], list[Any]]]]:
    """Per compared figure: (key, label, (each run's value, each run's ratio to the first run's)). A ratio is None
    when a value is not a number or the first run's is 0 (the first run's own ratio is 1.0)."""
    out = []
    for key, label, get, _ in _COMPARED:
        values = [get(s) for _, s in runs]
        base = values[0]
        ratios: list[Any] = []
        for v in values:
            ok = (isinstance(v, (int, float)) and isinstance(base, (int, float)) and not isinstance(v, bool)
                  and not isinstance(base, bool) and base)
            ratios.append(round(v / base, 4) if ok else None)
        out.append((key, label, (values, ratios)))
    return out


def compare_table(runs: list[tuple[str, dict[str, Any]]]) -> str:
    """Runs side by side (one column each) with the ratio of each run's figure to the first run's."""
    names = [name for name, _ in runs]
    width = max(14, *(len(n) for n in names)) + 2
    header = f"{'':<24}" + "".join(f"{n:>{width}}" for n in names) + "".join(
        f"{'ratio ' + str(i + 1) + '/1':>12}" for i in range(1, len(runs)))
    lines = [header]
    formats = {key: fmt for key, _, _, fmt in _COMPARED}
    for key, label, (values, ratios) in compare_figures(runs):
        fmt = formats[key]
        cells = [("-" if v is None else human_bytes(v) if fmt == "bytes" else fmt.format(v)) for v in values]
        lines.append(f"{label:<24}" + "".join(f"{c:>{width}}" for c in cells)
                     + "".join(f"{r:>12.2f}" if r is not None else f"{'-':>12}" for r in ratios[1:]))
    return "\n".join(lines)


HOT_RATIO = 1.5  # a master with this many times the median master's commands is called hot


def hot_master_line(summary: dict[str, Any]) -> str | None:
    """One line when one master executed far more commands than the others (a hot slot), else None."""
    masters = [m for m in summary.get("masters", []) if m.get("status", "master") == "master"]
    if len(masters) < 2:
        return None
    counts = [m.get("commands", 0) for m in masters]
    median = statistics.median(counts)
    busiest = max(masters, key=lambda m: m.get("commands", 0))
    total = sum(counts)
    if not total or busiest.get("commands", 0) <= HOT_RATIO * max(median, 1):
        return None
    layout = summary.get("workload", {}).get("key_layout", "")
    why = {"single-hash": "every session is in the one hash ORS:<cluster>",
           "index": "every create, delete and recovery scan goes to the index ORS:<cluster>",
           "node-tag": "each HA pair's sessions are in one slot"}.get(layout, "")
    return (f"hot master: {busiest.get('node', '?')} executed {100 * busiest['commands'] / total:.0f} % of the "
            f"commands ({busiest['commands'] / max(median, 1):.1f}x the median master)" + (f": {why}" if why else ""))
