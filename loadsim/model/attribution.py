"""Where an operation's latency went: the rig, the network, Redis (pure: numbers in, split out).

The client measures three times per operation (loadsim.results.recorder): ``latency`` from the intended start,
``service`` from the send of its first command to the reply of its last, and ``before_send`` (latency − service of
each operation). For a percentile q (p50, p99) every part is measured on its own, none is a residual forced to fit:

* ``before_send_us``: the q-th percentile of the time before the send (the schedule's lag and the wait for a free
  ORS worker thread: the rig's);
* ``network_us`` = commands of the operation × the network round trip: the median PING round trip measured by a
  probe in a process of its own (``loadsim.redis.roundtrip``: outside the generator's event loop) during the same
  window;
* ``redis_us`` = commands × Redis's own execution time per command at q (Redis 7's ``INFO latencystats``;
  older servers: the mean ``usec_per_call`` of ``INFO commandstats`` for both percentiles, and ``redis_source``
  says so);
* ``client_us`` = commands × the generator's CPU per command (its CPU seconds over the commands of the steady
  window: the client's own work, the same at both percentiles);
* ``unexplained_us`` = service_q − network − Redis − client: what no measurement accounts for (the generator
  waiting for a CPU or for its event loop, busy with other operations; Redis's event-loop queueing, small until a
  master nears its core). It is shown, not hidden in another part; negative means the measured parts exceed the
  service time at q.

Percentiles do not add: ``before_send`` + service parts need not equal ``total`` at p99 (the slowest operations
need not be slow for the same reason). Each row (part) is a percentile of its own or a constant, so no part's p99
is below its p50 (but ``unexplained``, a difference, whose p99 is service p99 less the same constants).

The rig's share of a percentile (``rig_us``) is everything but the network and Redis's execution: the time before
the send, the client's CPU and the unexplained rest. A run is classified on it (loadsim.model.runclass).
"""

from __future__ import annotations

PERCENTILES = ("p50", "p99")
LATENCYSTATS_KEYS = {"p50": "p50", "p99": "p99"}


def split(latency_us: float, service_us: float, commands: float, network_us: float | None,
          redis_us_per_command: float | None, before_send_us: float | None = None,
          client_us_per_command: float | None = None) -> dict[str, float | None]:
    """One operation at one percentile: total, before_send, client, network, redis and unexplained (µs; None when
    not measured). ``before_send_us``: the percentile of the time before the send (None: an older recorder without
    it, and latency − service stands in)."""
    before = before_send_us if before_send_us is not None else max(0.0, latency_us - service_us)
    network = commands * network_us if network_us is not None else None
    redis = commands * redis_us_per_command if redis_us_per_command is not None else None
    client = commands * client_us_per_command if client_us_per_command is not None else None
    unexplained = service_us - sum(v for v in (network, redis, client) if v is not None)
    return {"total_us": round(latency_us, 1), "before_send_us": round(before, 1),
            "client_us": None if client is None else round(client, 1),
            "network_us": None if network is None else round(network, 1),
            "redis_us": None if redis is None else round(redis, 1), "unexplained_us": round(unexplained, 1)}


def rig_us(part: dict[str, float | None]) -> float:
    """The rig's share of one split: all of the total but the network and Redis's execution (never below 0)."""
    return max(0.0, float(part["total_us"] or 0.0) - float(part.get("network_us") or 0.0)
               - float(part.get("redis_us") or 0.0))
