"""``CLUSTER NODES`` parsed once, into typed records (pure; no sockets).

One line per node (Redis docs, "CLUSTER NODES"):
``<id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot> ...``
where flags are ``myself``, ``master``, ``slave``, ``fail?``, ``fail``, ``handshake``, ``noaddr``, ``nofailover``,
``noflags``, and a slot is ``N``, ``A-B`` or a migration marker ``[N->-id]`` / ``[N-<-id]`` (not owned).
The monitor, ``loadsim check`` and the embedded cluster's readiness wait all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass

SLOTS = 16384


@dataclass(frozen=True)
class ClusterNode:
    """One line of CLUSTER NODES."""

    node_id: str
    host: str  # "" when the node does not know its own address yet (then use the address you reached)
    port: int
    flags: frozenset[str]
    master_id: str | None  # the master a replica follows
    link_state: str  # connected / disconnected
    slots: tuple[tuple[int, int], ...]  # owned ranges, inclusive; migration markers left out
    ping_sent_ms: int = 0  # when the reporting node sent the ping still waiting for a pong (ms epoch; 0: none)

    def bus_silent(self, now_ms: int, after_ms: int = 1000) -> bool:
        """True when this node does not answer the cluster bus, as the reporting node sees it: flagged failed or
        suspected, or a ping of ours unanswered for more than ``after_ms`` (a healthy node answers in ms; nodes
        ping each other several times a second). A stopped process answers nothing; a node under CLIENT PAUSE
        still answers the bus."""
        return bool(self.flags & {"fail", "fail?"}) or (self.ping_sent_ms > 0 and now_ms - self.ping_sent_ms > after_ms)

    @property
    def role(self) -> str:
        return "master" if "master" in self.flags else "replica"

    @property
    def failed(self) -> bool:
        """Flagged failed (``fail``) or unusable (``noaddr``, ``handshake``)."""
        return bool(self.flags & {"fail", "noaddr", "handshake"})

    @property
    def link(self) -> str:
        """``fail``, ``pfail`` (suspected: ``fail?``) or the link state."""
        return "fail" if "fail" in self.flags else ("pfail" if "fail?" in self.flags else self.link_state)

    @property
    def slot_count(self) -> int:
        return sum(b - a + 1 for a, b in self.slots)


def _address(text: str) -> tuple[str, int]:
    """``127.0.0.1:7000@17000``, ``[::1]:7000@17000``, ``10.0.0.1:7000@17000,redis-1`` → (host, port)."""
    addr = text.split(",", 1)[0].split("@", 1)[0]
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


def parse_nodes(text: str) -> list[ClusterNode]:
    """Every node of a CLUSTER NODES reply (malformed lines are skipped)."""
    nodes = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        try:
            host, port = _address(parts[1])
        except ValueError:
            continue
        slots = []
        for item in parts[8:]:
            if item.startswith("["):
                continue  # a slot migrating to / importing from another node: not owned
            a, _, b = item.partition("-")
            slots.append((int(a), int(b or a)))
        nodes.append(ClusterNode(parts[0], host, port, frozenset(parts[2].split(",")),
                                 None if parts[3] == "-" else parts[3], parts[7], tuple(slots),
                                 int(parts[4]) if parts[4].isdigit() else 0))
    return nodes

