"""An estate: the operator's own HA pairs, described group by group (pure: a dict in, parameters out).

Operators know their estate as calls per busy hour per pair, a peak factor, pairs that differ, session
sizes measured on their own system (``MEMORY USAGE``, or Cassandra's mean partition size) and writes per
session. An estate file (TOML, read by ``loadsim.config.estate``) says that once, and the same file drives
``locust --estate``, ``loadsim plan --estate`` and the sizing notebook. Example: scenarios/estate-example.toml.

Each ``[[group]]`` is one or more identical HA pairs; keys left out come from ``[defaults]``, then from the
complexity preset, then from loadsim's defaults (``loadsim.defaults``). Explicit command-line flags
override the file for every group.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from typing import Any

from loadsim import defaults as D
from loadsim.errors import OptionsError
from loadsim.model import workload as wl

# key -> (meaning, type). Sizes are of the whole session data model in bytes.
GROUP_KEYS: dict[str, tuple[str, type | tuple[type, ...]]] = {
    "name": ("a name for the group, shown in reports", str),
    "pairs": ("HA pairs in the group (default 1)", int),
    "cps": ("calls per second per pair at the busy hour (or calls_per_busy_hour)", (int, float)),
    "calls_per_busy_hour": ("calls per busy hour per pair (or cps)", (int, float)),
    "peak_factor": ("peak over the busy-hour mean (default 1): the rate simulated is the peak", (int, float)),
    "aht_s": ("mean handle time, s", (int, float)),
    "digital_share": ("share of interactions that are digital (not persisted)", (int, float)),
    "complexity": ("preset the group's session starts from: simple, standard, complex", str),
    "session_bytes": ("mean size of a session's data, bytes (e.g. MEMORY USAGE of your sessions)", (int, float)),
    "session_sigma": ("lognormal sigma of the session size (0 = fixed)", (int, float)),
    "session_sizes": ("measured size histogram: [[bytes, weight], ...] (instead of bytes + sigma)", list),
    "records_per_session": ("data records a session is split into", int),
    "writes_per_session": ("persistence writes per session, create and delete included", (int, float)),
    "timer_share": ("share of updates that also rewrite the scheduled-actions record", (int, float)),
    "timer_bytes": ("size of the scheduled-actions record, bytes", int),
    "lifetime": ("table: routed_share, routing_s, extended_share, extended_s, leaked_share", dict),
}
LIFETIME_KEYS = ("routed_share", "routing_s", "extended_share", "extended_s", "leaked_share")
TOP_KEYS = ("name", "defaults", "group", "session_ttl_s", "key_layout", "worker_threads")


@dataclass(frozen=True)
class PairGroup:
    """One group of identical HA pairs: how many and the workload of each."""

    name: str
    pairs: int
    params: wl.WorkloadParams  # the workload of ONE pair of the group (ha_pairs is 1)

    @property
    def live_sessions(self) -> float:
        return self.pairs * self.params.expected_live_sessions

    @property
    def ops_per_s(self) -> float:
        return self.pairs * self.params.expected_ops_per_s


@dataclass(frozen=True)
class Estate:
    name: str
    groups: tuple[PairGroup, ...]
    source: str = ""  # the file it was read from

    @property
    def ha_pairs(self) -> int:
        return sum(g.pairs for g in self.groups)

    @property
    def live_sessions(self) -> float:
        return sum(g.live_sessions for g in self.groups)

    @property
    def ops_per_s(self) -> float:
        return sum(g.ops_per_s for g in self.groups)

    def group_of(self, pair_index: int) -> PairGroup:
        """The group of the pair with this 0-based index; indexes past the estate start over at the first."""
        i = pair_index % self.ha_pairs
        for g in self.groups:
            if i < g.pairs:
                return g
            i -= g.pairs
        raise AssertionError("unreachable")  # pragma: no cover

    def pair_loads(self) -> list[tuple[float, float]]:
        """(live sessions, persistence ops/s) of every pair, in pair order."""
        return [(g.params.expected_live_sessions, g.params.expected_ops_per_s)
                for g in self.groups for _ in range(g.pairs)]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "ha_pairs": self.ha_pairs,
                "expected_live_sessions": self.live_sessions, "expected_ops_per_s": self.ops_per_s,
                "groups": [{"name": g.name, "pairs": g.pairs, "cps_per_pair": g.params.cps_per_pair,
                            "aht_s": g.params.aht_s, "record_bytes_mean": g.params.complexity.record_bytes,
                            "writes_per_session": g.params.writes_per_session,
                            "mean_lifetime_s": g.params.mean_lifetime_s,
                            "live_sessions": g.live_sessions, "ops_per_s": g.ops_per_s} for g in self.groups]}


def _unknown(where: str, keys: set[str], known: tuple[str, ...] | list[str]) -> None:
    for key in sorted(keys - set(known)):
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
        raise OptionsError(f"{where}: unknown key '{key}'; {hint}")


# the valid values of the numbers an estate shares with the options (loadsim.defaults: once)
_RANGE = {name: d.range for name, d in D.DEFAULTS.items() if d.range is not None}


def _number(where: str, key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise OptionsError(f"{where}: {key} = {value!r}: must be a number from {low:g} to {high:g}")
    return float(value)


def _group(where: str, raw: dict[str, Any], base: wl.WorkloadParams) -> PairGroup:
    _unknown(where, set(raw), list(GROUP_KEYS))
    for key, value in raw.items():
        kind = GROUP_KEYS[key][1]
        if isinstance(value, bool) or not isinstance(value, kind):
            raise OptionsError(f"{where}: {key} = {value!r} is not a {GROUP_KEYS[key][0].split(',')[0]}; "
                               f"{key} is {GROUP_KEYS[key][0]}")
    pairs = int(_number(where, "pairs", raw.get("pairs", 1), 1, 10_000))
    if "cps" in raw and "calls_per_busy_hour" in raw:
        raise OptionsError(f"{where}: give cps or calls_per_busy_hour, not both")
    peak = _number(where, "peak_factor", raw.get("peak_factor", 1.0), 1.0, 100.0)
    if "calls_per_busy_hour" in raw:
        cps = _number(where, "calls_per_busy_hour", raw["calls_per_busy_hour"], 0.001, 3.6e7) / 3600.0 * peak
    elif "cps" in raw:
        cps = _number(where, "cps", raw["cps"], *_RANGE["cps_per_pair"]) * peak
    else:
        cps = base.cps_per_pair * peak
    c = wl.preset(raw["complexity"]) if "complexity" in raw else base.complexity
    changes: dict[str, Any] = {}
    if "session_sizes" in raw:
        if "session_bytes" in raw or "session_sigma" in raw:
            raise OptionsError(f"{where}: give session_sizes or session_bytes/session_sigma, not both")
        hist = []
        for entry in raw["session_sizes"]:
            if not (isinstance(entry, list) and len(entry) == 2):
                raise OptionsError(f"{where}: session_sizes entries are [bytes, weight] pairs, not {entry!r}")
            hist.append((int(_number(where, "session_sizes bytes", entry[0], 1, 1 << 20)),
                         _number(where, "session_sizes weight", entry[1], 0, 1e12)))
        if not hist or sum(w for _, w in hist) <= 0:
            raise OptionsError(f"{where}: session_sizes needs at least one entry with a weight above 0")
        changes["size_histogram"] = tuple(hist)
    if "session_bytes" in raw:
        changes["record_bytes"] = int(_number(where, "session_bytes", raw["session_bytes"], 1, 1 << 20))
    if "session_sigma" in raw:
        changes["record_sigma"] = _number(where, "session_sigma", raw["session_sigma"], 0, 3)
    if "records_per_session" in raw:
        changes["records"] = int(_number(where, "records_per_session", raw["records_per_session"],
                                         *_RANGE["records_per_session"]))
    if "writes_per_session" in raw:
        changes["updates_per_session"] = _number(where, "writes_per_session", raw["writes_per_session"], 2,
                                                 10_000) - 2
    if "timer_share" in raw:
        changes["timer_share"] = _number(where, "timer_share", raw["timer_share"], 0, 1)
    if "timer_bytes" in raw:
        changes["timer_bytes"] = int(_number(where, "timer_bytes", raw["timer_bytes"], 0, 1 << 20))
    if changes:
        c = replace(c, name=c.name + "+estate", source="estate file", **changes)
    lifetime = raw.get("lifetime", {})
    _unknown(f"{where}.lifetime", set(lifetime), LIFETIME_KEYS)
    life = {k: _number(f"{where}.lifetime", k, v, *_RANGE.get(k, (0, 1 if k.endswith("share") else 3.2e7)))
            for k, v in lifetime.items()}
    params = replace(base, ha_pairs=1, cps_per_pair=cps, complexity=c,
                     aht_s=_number(where, "aht_s", raw.get("aht_s", base.aht_s), *_RANGE["aht_s"]),
                     digital_share=_number(where, "digital_share", raw.get("digital_share", base.digital_share),
                                           *_RANGE["digital_share"]), **life)
    return PairGroup(str(raw.get("name", where)), pairs, params)


def estate_from_dict(data: dict[str, Any], base: wl.WorkloadParams, source: str = "estate",
                     fixed: frozenset[str] = frozenset()) -> Estate:
    """An Estate from a parsed TOML document. ``base`` supplies what neither the group nor ``[defaults]``
    says (and the estate-wide layout, TTL and threads); ``fixed`` names the WorkloadParams fields given on
    the command line, which the file's estate-wide keys do not change. Raises OptionsError naming the file
    and key."""
    _unknown(source, set(data), TOP_KEYS)
    groups = data.get("group")
    if not isinstance(groups, list) or not groups:
        raise OptionsError(f"{source}: no [[group]] tables: describe at least one group of HA pairs "
                           "(see scenarios/estate-example.toml)")
    top: dict[str, Any] = {}
    if "session_ttl_s" in data:
        top["session_ttl_s"] = int(_number(source, "session_ttl_s", data["session_ttl_s"],
                                           *_RANGE["session_ttl_s"]))
    if "key_layout" in data:
        if data["key_layout"] not in wl.KEY_LAYOUTS:
            raise OptionsError(f"{source}: key_layout = {data['key_layout']!r}; use one of {', '.join(wl.KEY_LAYOUTS)}")
        top["key_layout"] = data["key_layout"]
    if "worker_threads" in data:
        top["worker_threads"] = int(_number(source, "worker_threads", data["worker_threads"],
                                            *_RANGE["worker_threads"]))
    base = replace(base, **{k: v for k, v in top.items() if k not in fixed})
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise OptionsError(f"{source}: [defaults] must be a table")
    out = []
    for i, raw in enumerate(groups):
        if not isinstance(raw, dict):
            raise OptionsError(f"{source}: group {i + 1} is not a table")
        merged = {**defaults, **raw, "lifetime": {**defaults.get("lifetime", {}), **raw.get("lifetime", {})}}
        if not merged["lifetime"]:
            del merged["lifetime"]
        where = f"{source}: group {i + 1}" + (f" ({raw['name']})" if "name" in raw else "")
        try:
            out.append(_group(where, merged, base))
        except OptionsError as exc:
            text = str(exc)
            raise OptionsError(text if text.startswith(where) else f"{where}: {text}") from None
    return Estate(str(data.get("name", source)), tuple(out), source)


def with_overrides(estate: Estate, overrides: dict[str, Any]) -> Estate:
    """The estate with explicit command-line values applied to every group (WorkloadParams field names)."""
    if not overrides:
        return estate
    groups = []
    for g in estate.groups:
        c_fields = {k: v for k, v in overrides.items() if k in COMPLEXITY_FIELDS}
        p_fields = {k: v for k, v in overrides.items() if k not in c_fields and k != "complexity"}
        c = overrides["complexity"] if "complexity" in overrides else g.params.complexity
        if c_fields:
            c = replace(c, **c_fields)
        groups.append(replace(g, params=replace(g.params, complexity=c, **p_fields)))
    return replace(estate, groups=tuple(groups))


WORKLOAD_FIELDS = frozenset({"cps_per_pair", "aht_s", "digital_share", "session_ttl_s", "worker_threads",
                             "key_layout", "routed_share", "routing_s", "extended_share", "extended_s",
                             "leaked_share", "cleanup_period_s", "cleanup_batch"})
COMPLEXITY_FIELDS = frozenset({"record_bytes", "record_sigma", "updates_per_session", "timer_share", "timer_bytes",
                               "records"})


def estate_with_flags(data: dict[str, Any], name: str, given: dict[str, Any],
                      base: wl.WorkloadParams | None = None) -> Estate:
    """The estate of a parsed file with the values given on the command line applied to every pair, for
    ``locust --estate`` and ``loadsim plan --estate`` alike. ``given`` is keyed by WorkloadParams field names
    (``WORKLOAD_FIELDS``), Complexity field names (``COMPLEXITY_FIELDS``) and ``complexity`` (a preset name);
    other keys are not the estate's business. Given estate-wide values win over the file's."""
    overrides = {k: v for k, v in given.items() if k in WORKLOAD_FIELDS}
    estate = estate_from_dict(data, base or wl.WorkloadParams(), name, frozenset(overrides))
    overrides.update({k: v for k, v in given.items() if k in COMPLEXITY_FIELDS})
    if "record_bytes" in overrides:
        overrides["record_bytes"] = int(overrides["record_bytes"])
    if "complexity" in given:
        overrides["complexity"] = wl.preset(given["complexity"])
    return with_overrides(estate, overrides)
