"""What each word of a run's text means (pure). ``loadsim explain [TERM]`` prints it; the text points at it.

One short explanation per term, in the words the text uses; the flags also say what to do next.
"""

from __future__ import annotations

import re

from loadsim.model.sizing import labels as sizing_labels

GLOSSARY: dict[str, str] = {
    "statistics window": "the part of the run after the warm-up / pre-fill: counts, errors, percentiles and "
                         "rates cover it, in loadsim's text, summary.json and Locust's tables, CSV and HTML alike",
    "warm-up": "operations due before the statistics window (the pre-fill that loads the cluster with live "
               "sessions, then --warmup seconds): counted apart and left out of every other figure",
    "count": "operations due in the statistics window, failed ones included (Locust's '# reqs')",
    "latency": "from the operation's intended start (when the model made it due) to Redis's last reply: "
               "waiting for a free ORS worker thread and a late scheduler count (no coordinated omission)",
    "service": "from sending the operation's first command to its last reply (what most benchmarks report)",
    "current": "read-back: the session record in Redis is the last write Redis acknowledged",
    "stale": "read-back: Redis holds an older write than the last acknowledged one: an acknowledged write was "
             "lost (e.g. a failover promoted a replica that had not received it)",
    "ahead": "read-back: Redis holds a newer write than the last acknowledged one: Redis applied it but its "
             "reply never reached the client (cut off by a timeout, a switchover or a failover); nothing lost",
    "never acknowledged": "read-back: no write of the session was ever acknowledged (its create was queued, "
                          "cut off or refused), so there is nothing it should hold; not a loss",
    "missing": "read-back: a session the client believed live has no record in Redis: an acknowledged write lost",
    "corrupt": "read-back: the record's checksum does not match its content",
    "clean run": "the run measured Redis: neither the generator nor the host limited it, and no master was at its "
                 "CPU ceiling",
    "rig-bound": "the generator or the host limited the run (schedule lag, generator CPU, CPU pressure, steal): its "
                 "latency says nothing about Redis and must not size anything. Next: what the first line says for the "
                 "cause it found: the generator's CPU -> --processes N (fewer HA pairs per process); the host's CPU "
                 "pressure or steal -> a quieter machine",
    "redis-bound": "a master was at its CPU ceiling, or Redis's own execution was most of the p99: the latency is "
                   "Redis's. Next: more masters (loadsim plan says how many), or a lighter workload per master",
    "fault": "a master was dead (refuses connections), stopped (answers neither its clients nor the cluster bus), "
             "paused (CLIENT PAUSE: answers the bus, holds its clients), silent, busy (answers BUSY) or out of memory "
             "(refuses writes with OOM), or the cluster was down: the first line names the master and the time. "
             "What the run measured is that fault (a stopped master makes the schedule fall behind, which is not "
             "the rig's doing). Next: read the fault's impact lines; size on a run without a fault. A 'fault at "
             "X s' line is one injected with --fault (kill, stop, pause a master ...): when and on which node, and "
             "when it ended",
    "master_fault": "a fault of Redis (see the FAULT line: a master dead, stopped, paused, busy or out of memory, "
                    "or the cluster down). Next: expected with --fault; otherwise find what stopped or paused the "
                    "master before reading any figure as Redis's capacity",
    "operations": "every operation of the whole run once (pre-fill, restores and cleaning included): due = sent + "
                  "not sent, sent = ok + errors (summary.json accounting); a count NOT ACCOUNTED FOR would be a bug",
    "not sent": "operations due that no ORS worker thread ever sent: still queued (behind a stopped master, a "
                "slow run) when the run ended. due = sent + not sent, sent = ok + errors",
    "unreadable": "read-back: the read failed (by error kind: connection, timeout, clusterdown ...), so nothing "
                  "is known of the session; every live session is never acknowledged, checked or unreadable",
    "lost with a dead master": "read-back: unreadable sessions on a master that refuses connections at the end "
                               "and whose slots no replica took over: with no replica (or AOF off) their data "
                               "went with it",
    "generator_saturated": "the load generator's CPU (p90 of per-second samples) was over 90 %: the latency may "
                           "be the generator's, not Redis's. Next: run with --processes 2 (or more), or fewer "
                           "HA pairs per run",
    "schedule_fell_behind": "the scheduler released operations late (schedule lag p99 over 10 ms) or achieved "
                            "less than 98 % of the offered rate: the percentiles include the rig's delay. Next: "
                            "look at the lag p99 printed beside the flag; on a busy machine repeat the run, "
                            "otherwise use --processes 2 or fewer HA pairs",
    "errors": "some operations failed (see 'errors by kind'). Next: look at the error windows and faults; "
              "without faults, check the cluster with 'loadsim check'",
    "no_steady_state": "the statistics window is missing or shorter than 5 s, too short for percentiles. "
                       "Next: a longer --run-time, or a shorter --warmup",
    "writes_paused": "someone ran CLIENT PAUSE on a node during the run (Redis's own commandstats say so, or the "
                     "node answered the cluster bus but not its clients at the end): its "
                     "clients, ORS's included, were held, which shows as latency without errors. Next: find who "
                     "paused it (a failover tool, an operator) before reading the latency as Redis's",
    "command_gap": "Redis's own command count and the client's differ: operations were cut off by a fault, stuck "
                   "on a silent node or lost with a dead master before Redis's counters were read; per-command "
                   "figures (CPU/command) are doubtful. Next: expected with faults; otherwise look at the errors "
                   "and the masters table",
    "eviction_allowed": "a master's maxmemory-policy evicts keys and --allow-eviction let the run go on: when "
                        "memory fills, Redis deletes sessions silently and they read back as missing. Next: set "
                        "maxmemory-policy noeviction (loadsim check fails such a cluster)",
    "cluster_audit": "the audit before the run (what loadsim check does) found what makes the numbers doubtful: "
                     "maxclients below the run's connections, nodes not connected, or a configuration it could not "
                     "read. Next: run loadsim check with an admin user and fix what it says",
    "cluster_held_data": "the masters held keys before the run's first write (an earlier run's sessions, other "
                         "data): memory per session is calibrated on what this run added (used_memory less the "
                         "data held before, summary.baseline), but keys it overwrote or that expired during the run "
                         "blur that. Next: flush the cluster (or use a fresh one) for memory figures you size on",
    "worker_late_steady": "a Locust worker heard of the master's one steady start late and began its steady "
                          "window then: its HA pairs' first seconds of steady operations are missing from the rates, "
                          "latency and commands per operation, while Redis's counters include them "
                          "(summary.late_steady_starts: which worker, how late, the share of the rates). Next: fewer "
                          "--processes on a busy host, or a quieter machine",
    "cluster_down": "for a while no master answered, or the cluster said cluster_state:fail (see the CLUSTER DOWN "
                    "line). Next: expected with faults; otherwise check the cluster with 'loadsim check'",
}


def explain(term: str) -> tuple[str, str] | None:
    """(the term as the glossary spells it, its explanation) for ``term`` (case and ``_``/``-``/space
    insensitive), or None."""
    wanted = _key(term)
    for name, text in GLOSSARY.items():
        if _key(name) == wanted:
            return name, text
    for alias, name in ALIASES.items():
        if _key(alias) == wanted and name in GLOSSARY:
            return name, GLOSSARY[name]
    from loadsim.model.sizing import ASSUMPTIONS  # a plan parameter: its own source says what it is

    for name, text in ASSUMPTIONS.items():
        if _key(name) == wanted and text:
            return name, f"a parameter of the target deployment (loadsim plan --{name.replace('_', '-')}): {text}"
    return None


def _key(term: str) -> str:
    return "".join(ch for ch in term.lower() if ch.isalnum())


GLOSSARY.update({
    # ---- a run's text
    "read-back": "after the run, every live session's record is read back from Redis and compared with the last "
                 "write Redis acknowledged: each falls in one bucket (current, stale, ahead, missing, corrupt, never "
                 "acknowledged, unreadable: 'loadsim explain read-back' lists them)",
    "run": "the scenario, when the run started (UTC), how long it ran and complete=True/False (False: interrupted "
           "or failed; its figures cover what was recorded)",
    "workload": "what was simulated: HA pairs x calls/s per pair, the average handle time (AHT), the session "
                "complexity preset, the key layout and the ORS worker threads per ORS node",
    "rates": "offered: the operations the model made due per second; achieved: those completed per second; "
             "commands/s: Redis commands (an operation is one or more); steady state unless it says whole run",
    "operation": "a persistence operation of an ORS session: session.create, session.update, session.delete, "
                 "session.recover (after a switchover), session.prefill (loading the live sessions before the "
                 "statistics window)",
    "percentiles": "p50, p90, p99, p99.9 and max of the latency (from the intended start) over the statistics "
                   "window, in µs (us): the value under which 50 %, 90 %, 99 %, 99.9 % and all of the operations "
                   "completed",
    "where the latency went": "each operation's p50 and p99 split into where the time went: before the send, the "
                              "client, the network, Redis and what is unexplained; each part is measured on its "
                              "own, so at p99 they need not add up to the total",
    "total": "the latency (from the intended start to Redis's last reply) the split starts from",
    "before the send": "time before the operation's first command left: schedule lag (the generator released it "
                       "late) and the wait for a free ORS worker thread; the rig's share, or ORS's queueing",
    "client": "the generator's own work on the operation: its commands x the generator's CPU per command (its CPU "
              "seconds over the steady window's commands, less its processes' own idle CPU measured before the "
              "load); the rig's share",
    "network": "the round trip: the operation's commands x the median PING round trip, measured during the same "
               "window by a probe outside the generator's event loop (loopback on the embedded cluster; give your "
               "production network's round trip to loadsim plan to size for it)",
    "unexplained": "the service time less the network, Redis and the client: what no measurement accounts for (the "
                   "generator waiting for a CPU or its event loop; Redis's queueing, small until a master nears its "
                   "core); counted as the rig's; negative when the measured parts exceed the service time",
    "Redis": "Redis's own execution of the operation's commands (INFO latencystats of Redis 7): what more masters "
             "or a lighter workload per master reduce",
    "live sessions": "sessions in Redis at a time: the steady window's mean, at the end, and Little's law's "
                     "expectation (arrivals/s x mean lifetime); they set the memory",
    "master": "a Redis Cluster master node (host:port): it owns slots, holds their sessions and executes their "
              "commands on one main thread",
    "used_memory": "Redis's INFO used_memory of the master at the end (bytes; the sizing uses the steady mean): "
                   "what maxmemory is compared with",
    "keys": "keys the master holds at the end (one per session record, plus index keys for the index layout)",
    "cpu s": "CPU seconds the master's process used during the run (INFO used_cpu_sys + used_cpu_user deltas)",
    "commands": "commands the master executed during the run (INFO commandstats deltas)",
    "state": "what became of a master during the run: DEAD, promoted, former master, or did not answer for a "
             "while; empty when it served the whole run",
    "server": "Redis's side: commands it counted (and the client's count beside it), CPU µs per command over every "
              "master; then the generator's CPU µs per command and its highest CPU % of one core",
    "generator": "the load generator (the Locust process simulating the ORS HA pairs): its CPU per command (net "
                 "of its processes' idle CPU, the gross figure beside it) and its peak CPU (gross); at its ceiling "
                 "the run is rig-bound",
    "flags": "what makes a run's numbers doubtful, each with its figure and what to do next ('loadsim explain "
             "flags' lists them); 'none' when nothing was raised and the run is clean",
    "hot master": "one master executed far more commands than the median master (a hot slot): the key layout "
                  "puts many sessions' commands on one slot; that master binds first",
    "index cleaning": "the index layout's periodical cleaning: index entries removed because their session had "
                      "expired",
    "switchover": "each HA pair's backup ORS took over (--switchover-at) and recovered the live sessions from "
                  "Redis: recovered, lost (never written or written but not found) and the slowest pair's time",
    "ORS client": "in a run's text, the simulated ORS's Redis Cluster client: slot-map reloads, connections "
                  "opened, reconnects, MOVED and ASK redirections during the run; in the latency prediction, the "
                  "ORS client's own time per command (redis-plus-plus over hiredis): not published, an assumption "
                  "(loadsim explain ors_client_us_per_command), more with TLS",
    "error window": "from a master's first failed command to the first success on its slots: how long its "
                    "sessions could not be written",
    "impact": "a fault's effect on the latency (its peak and when it was back under 2x the level before), on the "
              "backlog of operations due but not yet sent, and on the generator's CPU",
    "errors by kind": "failed operations by the error Redis or the client gave (timeout, connection, oom, busy, "
                      "clusterdown, moved ...)",
    "maxmemory reached": "Redis refused writes with OOM (maxmemory-policy noeviction): give the masters more "
                         "memory or hold fewer sessions",
    "CLUSTER DOWN": "a period in which no master answered or the cluster said cluster_state:fail: every "
                    "operation in it failed",
    "failover": "a master stopped answering (or became a replica) and its replica took over its slots: when, by "
                "whom, and how long it took; in a plan, the constraint that every master has a replica",
    # ---- a plan's verdict (and every report's headline: the same text)
    "PASS": "every constraint assessed holds for the target deployment (memory, CPU, connections, failover and "
            "the production latency)",
    "FAIL": "at least one constraint does not hold; the binding constraint says which and by how much",
    "NOT ASSESSED": "a constraint the plan cannot judge, with why; the verdict covers the others",
    "binding constraint": "the constraint with the smallest margin: the one that fails first as the load grows; "
                          "its value, its limit and the margin left",
    "latency SLO": "the p99 latency every persistence operation must stay under (--latency-slo-p99-us), against "
                   "the p99 predicted for production of each operation the workload sends (create, update, delete, "
                   "recovery), each with its own command count; the constraint names the operation with the highest "
                   "(see 'predicted p99 in production')",
    "predicted p99 in production": "per operation, commands x (the production network round trip + the ORS "
                     "client's own time per command) + Redis's own execution (the slowest command at its 1 - 1 %/k "
                     "quantile, the others at their p50; INFO latencystats) + Redis's queueing at the busiest "
                     "master's utilisation (the slowest command's wait at that quantile, the others' mean; M/M/1, or a "
                     "loadsim capacity curve); the test rig's own time is not in it (docs/workload.md)",
    "predicted p99": "the p99 of a persistence operation predicted for production: the composition of the "
                     "production round trip, the ORS client, Redis's execution and queueing (docs/workload.md)",
    "p99 at a": "the network round trip the latency prediction assumed (--network-rtt-us; default a LAN, 200 µs "
                "per Redis's benchmark docs, or given)",
    "network round trip": "the production round trip between an ORS host and a Redis node (--network-rtt-us): "
                          "an input; loadsim check measures it from the host it runs on",
    "Redis execution": "Redis's own time executing a command (INFO latencystats), from runs that were not "
                       "rig-bound, else the reference machine's",
    "Redis execution per command": "Redis's own time executing one command (INFO latencystats: p50 and p99), "
                                   "the median over the runs that were not rig-bound, else the reference "
                                   "machine's: the latency prediction's Redis part",
    "queueing": "the time a command waits for the master's event loop at the predicted utilisation: the M/M/1 "
                "wait with the master's CPU per command as its service time, or a loadsim capacity curve",
    "question": "what the verdict answers: plan's defaults (the vendor rule), a run's own deployment (plan --from "
                "RUN, the web tab, the report), or a sweep's largest point; with flags, a what-if over it",
    "what-if": "the flags given over the question, each as 'from -> to'",
    "more masters do not fix it": "the failing constraints that no master count fixes (no replica, connections "
                                  "per node, a hot slot, a round trip over the SLO), each with its own fix",
    "busiest master": "the master with the most load (all equal with per-session keys; the hot slot's master with "
                      "single-hash or index): its used_memory, the RAM it needs with the fork/AOF headroom, its CPU",
    "connections per node": "2 ORS nodes (primary and backup) x worker threads x HA pairs: each worker thread "
                            "holds a connection to each Redis node",
    "unit costs": "what one session, one operation and one command cost (bytes, commands, CPU µs): the model's "
                  "assumptions, or fitted on the runs given with --from, with where each comes from",
    "one master down": "what happens when a master fails: its replica is promoted and carries its slots, or, "
                       "without replicas, its slots and sessions are lost",
    "constraints": "every constraint with PASS, FAIL or NOT ASSESSED",
    "smallest master count that passes": "the fewest masters (3 or more) for which every constraint assessed "
                                         "holds at the target's load",
    "capacity envelope": "how far the target can grow with everything else as given: the most HA pairs, the "
                         "highest calls/s per pair and the largest session size that still pass, and what binds",
    "most HA pairs": "the most HA pairs the masters carry at the target's calls/s and session size",
    "highest calls/s per pair": "the highest calls/s per HA pair the masters carry at the target's HA pairs",
    "largest session size": "the largest mean session record (bytes) the masters hold at the target's load",
    "assumptions": "every parameter of the target deployment with its value and its source: vendor (documented "
                   "by Genesys or Redis) or assumption (not published: set your own with the flag of that name)",
    "results": "the run's results folder: summary.json, the series, Locust's tables (docs/results.md)",
    "record_bytes": "the mean session record size in bytes (loadsim plan --record-bytes); none: the complexity "
                    "preset's",
    "redis_version": "the Redis version family whose internals the memory model uses (7.0 or 7.2)",
    "allocator": "the memory allocator whose size classes the memory model uses (jemalloc, Redis's default)",
    "rate_scale": "the capacity envelope's search scale on the calls/s per pair (1 = the target's)",
    "size_scale": "the capacity envelope's search scale on the session size (1 = the target's)",
    "note": "something the plan took into account that changes how to read it",
    "warning": "the target lies outside what the runs measured: the prediction extrapolates",
    "estate": "an estate file (--estate) describes the operator's HA pairs in groups, each with its rates, "
              "session sizes and lifetimes",
    # ---- the reports' tables
    "class": "the run's class: clean, rig-bound or redis-bound (loadsim explain rig-bound, ...); only clean runs "
             "measure Redis's latency",
    "value": "the figure of the row, formatted for people (12,345 / 123.4 / 2.35 / 0.0123; '-' when there is none)",
    "source": "where an assumption comes from: vendor (a documented statement) or assumption (not published); for "
              "a unit cost: capacity measurement (loadsim capacity) > fitted runs > reference value (loadsim's "
              "defaults), the strongest one there is",
    "how": "how a unit cost was obtained: the measurement or the fit, and over what",
    "95 % interval": "the unit cost's 95 % interval over the runs ('-' below 3 runs, or for a reference value)",
    "unit cost for sizing": "what this run gives loadsim plan --from it: server CPU per command after the idle "
                            "masters' own CPU (measured before the load), at the run's bytes per command; the run's "
                            "own figure on the line above includes the idle CPU",
    "parameter": "a parameter of the target deployment: a flag of loadsim plan",
    "unit cost": "one of the unit costs the predictions use",
    "spread / note": "the unit cost's uncertainty (its spread or 95 % interval over the runs) or why there is none",
    "ha_pairs": "ORS HA pairs (a primary and a warm backup ORS node) simulated, or of the target",
    "masters": "Redis Cluster masters",
    "tls": "whether the connections to Redis used TLS",
    "complexity": "the session complexity preset: the size of a session record and the writes per session",
    "layout": "the key layout: per-session (one key per session record), single-hash (the one hash ORS:<cluster>), "
              "node-tag (a slot per HA pair) or index (per-session keys and an index hash)",
    "achieved_ops_per_s": "persistence operations completed per second in the steady window",
    "used_memory_mib": "used_memory summed over the masters, steady-window mean, MiB",
    "busiest_master_cpu_percent": "the busiest master's CPU over the steady window, % of one core",
    "server_cpu_us_per_command": "Redis's CPU per command over the run, µs (every master's CPU / commands)",
    "p99_update_us": "p99 latency of session.update (from the intended start), µs",
    "bytes per live session": "a run's used_memory over its live sessions (base memory apart): its own sessions' "
                              "size, measured",
    "model for its sessions": "what the memory model gives for that run's sessions",
    "measured / model": "the run's measured bytes per session over the model's: the calibration factor it gives",
    "server CPU µs/command": "the run's server CPU over its commands, whole run (idle CPU and pre-fill included)",
})

# the sizing constraints explain themselves: each row of the registry carries its text (a new row needs no entry)
GLOSSARY.update(sizing_labels())

# Other spellings of a glossary term as the text, the plan or a report's tables print it
ALIASES: dict[str, str] = {
    **{k: "percentiles" for k in ("p50 us", "p90 us", "p99 us", "p99.9 us", "max us", "p50", "p90", "p99",
                                  "p99.9", "max")},
    **{f"session.{op}": "operation" for op in ("create", "update", "delete", "recover", "prefill")},
    **{f"update {p} us": "percentiles" for p in ("p50", "p99", "p99.9")},
    "HA pairs": "ha_pairs", "TLS": "tls", "offered ops/s": "rates", "achieved ops/s": "achieved_ops_per_s",
    "commands/s": "rates", "server CPU us/command": "server_cpu_us_per_command",
    "client CPU us/command": "generator", "svc p99": "service", "svc": "service", "warmup": "warm-up",
    "errors": "errors",
    "live_sessions": "live sessions", "flags": "flags", "run class": "class", "REDIS-BOUND": "redis-bound",
    "error window on": "error window", "impact of": "impact", "fault at": "fault", "read-back NOT DONE": "read-back",
    "read-back incomplete": "read-back", "migration step": "migration step",
    "a replica per master": "failover", "failover: a replica per master": "failover",
}


def printed_labels(text: str) -> set[str]:
    """The labels a printed text (a run's summary, a plan, a report's verdict) uses, found as a reader finds them:
    the words before a line's first colon ("binding constraint", "RIG-BOUND"), the names in front of "a / b"
    figures ("before the send 175 / 2,064"), the names in front of PASS / FAIL / NOT ASSESSED ("memory PASS") and
    the cells of table header lines. Figures, addresses and prose are left out: a label has no digits apart from
    a percentile's (p99, p99.9)."""
    found: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("("):
            continue
        plain = line
        while True:  # parentheses say more about a label; they are not part of it
            stripped = re.sub(r"\s*\([^()]*\)", "", plain)
            if stripped == plain:
                break
            plain = stripped
        head = re.split(r":(?:\s|$)", plain, maxsplit=1)
        if len(head) == 2 and _label_like(head[0]):
            found.add(head[0].strip())
        for name in re.findall(r"(?:^|[:,;]\s*|\s{2,})([A-Za-z][A-Za-z.-]*(?: [A-Za-z.-]+)*)\s+"
                               r"(?:\d(?:[\d,.]*\d)?|n/a) / (?:\d(?:[\d,.]*\d)?|n/a)", plain):
            found.add(name.strip())
        parts = re.split(r";\s*", plain)
        if len(head) == 2:
            parts[0] = head[1]  # "constraints: memory PASS": the line's label is not the first constraint's
        for part in parts:
            m = re.match(r"([A-Za-z][\w -]*?)(?::[^;]*)? (?:PASS|FAIL|NOT ASSESSED)$", part.strip())
            if m and _label_like(m.group(1)):
                found.add(m.group(1).strip())
        cells = re.split(r"\s{2,}", plain)
        if len(cells) >= 3 and ":" not in line and all(_label_like(c) for c in cells):
            found.update(cells)  # a table's header
        elif len(cells) >= 3 and _label_like(cells[0]) and ": " not in cells[0]:
            found.add(cells[0])  # a table's row label
    return found


def _label_like(s: str) -> bool:
    words = s.strip()
    return (bool(words) and len(words.split()) <= 5 and "  " not in words
            and not re.search(r"\d", re.sub(r"\bp\d+(\.\d+)?\b", "", words)) and not words.startswith("-"))
