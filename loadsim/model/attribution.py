"""Where an operation's latency went: the rig, the network, Redis (pure: numbers in, split out).

The client measures two times per operation (loadsim.results.recorder): ``latency`` from the intended start and
``service`` from the send of its first command to the reply of its last. For a percentile q (p50, p99):

* ``before_send_us`` = latency_q − service_q: the schedule's lag and the wait for a free ORS worker thread (the
  rig: in an open loop a due operation waits only for those);
* ``network_us`` = commands of the operation × the network round trip: the fastest PING on the monitor's idle
  connections to the masters during the same run (loopback: tens of µs; a slower PING was the host scheduling
  the monitor late, which is the rig's time, not the network's);
* ``redis_us`` = commands × Redis's own execution time per command at q (Redis 7's ``INFO latencystats``;
  older servers: the mean ``usec_per_call`` of ``INFO commandstats`` for both percentiles, and ``redis_source``
  says so);
* ``client_us`` = service_q − network − Redis: the generator's CPU and wake-ups (other processes on the host
  delay them), and Redis's event-loop queueing, which a client cannot tell apart (it is small unless the master
  is near its CPU ceiling, which the run's class then reports).

Percentiles do not subtract exactly (the slowest operations need not be slow for the same reason); each part is
the difference of percentiles, never below 0, and the parts are scaled down to sum to the total when the
measured parts exceed it.
"""

from __future__ import annotations

PERCENTILES = ("p50", "p99")
LATENCYSTATS_KEYS = {"p50": "p50", "p99": "p99"}


def split(latency_us: float, service_us: float, commands: float, network_us: float | None,
          redis_us_per_command: float | None) -> dict[str, float | None]:
    """One operation at one percentile: total, before_send, client, network, redis (µs; None when not measured)."""
    before = max(0.0, latency_us - service_us)
    network = commands * network_us if network_us is not None else None
    redis = commands * redis_us_per_command if redis_us_per_command is not None else None
    known = (network or 0.0) + (redis or 0.0)
    if known > service_us > 0:  # the measured parts exceed the service time: share it out in proportion
        factor = service_us / known
        network = network * factor if network is not None else None
        redis = redis * factor if redis is not None else None
        known = service_us
    client = max(0.0, service_us - known)
    return {"total_us": round(latency_us, 1), "before_send_us": round(before, 1), "client_us": round(client, 1),
            "network_us": None if network is None else round(network, 1),
            "redis_us": None if redis is None else round(redis, 1)}


def rig_us(part: dict[str, float | None]) -> float:
    """The rig's share of one split: waiting before the send plus the client's own time."""
    return float(part["before_send_us"] or 0.0) + float(part["client_us"] or 0.0)
