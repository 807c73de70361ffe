"""The shapes of every ``--json`` output, as JSON Schema (pure). docs/results.md shows them (generated from here);
the tests validate each command's output against its shape.

One shape per command, always the same whatever was asked (one run or many): scripts never test whether they got
a dict or a list. Every element that comes from a run names its folder (``run``: the folder's name, ``path``: as
given or found). Keys not listed may be added later; the listed ones stay.
"""

from __future__ import annotations

from typing import Any

_STR, _BOOL, _INT = {"type": "string"}, {"type": "boolean"}, {"type": "integer"}
_NUM = {"type": "number"}
_NULLNUM = {"type": ["number", "null"]}
_FIGURE = {"type": ["number", "string", "boolean", "null"]}


def _d(shape: dict[str, Any], text: str) -> dict[str, Any]:
    return {**shape, "description": text}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": list(required), "properties": {**required, **(optional or {})}}


_RUN = {"run": {**_STR, "description": "the run folder's name"},
        "path": {**_STR, "description": "the run folder"}}

SHAPES: dict[str, dict[str, Any]] = {
    "results show": _obj({
        "runs": {"type": "array", "description": "one element per run found (a run folder gives one)",
                 "items": _obj({**_RUN, "summary": _d(_obj(
                     {"schema_version": _d(_INT, "the current version: older files are upgraded on reading"),
                      "complete": _d(_BOOL, "false: the run was cut off before its summary (a stub)")},
                     {"operations": {"type": "object"}, "rates": {"type": "object"}, "flags": {"type": "object"}}),
                     "the run's summary.json: every key in the table above")})},
    }),
    "results compare": _obj({
        "baseline": {**_STR, "description": "the first run's name: ratios divide by its figures"},
        "figures": {"type": "object", "description": "key -> label of the figures compared",
                    "additionalProperties": _STR},
        "runs": {"type": "array", "items": _obj({
            **_RUN,
            "figures": {"type": "object", "description": "key -> the run's figure (null: not in this run)",
                        "additionalProperties": _FIGURE},
            "ratio_to_baseline": {"type": "object", "description": "key -> figure / the baseline's (null: no "
                                  "ratio: not a number, or the baseline's is 0)",
                                  "additionalProperties": {"type": ["number", "null"]}}})},
    }),
    "plan": _obj({
        "passed": _d(_BOOL, "the verdict: PASS (exit 0) or FAIL (exit 3)"),
        "headline": _d(_STR, "the verdict's first line: PASS or FAIL, the cluster, the round trip the latency "
                             "assumed, the question when it is not plan's defaults"),
        "question": _d(_obj({"asked": _d(_STR, "plan's defaults, a run's own deployment or a sweep's largest point"),
                             "changed": _d({"type": "array"}, "the what-if: {name, from, to} per flag given")}),
                       "what the verdict answers"),
        "masters_text": _d(_STR, "the smallest master count that passes, or what more masters cannot fix and "
                                 "each one's own fix"),
        "binding": {"type": "object", "description": "the constraint with the smallest margin"},
        "constraints": {"type": "array",
                        "description": "every row of the sizing registry (loadsim.model.sizing.RULES) the deployment "
                                       "asks for: memory, CPU, connections, latency ...",
                        "items": _obj({"name": _STR, "ok": _BOOL},
                                      {"short": _d(_STR, "the name without its explanation (memory, CPU ...)"),
                                       "status": _d(_STR, "PASS, FAIL or NOT ASSESSED"),
                                       "value": _FIGURE, "limit": _FIGURE, "unit": _STR, "margin": _FIGURE,
                                       "figures": _d(_STR, "value of limit and margin as plan, the report and the "
                                                           "web tab print them"),
                                       "fix": _d(_STR, "what fixes it when it fails"),
                                       "masters_fix": _d(_BOOL, "more masters fix it (false: its own fix is the "
                                                                "answer)")})},
        "deployment": _d({"type": "object"}, "the target deployment: every field, as given or defaulted"),
        "prediction": _d(_obj({
            "master_ceiling_commands_per_s": _d(_NUM, "commands/s of this workload one master carries at the CPU "
                                                      "ceiling less its idle share: the one ceiling the CPU "
                                                      "constraint uses (loadsim capacity prints it for its folder)"),
            "busiest_master_commands_per_s": _d(_NUM, "commands/s on the busiest master")}, {
            "latency": _d({"type": ["object", "null"], "properties": {
                "queueing": _d(_STR, "which queueing the p99 used: 'measured curve (capacity run ...)' or "
                                     "'M/M/1 (assumption) ...'")}}, "the predicted p99's parts")}),
            "live sessions, ops/s, memory and CPU per master, p99_us (the binding operation's), latency (its "
            "composition, with operation), latency_by_operation (every operation the workload sends: create, update, "
            "delete, recovery), latency_line (the line plan prints) ..."),
        "unit_costs": _d(_obj({
            "source": _d(_STR, "measured (the runs' folder) or the built-in assumptions"),
            "server_cpu": _d(_obj({"us_per_command": _d(_NUM, "server CPU per command the prediction uses, µs, at "
                                                               "bytes_per_command (the line plan prints)"),
                                   "bytes_per_command": _d(_NUM, "bytes a master receives per command of the "
                                                                 "target's sessions (the model's)"),
                                   "tls": _BOOL, "line": _d(_STR, "the line plan, the report and capacity print")}),
                              "the CPU per command the prediction uses"),
            "table": _d({"type": "array", "items": _obj({
                "unit cost": _STR, "value": _NUM, "unit": _STR,
                "source": _d(_STR, "capacity measurement, fitted runs or reference value (that precedence)"),
                "basis": _d(_STR, "how it was obtained"),
                "interval": _d({"type": ["array", "null"]}, "95 % interval, null without one")})},
                "every unit cost with its source, as the report's unit-cost table")}),
                         "the unit costs the prediction used (loadsim.model.unitcosts)"),
        "envelope": _d({"type": "object"}, "how far the deployment goes: HA pairs, call rate ... before a limit"),
        "from": {"type": ["string", "null"], "description": "--from: the runs the unit costs were fitted to"},
        "runs": {"type": "array", "description": "with --from: the run folders fitted (empty without)",
                 "items": _obj(_RUN)},
    }),
    "check": _obj({
        "seed": _d(_STR, "the node connected to first"), "version": _d(_STR, "Redis version"),
        "tls": _STR, "auth": _d(_STR, "user and password, as a sentence: the password is never printed"),
        "cluster_state": _d(_STR, "CLUSTER INFO's cluster_state (ok / fail)"),
        "slots_covered": _d(_INT, "hash slots served by a master (16384: all)"),
        "nodes": {"type": "array", "items": _obj({"address": _STR, "role": _STR, "slots": _INT, "link": _STR})},
        "notes": _d({"type": "array", "items": _STR}, "warnings, one sentence each"),
        "masters": _d(_INT, "masters found"), "replicas": _d(_INT, "replicas found"),
        "network_rtt_us": _d({"type": "object"}, "PING round trips from this host to the seed node, µs: p50, p99, "
                                                 "min, count (size production with loadsim plan --network-rtt-us)"),
        "config": _d(_obj({"audited": _d(_BOOL, "CONFIG GET was allowed"),
                           "per_master": _d({"type": "object"}, "address -> parameter -> value")}),
                     "each master's configuration audit"),
    }),
    "sweep": _obj({
        "sweep": {**_STR, "description": "the sweep folder"},
        "complete": _d(_BOOL, "false: the sweep was interrupted"),
        "runs": {"type": "array", "description": "one element per run, in the order run",
                 "items": _obj({**_RUN, "ok": _d(_BOOL, "the run wrote its summary"),
                                "seconds": _d(_NUM, "wall-clock time of the run")},
                               {"error": _d(_STR, "why it failed (last line of its log)"),
                                "interrupted": _BOOL})},
        "failed": {"type": "array", "description": "names of the runs that wrote no summary", "items": _STR},
        "verdict": {"type": ["string", "null"], "description": "the verdict line the text prints (loadsim plan "
                    "--from the sweep); null when a run failed"},
        "next": {**_STR, "description": "the command to run next"},
    }),
    "compare-tls": _obj({
        "compare": {**_STR, "description": "the comparison's folder"},
        "complete": _d(_BOOL, "false: the comparison was interrupted"),
        "ratios": _d({"type": "object", "additionalProperties": _obj(
            {"ratio": _NULLNUM, "ci_low": _NULLNUM, "ci_high": _NULLNUM, "n": _INT},
            {"text": _d(_STR, "the ratio as every surface prints it: '1.41 [1.29, 1.55] ±9.9 %', or 'unresolved: "
                              "run longer (about N min for ±5 %)' when the interval is too wide to size with"),
             "resolved": _d(_BOOL, "the interval's relative half-width is at most 50 %"),
             "half_width": _d(_NULLNUM, "relative half-width of the interval (0.05 = ±5 %)"),
             "within_goal": _d(_BOOL, "within --precision (±5 % without it)"),
             "repeats_for_goal": _d({"type": ["integer", "null"]}, "paired repeats in all for the goal, estimated"),
             "minutes_for_goal": _d(_NULLNUM, "their wall-clock time at this comparison's pace, estimated")})},
            "metric -> TLS/plain geometric mean of the paired repeats and its 95 % interval (null: not enough "
            "pairs)"),
        "max_sustained_ops_per_s": _d({"type": "object", "additionalProperties": _NULLNUM},
                                      "arm (plain, tls) -> the highest step that met the SLO"),
        "cross_check": _d({"type": "object"}, "connection set-up times and redis-benchmark SET ops/s per arm"),
        "runs": {"type": "array", "description": "every run: the fixed-load pairs, then the saturation steps",
                 "items": _obj({**_RUN, "part": _d(_STR, "fixed, fixed fips (--fips), saturation plain or "
                                                        "saturation tls"),
                                "tls": _BOOL, "ok": _d(_BOOL, "the run wrote its summary"), "seconds": _NUM})},
        "failed": {"type": "array", "description": "names of the runs that wrote no summary", "items": _STR},
        "next": {**_STR, "description": "the command to run next"},
    }, {
        "answer": _d({"type": "object"}, "what the report opens with: lines (masters needed plain vs TLS, server "
                                         "CPU x, p99 x, most HA pairs and what binds), masters_needed and "
                                         "most_ha_pairs per arm, p99 (whose p99 the ratio is), question (the "
                                         "comparison's own deployment, as plan --json's question)"),
        "fips": _d({"type": "object"}, "with --fips: mode (which OpenSSL made the FIPS handshakes), repeats_used, "
                                       "ratios_to_plain and ratios_to_tls (metric -> FIPS arm / other arm, as "
                                       "ratios)"),
    }),
}


_OK = _d(_BOOL, "true: the command did its work (plan's FAIL verdict included: see passed); false: it failed "
             "(a failed check, a failed run) or was refused")
for _shape in SHAPES.values():  # every object leads with ok
    _shape["required"].insert(0, "ok")
    _shape["properties"] = {"ok": _OK, **_shape["properties"]}

# What every --json command prints on stdout when it fails (bad input, a failed check, an interrupt, an unexpected
# error), with its exit code unchanged; the command may add what it knew (check: its report's keys, fips).
FAILURE: dict[str, Any] = _obj({
    "ok": _d({"const": False, "type": "boolean"}, "always false"),
    "command": _d(_STR, "the command: check, plan, results show ..."),
    "error": _d(_STR, "the one line printed on stderr (the password never in it)"),
    "exit_code": _d(_INT, "the exit code: 1 a check or a run failed, 2 bad input or another error, 130 interrupted"),
})


def _rows(shape: dict[str, Any], path: str) -> list[tuple[str, str, str]]:
    """(key path, JSON type, meaning) of a shape, depth first; ``[]`` marks a list's elements."""
    out = []
    kind = shape.get("type", "")
    kinds = "/".join(kind) if isinstance(kind, list) else kind
    if path:
        out.append((path, kinds, shape.get("description", "")))
    if kind == "object":
        for key, sub in shape.get("properties", {}).items():
            optional = "" if key in shape.get("required", []) else " (optional)"
            rows = _rows(sub, f"{path}.{key}" if path else key)
            out += [(rows[0][0], rows[0][1], rows[0][2] + optional), *rows[1:]]
        if isinstance(shape.get("additionalProperties"), dict):
            out += _rows(shape["additionalProperties"], f"{path}.<key>")
    elif kind == "array" and "items" in shape:
        out += _rows(shape["items"], f"{path}[]")[1:] if shape["items"].get("type") == "object" else []
    return out


def markdown() -> str:
    """Each command's shape as a table for docs/results.md (generated: scripts/update_docs.py)."""
    parts = []
    for command, shape in [*SHAPES.items(), ("COMMAND (on failure)", FAILURE)]:
        parts += [f"`loadsim {command} --json`: an object", "", "| key | type | meaning |", "|---|---|---|"]
        parts += [f"| `{p}` | {t} | {d.strip()} |" for p, t, d in _rows(shape, "")]
        parts.append("")
    return "\n".join(parts).rstrip("\n")
