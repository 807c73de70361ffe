"""`loadsim capacity` results as the unit costs read them (no pandas: the web tab of a running test reads them too).

A capacity folder gives a master's CPU per command at saturation (per transport, plain or TLS) and its
latency-vs-load curve; ``with_capacity`` puts them into unit costs, where the composition reads the curve of the
question's transport only where it is valid for the question (``loadsim.model.latency.queueing``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from loadsim.errors import OptionsError, ResultsError
from loadsim.model import latency as lat
from loadsim.model import sizing as sz
from loadsim.model.latency import monotone_curve


def read_json(path: Path, fix: str = "rerun loadsim capacity or move it out of the folder") -> dict[str, Any] | None:
    """A results file's JSON; None when it is not there; a damaged one is one line naming it and ``fix``."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"'{path}' is damaged ({exc}); {fix}") from None


CAPACITY_FILE = "capacity.json"  # written by `loadsim capacity` (loadsim.experiments.capacity.CAPACITY_FILE)


@dataclass(frozen=True)
class Capacity:
    """A `loadsim capacity` result as unit costs read it: the closed loop's server CPU per command at a master's
    saturation (a driver faster than the master: the master's own cost, not the generator's limit)."""

    us_per_command: float
    bytes_per_command: float | None  # bytes the master received per command of the mix (None: older file)
    tls: bool
    where: str
    # the master's latency-vs-load curve: (Redis's CPU utilisation, p99 wait µs), increasing (none in older files)
    queue_curve: tuple[tuple[float, float], ...] = ()
    curve_driver: str = ""
    curve_connections: int = 0  # the most connections among the curve's kept levels (0: not recorded)
    curve_levels: int = 0  # levels the curve measured, kept or not (0: no curve in the file)


def kept_connections(curve: dict[str, Any]) -> int:
    """The most connections among the levels a capacity.json curve kept (its points): none when the unloaded level
    was left off (every wait is measured from it), 0 when the file does not record its levels."""
    levels = curve.get("levels") or []
    if not levels or not curve.get("points") or not levels[0].get("used", True):
        return 0
    return max(int(lv.get("clients") or 0) for lv in levels if lv.get("used", True))


def read_capacity(path: str | os.PathLike[str], tls: bool | None = None) -> Capacity | None:
    """The `loadsim capacity` result at or below ``path`` (with this TLS setting when given); None when none."""
    root = Path(path)
    files = [root / CAPACITY_FILE] if (root / CAPACITY_FILE).exists() else sorted(root.rglob(CAPACITY_FILE))
    for f in files:
        data = read_json(f) or {}
        us = (data.get("capacity") or {}).get("server_us_per_command_at_saturation")
        if us and (tls is None or bool(data.get("tls")) == tls):
            per_cmd = (data.get("closed_loop") or {}).get("bytes_per_command")
            curve = data.get("queue_curve") or {}
            return Capacity(float(us), float(per_cmd) if per_cmd else None, bool(data.get("tls")),
                            f"{f} (redis-benchmark closed loop at saturation)",
                            monotone_curve([(float(u), float(w)) for u, w in curve.get("points") or []]),
                            str(curve.get("driver") or ""), kept_connections(curve), len(curve.get("levels") or []))
    return None


def with_capacity(costs: sz.UnitCosts, capacity: Capacity) -> sz.UnitCosts:
    """``costs`` with the per-command CPU of a `loadsim capacity` result for its arm (plain or TLS)."""
    from loadsim.model import unitcosts as uc

    arm = uc.from_capacity(costs.cpu_for(capacity.tls), capacity.us_per_command, capacity.bytes_per_command,
                           capacity.where)
    out = replace(costs, **{"tls" if capacity.tls else "plain": arm},
                  source=f"{costs.source}; CPU per command ({'TLS' if capacity.tls else 'plain'}) from "
                         f"{capacity.where}")
    if capacity.queue_curve or capacity.curve_levels:
        # the master's measured queueing, for questions of its transport where it is valid for them
        # (loadsim.model.latency.queueing; else the M/M/1 assumption, said why: also when no level was kept)
        out = replace(out, redis_latency=out.redis_latency.with_curve(lat.QueueCurve(
            capacity.queue_curve, capacity.curve_connections, capacity.tls, curve_source(capacity))))
    return out


def with_capacity_of(costs: sz.UnitCosts, folders: tuple[str | os.PathLike[str] | None, ...], tls: bool | None
                     ) -> sz.UnitCosts:
    """``costs`` with each arm's (plain, TLS) `loadsim capacity` result, the first found among ``folders`` (a results
    folder, then the capacity folder a run was given: ``--capacity-from``); only ``tls``'s arm when it is given.
    The one way a capacity measurement enters unit costs: ``plan --from`` and the web tab's verdict
    (``loadsim.results.runs.unit_costs``) and the tab's live projection (``loadsim.locust.webui.projection``)."""
    for arm in (False, True):
        capacity = next((c for f in folders if f and (c := read_capacity(f, arm)) is not None), None)
        if capacity is not None and tls in (None, arm):
            costs = with_capacity(costs, capacity)
    return costs


def curve_source(capacity: Capacity) -> str:
    """The queueing label of a measured curve: ``measured curve (capacity run <file>, ...)``."""
    where = f"capacity run {capacity.where.split(' (')[0]}: {capacity.curve_driver or 'closed loop'}"
    if not capacity.queue_curve:
        return (f"{where}: its {capacity.curve_levels} levels were all left off, driver- or host-bound; measure it "
                "on a quieter machine")
    top = capacity.queue_curve[-1][0]
    kept = f"{capacity.curve_connections} connections" if capacity.curve_connections else "unrecorded connections"
    return (f"measured curve (capacity run {capacity.where.split(' (')[0]}: {capacity.curve_driver or 'closed loop'} "
            f"at increasing concurrency, {'TLS' if capacity.tls else 'plain'}, kept levels up to {kept} and "
            f"{100 * top:.0f} % of a core)")


def check_capacity_folder(path: str | os.PathLike[str], flag: str = "--capacity-from") -> str:
    """``path`` made absolute when a `loadsim capacity` result (capacity.json) lies at or below it; else
    OptionsError in one line naming the fix (before anything starts)."""
    root = Path(path).expanduser()
    if not root.is_dir():
        raise OptionsError(f"{flag} {path}: no such folder; give the folder `loadsim capacity --out` wrote (or leave "
                           "the option out: the verdict's queueing is then the M/M/1 assumption)")
    if not (root / CAPACITY_FILE).exists() and next(root.rglob(CAPACITY_FILE), None) is None:
        raise OptionsError(f"{flag} {path}: no {CAPACITY_FILE} at or below it; give the folder `loadsim capacity "
                           "--out` wrote (or leave the option out: the verdict's queueing is then the M/M/1 "
                           "assumption)")
    return str(root.resolve())
