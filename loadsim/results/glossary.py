"""What each word of a run's text means (pure). ``loadsim explain [TERM]`` prints it; the text points at it.

One short explanation per term, in the words the text uses; the flags also say what to do next.
"""

from __future__ import annotations

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
    "unreadable": "read-back: the record could not be read (an error, e.g. its master was down): neither kept "
                  "nor lost as far as the run can tell",
    "clean run": "the run measured Redis: neither the generator nor the host limited it, and no master was at its "
                 "CPU ceiling",
    "rig-bound": "the generator or the host limited the run (schedule lag, generator CPU, CPU pressure, steal): its "
                 "latency says nothing about Redis and must not size anything. Next: --processes 2, fewer HA pairs "
                 "per run, or a quieter machine",
    "redis-bound": "a master was at its CPU ceiling, or Redis's own execution was most of the p99: the latency is "
                   "Redis's. Next: more masters (loadsim plan says how many), or a lighter workload per master",
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
    "writes_paused": "someone ran CLIENT PAUSE on a node during the run (Redis's own commandstats say so): its "
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
    return None


def _key(term: str) -> str:
    return "".join(ch for ch in term.lower() if ch.isalnum())
