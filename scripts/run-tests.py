#!/usr/bin/env python3
"""The whole suite in parallel shards: ``make test`` runs this.

Why not pytest-xdist: its workers talk to the controller through execnet's threads, and the suite imports
Locust in-process, which monkey-patches threading with gevent; every xdist worker then dies with gevent's
``LoopExit: This operation would block forever`` on its first Locust import (tried: pytest-xdist 3.8,
``-n 3 --dist loadfile``; the same failure as locust issue #3202). Separate pytest processes, one per shard,
each importing whatever it likes, have no such channel.

The tests are dealt to ``--shards`` processes, longest first (the weights are the tests' durations in the
last run, kept in ``.pytest_cache/loadsim-durations.json``, else the checked-in ``tests/durations.json``; an
unknown test weighs 2 s). A file stays in one shard (its module fixtures start once) unless it alone would
weigh more than half a shard's share: then its tests are dealt one by one (the bad-input table is such a
file). Each shard runs its tests in a random order (pytest-randomly) with one seed for all shards; the seed is
printed and ``--seed N`` repeats an order. Every shard writes a JUnit XML file; the totals are read from those
files, not from pytest's text. The exit status is non-zero when any shard failed or errored.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DURATIONS = ROOT / "tests" / "durations.json"  # checked in: a fresh clone's first deal
LAST_DURATIONS = ROOT / ".pytest_cache" / "loadsim-durations.json"  # this checkout's last run
UNKNOWN_TEST_S = 2.0


def collect(paths: list[str]) -> list[str]:
    """The suite's test ids, as pytest collects them (one ``file::test`` per line with ``-q``)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *paths],
                          cwd=ROOT, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    ids = [line.strip() for line in proc.stdout.splitlines() if "::" in line]
    if proc.returncode != 0 or not ids:
        sys.stdout.write(proc.stdout + proc.stderr)
        raise SystemExit(f"run-tests: collecting the tests failed (exit {proc.returncode})")
    return ids


def deal(ids: list[str], weights: dict[str, float], shards: int) -> list[list[str]]:
    """Longest first to the least-loaded shard (greedy makespan); a file is one item unless it is heavy."""
    by_file: dict[str, list[str]] = {}
    for test in ids:
        by_file.setdefault(test.split("::")[0], []).append(test)
    total = sum(weights.get(t, UNKNOWN_TEST_S) for t in ids)
    heavy = total / shards / 2
    items: list[tuple[float, list[str]]] = []
    for f, tests in by_file.items():
        w = sum(weights.get(t, UNKNOWN_TEST_S) for t in tests)
        if w > heavy:
            items += [(weights.get(t, UNKNOWN_TEST_S), [t]) for t in tests]
        else:
            items.append((w, [f]))
    loads = [0.0] * shards
    buckets: list[list[str]] = [[] for _ in range(shards)]
    for w, item in sorted(items, key=lambda i: -i[0]):
        i = loads.index(min(loads))
        buckets[i] += item
        loads[i] += w
    return [b for b in buckets if b]


def totals(junit: Path) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    if not junit.exists():
        return counts
    root = ET.parse(junit).getroot()
    for suite in root.iter("testsuite"):
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    return counts


def test_durations(junit: Path) -> dict[str, float]:
    """Seconds per test id (its call plus its share of set-up), from one shard's JUnit XML."""
    out: dict[str, float] = {}
    if not junit.exists():
        return out
    for case in ET.parse(junit).getroot().iter("testcase"):
        # classname is tests.integration.test_x or tests.integration.test_x.TestClass
        parts = case.get("classname", "").split(".")
        cls = []
        while parts and not parts[-1].startswith("test_"):
            cls.insert(0, parts.pop())
        if parts:
            test = "::".join(["/".join(parts) + ".py", *cls, case.get("name", "")])
            out[test] = round(float(case.get("time", 0.0)), 2)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", type=int, default=int(os.environ.get("LOADSIM_TEST_SHARDS", "3")),
                    help="pytest processes at once (default 3, or LOADSIM_TEST_SHARDS)")
    ap.add_argument("--seed", type=int, default=None, help="pytest-randomly's seed (default: a new one)")
    ap.add_argument("paths", nargs="*", default=["tests/unit", "tests/integration"])
    args = ap.parse_args()
    if args.shards < 1:
        print("run-tests: --shards takes a whole number of at least 1", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    known = [p for p in (LAST_DURATIONS, DURATIONS) if p.exists()]
    weights = json.loads(known[0].read_text()) if known else {}
    ids = collect(args.paths)
    shards = deal(ids, weights, args.shards)
    print(f"run-tests: {len(ids)} tests in {len(shards)} shards, random order "
          f"--randomly-seed={seed} (repeat it with: scripts/run-tests.py --seed {seed})", flush=True)
    logs = Path(tempfile.mkdtemp(prefix="loadsim-tests-"))
    procs = []
    start = time.monotonic()
    for i, files in enumerate(shards):
        junit = logs / f"shard-{i}.xml"
        log = (logs / f"shard-{i}.log").open("w")
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "randomly", f"--randomly-seed={seed}",
               "--durations=5", f"--junitxml={junit}", "-o", "junit_family=xunit1", *files]
        procs.append((i, files, junit, log, subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                                             stdin=subprocess.DEVNULL)))
    failed = False
    durations: dict[str, float] = {}
    grand = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for i, files, junit, log, proc in procs:
        rc = proc.wait()
        log.close()
        text = (logs / f"shard-{i}.log").read_text(errors="replace")
        counts = totals(junit)
        for key in grand:
            grand[key] += counts[key]
        durations.update(test_durations(junit))
        bad = rc not in (0, 5)
        failed |= bad
        print(f"\n===== shard {i + 1}/{len(procs)}: {len(files)} files or tests, exit {rc}, "
              f"{time.monotonic() - start:.0f} s since start =====", flush=True)
        # the whole log of a failed shard, the tail of a passing one
        print(text if bad else "\n".join(text.rstrip().splitlines()[-8:]), flush=True)
    if failed:
        durations = {**weights, **durations}  # a failed shard's tests keep their last good figure
    try:
        LAST_DURATIONS.parent.mkdir(exist_ok=True)
        LAST_DURATIONS.write_text(json.dumps(dict(sorted(durations.items())), indent=1) + "\n")
    except OSError:
        pass  # a read-only checkout still runs its tests
    passed = grand["tests"] - grand["failures"] - grand["errors"] - grand["skipped"]
    print(f"\nrun-tests: {time.monotonic() - start:.0f} s, seed {seed}, logs in {logs}")
    print(f"{passed} passed, {grand['failures'] + grand['errors']} failed, {grand['skipped']} skipped")
    return 1 if failed or grand["tests"] == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
