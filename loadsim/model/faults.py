"""Fault schedules: what goes wrong, when, and to whom (pure: text in, a sorted schedule out).

``--fault`` is repeatable; each is ``AT:ACTION[:TARGET[:SECONDS]]`` with AT in seconds from the start of the
run:

    kill-master:N          SIGKILL master N (0-based, in slot order at the start): its replica takes over
    pause-master:N:S       SIGSTOP master N for S seconds, then SIGCONT (a hung node: sockets stay open)
    restart-master:N       SIGKILL master N and start it again on the same port and data directory
    failover:N             CLUSTER FAILOVER on a replica of master N (a manual, lossless switch)
    kill-replica:N         SIGKILL a replica of master N
    switchover:P|all       ORS switchover of HA pair P (0-based) or of every pair: the backup takes over
    crash-primary:P|all    the primary of pair P crashes: its queued work is lost, no graceful stop, and the
                           backup takes over (its sessions are recovered from Redis)
    crash-pair:P|all       primary and backup of pair P die: nobody deletes its sessions, which stay in Redis
                           until their TTL (watch keys and memory return to the baseline)

Faults on Redis need a cluster loadsim can act on (the embedded one); ORS faults work on any cluster.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

from loadsim.errors import OptionsError

REDIS_ACTIONS = ("kill-master", "pause-master", "restart-master", "failover", "kill-replica")
ORS_ACTIONS = ("switchover", "crash-primary", "crash-pair")
ACTIONS = REDIS_ACTIONS + ORS_ACTIONS
ALL = -1  # target of an ORS fault on every pair


@dataclass(frozen=True, order=True)
class Fault:
    at_s: float
    action: str
    target: int  # master index (Redis faults), pair index or ALL (ORS faults)
    seconds: float = 0.0  # pause length

    @property
    def on_redis(self) -> bool:
        return self.action in REDIS_ACTIONS

    def text(self) -> str:
        target = "all" if self.target == ALL else str(self.target)
        extra = f" for {self.seconds:g} s" if self.action == "pause-master" else ""
        return f"{self.at_s:g} s: {self.action} {target}{extra}"

    def as_dict(self) -> dict[str, object]:
        return {"at_s": self.at_s, "action": self.action, "target": "all" if self.target == ALL else self.target,
                "seconds": self.seconds}


USAGE = ("give AT:ACTION[:TARGET[:SECONDS]], e.g. 20:kill-master:0, 20:pause-master:1:15, 30:switchover:all; "
         f"actions: {', '.join(ACTIONS)}")


def _number(text: str, what: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OptionsError(f"--fault {spec}: {what} '{text}' is not a number; {USAGE}") from None
    if not math.isfinite(value) or value < 0:
        raise OptionsError(f"--fault {spec}: {what} {text} must be a finite number >= 0; {USAGE}")
    return value


def parse_fault(spec: str) -> Fault:
    """One ``--fault`` value. OptionsError (one line naming the value and the fix) if it is not one."""
    parts = spec.strip().split(":")
    if len(parts) < 2 or not parts[1]:
        raise OptionsError(f"--fault {spec!r}: not AT:ACTION[:TARGET[:SECONDS]]; {USAGE}")
    at = _number(parts[0], "time", spec)
    action = parts[1].strip().lower()
    if action not in ACTIONS:
        close = difflib.get_close_matches(action, ACTIONS, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise OptionsError(f"--fault {spec}: unknown action '{action}'; {hint}{USAGE}")
    if action in ORS_ACTIONS:
        target_text = parts[2].strip().lower() if len(parts) > 2 and parts[2] else "all"
        target = ALL if target_text == "all" else int(_number(target_text, "pair", spec))
    else:
        if len(parts) < 3 or not parts[2]:
            raise OptionsError(f"--fault {spec}: {action} needs a master index (0 = the first master); {USAGE}")
        target = int(_number(parts[2], "master", spec))
    seconds = 0.0
    if action == "pause-master":
        if len(parts) < 4 or not parts[3]:
            raise OptionsError(f"--fault {spec}: pause-master needs how long, e.g. {parts[0]}:pause-master:"
                               f"{parts[2]}:15")
        seconds = _number(parts[3], "pause", spec)
        if seconds <= 0:
            raise OptionsError(f"--fault {spec}: the pause must be longer than 0 s")
    elif len(parts) > 3 + (action in ORS_ACTIONS and len(parts) == 3):
        raise OptionsError(f"--fault {spec}: too many fields for {action}; {USAGE}")
    return Fault(at, action, target, seconds)


def parse_faults(specs: list[str] | tuple[str, ...] | str | None) -> tuple[Fault, ...]:
    """Every ``--fault`` value (a list, or one text with several separated by commas), in time order."""
    if not specs:
        return ()
    texts = [specs] if isinstance(specs, str) else list(specs)
    return tuple(sorted(parse_fault(s) for text in texts for s in str(text).split(",") if s.strip()))


def check_targets(faults: tuple[Fault, ...], masters: int, replicas: int, pairs: int, can_act_on_redis: bool) -> None:
    """Targets that exist in this run, and Redis faults only where loadsim can act (OptionsError otherwise)."""
    for f in faults:
        where = f"--fault {f.text()}"
        if f.on_redis:
            if not can_act_on_redis:
                raise OptionsError(f"{where}: loadsim can only kill, pause or fail over nodes of the embedded cluster "
                                   "it starts; leave out --redis-nodes, or act on your cluster yourself and use the "
                                   "ORS faults (switchover, crash-primary)")
            if not 0 <= f.target < masters:
                raise OptionsError(f"{where}: master {f.target} does not exist; masters are 0..{masters - 1}")
            if f.action in ("failover", "kill-replica") and replicas < 1:
                raise OptionsError(f"{where}: {f.action} needs replicas; start the cluster with --replicas 1")
        elif f.target != ALL and not 0 <= f.target < pairs:
            raise OptionsError(f"{where}: HA pair {f.target} does not exist; pairs are 0..{pairs - 1}")
