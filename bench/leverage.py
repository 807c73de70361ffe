"""What does removing Python work per operation save in a real run? Prints figures; asserts nothing.

    .venv/bin/python bench/leverage.py [--rate 5000] [--pads 0,1200] [--repeats 3] [--seconds 25]

The generator's CPU per command in a run is several times what its Python work costs warm (``bench/hot_path.py``,
no sockets), so a cut measured there need not save as much in a run. This bench asks how much a known amount of
warm Python work per operation costs in a real run: ``--pads`` busy-loop iterations are added to every operation
(a wrapper around ``OrsNode.finished``, installed in the child by a ``sitecustomize`` of its own, so the product has
no knob for it), first in the hot path (its µs per operation added, warm), then in real headless Locust runs of
``scenarios/ha9.py`` on an embedded 3-master cluster (the generator bench's settings: 10 HA pairs x 4 worker threads,
the simple preset), the pads alternating round by round (the host is shared and noisy).

The leverage is the run's added CPU per operation over the hot path's: 1 means warm Python work costs the same in a
run as on its own, so removing it saves no more than it costs there; the rest of a run's CPU (the kernel's network
path, and the Python work's cache misses after each of its system calls) does not shrink with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import textwrap
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

# hot_path first: it imports Locust, whose gevent monkey-patching must come before anything imports ssl
import hot_path as H  # noqa: E402, I001
import generator as G  # noqa: E402

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster  # noqa: E402
from loadsim.locust import engine as E  # noqa: E402
from loadsim.model.workload import PRESETS  # noqa: E402

# Installed in the child's interpreter: wraps OrsNode.finished when loadsim.locust.engine is imported.
SITECUSTOMIZE = textwrap.dedent('''
    import importlib.abc, importlib.util, os, sys
    N = int(os.environ.get("LOADSIM_BENCH_PAD", "0"))

    def _pad():
        for _ in range(N):
            pass

    class _Hook(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "loadsim.locust.engine":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            run = spec.loader.exec_module

            def exec_module(module):
                run(module)
                finished = module.OrsNode.finished

                def padded(self, op, sent, done_ok, error):
                    _pad()
                    return finished(self, op, sent, done_ok, error)
                module.OrsNode.finished = padded
            spec.loader.exec_module = exec_module
            return spec

    if N:
        sys.meta_path.insert(0, _Hook())
''')


def hot_path_us_per_op(pad: int, rounds: int = 3) -> float:
    """The hot path's CPU µs per operation with ``pad`` iterations added to each (median of ``rounds``)."""
    finished = E.OrsNode.finished

    def padded(self, op, sent, done_ok, error):
        for _ in range(pad):
            pass
        return finished(self, op, sent, done_ok, error)

    E.OrsNode.finished = padded  # type: ignore[method-assign]
    try:
        return statistics.median(H.Bench("all").us_per_op(10.0, rounds))
    finally:
        E.OrsNode.finished = finished  # type: ignore[method-assign]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=5000.0, help="persistence operations per second")
    ap.add_argument("--pads", default="0,1200", help="busy-loop iterations added per operation, comma-separated")
    ap.add_argument("--repeats", type=int, default=3, help="alternating rounds of every pad")
    ap.add_argument("--seconds", type=int, default=25)
    a = ap.parse_args()
    try:
        pads = [int(p) for p in a.pads.split(",")]
    except ValueError:
        pads = []
    if len(pads) < 2 or pads[0] != 0 or any(p <= 0 for p in pads[1:]):
        raise SystemExit(f"--pads {a.pads!r}: give 0 first, then one or more iteration counts > 0 (e.g. 0,1200)")
    simple = PRESETS["simple"]
    per_op = G.commands_per_operation(simple)
    print(f"# leverage of warm Python work, {os.cpu_count()} cores, {G.host_state()}; {a.rate:.0f} ops/s, "
          f"{per_op:.2f} commands per operation; {G.interpreter()}")
    hot = {p: hot_path_us_per_op(p) for p in pads}
    for p in pads:
        print(f"hot path, pad {p}: {hot[p]:.2f} us CPU per operation")
    tmp = Path(tempfile.mkdtemp(prefix="loadsim-leverage-"))
    (tmp / "site").mkdir()
    (tmp / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    os.environ["PYTHONPATH"] = os.pathsep.join([str(tmp / "site"), *filter(None, [os.environ.get("PYTHONPATH")])])
    live: dict[int, list[float]] = {p: [] for p in pads}
    with EmbeddedCluster(ClusterSpec(masters=3)) as cluster:
        for rep in range(1, a.repeats + 1):
            for p in pads:
                os.environ["LOADSIM_BENCH_PAD"] = str(p)
                state = G.host_state()
                s, split = G.rate_run(cluster, a.rate, f"lev{rep}p{p}", tmp / f"r{rep}-p{p}", a.seconds)
                c, r = s["client"], s["rates"]
                live[p].append(c["cpu_us_per_command"])
                print(f"[{rep}] pad {p} ({state}): {c['cpu_us_per_command']:.1f} us CPU per command, achieved "
                      f"{100 * r['achieved_ops_per_s'] / max(1, r['offered_ops_per_s']):.1f} %; mid-run "
                      f"{G.split_text(split)}")
    base_live, base_hot = statistics.median(live[0]), hot[0]
    for p in pads[1:]:
        added_live = (statistics.median(live[p]) - base_live) * per_op  # µs per operation
        added_hot = hot[p] - base_hot
        print(f"pad {p}: the hot path adds {added_hot:.1f} us per operation, a run {added_live:.1f} us per operation "
              f"(medians of {a.repeats}): leverage {added_live / max(added_hot, 1e-9):.2f}")
    print(f"run without pad: {base_live:.1f} us CPU per command, of which the hot path's warm Python work is "
          f"{base_hot / per_op:.1f} us ({100 * base_hot / per_op / base_live:.0f} %); {G.host_state()} at the end")


if __name__ == "__main__":
    main()
