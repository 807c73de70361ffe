"""A run's life in one place: its phases, the transitions between them, and the signals that end it.

Locust's runners own their ``STATE_*`` (init, spawning, running, stopping, stopped); a loadsim run has more to
say (an embedded cluster to start, a pre-fill before the steady window, a summary to write), so it owns its
own phases here, next to Locust's and never written into them::

    idle ──> starting the cluster ──> pre-fill ──> steady ──> stopping ──> writing the summary ──> done
      │                │                 │           │           ^                               interrupted
      └────────────────┴─────────────────┴───────────┴───────────┘  (any phase: a signal, a failure)  failed

A finished run (done / interrupted / failed) may be followed by another test in the same process (the web UI's
"new test"): it is "starting the test" while loadsim's ``test_start`` reads the form (and starts a cluster of a new
shape), then pre-fill or steady, or idle again if the form was refused. Locust says "spawning" only once
``test_start`` has returned: the web UI's page reads ``starting`` meanwhile (``webui.register``), so nothing writes
Locust's runner state from outside.

``SignalGuard`` installs the process's SIGINT and SIGTERM handlers through Python's ``signal.signal`` (what
gevent's own ``gevent.signal_handler`` and Locust build on), runs the chosen callback in a greenlet of its own
between operations, and puts back exactly the handlers it found when the run's process is done with them, so
that a command run in-process (a test, a library user, a notebook) leaves the signal state as it found it.
"""

from __future__ import annotations

import enum
import logging
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

import gevent

log = logging.getLogger("loadsim")


class Phase(enum.Enum):
    IDLE = "idle"  # no test yet (or between two tests of the web UI)
    STARTING_TEST = "starting the test"  # Locust fired test_start: options, cluster audit, results folder
    STARTING_CLUSTER = "starting the cluster"  # the embedded cluster is being started
    PREFILL = "pre-fill"  # the HA pairs write the sessions already in progress
    STEADY = "steady"  # the measured window
    STOPPING = "stopping"  # the HA pairs finish their operations in flight
    WRITING = "writing the summary"
    DONE = "done"
    INTERRUPTED = "interrupted"  # a signal (or Locust quitting mid-test) ended it; its summary says so
    FAILED = "failed"  # its results could not be written, or it could not start


ENDED = frozenset({Phase.DONE, Phase.INTERRUPTED, Phase.FAILED})
_STARTS = frozenset({Phase.STARTING_TEST, Phase.STARTING_CLUSTER, Phase.PREFILL, Phase.STEADY})
# every transition a run may make; anything else is a bug in the caller (logged, and made anyway: a wrong
# phase must never stop a summary from being written)
TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.IDLE: _STARTS | {Phase.INTERRUPTED, Phase.FAILED},
    Phase.STARTING_TEST: frozenset({Phase.STARTING_CLUSTER, Phase.PREFILL, Phase.STEADY, Phase.IDLE,
                                    Phase.INTERRUPTED, Phase.FAILED}),
    Phase.STARTING_CLUSTER: frozenset({Phase.IDLE, Phase.STARTING_TEST, Phase.PREFILL, Phase.STEADY,
                                       Phase.INTERRUPTED, Phase.FAILED}),
    Phase.PREFILL: frozenset({Phase.STEADY, Phase.STOPPING, Phase.WRITING, Phase.FAILED}),
    Phase.STEADY: frozenset({Phase.STOPPING, Phase.WRITING, Phase.FAILED}),
    Phase.STOPPING: frozenset({Phase.WRITING, Phase.FAILED}),
    Phase.WRITING: ENDED,
    Phase.DONE: _STARTS,
    Phase.INTERRUPTED: _STARTS,
    Phase.FAILED: _STARTS,
}


class Lifecycle:
    """The phase of this process's current run, and whether a signal asked it to end.

    ``interrupted`` stays true once a signal (or Locust quitting mid-test) ended a test: the summary says so.
    ``signalled`` is the first signal's mark: a repeated signal only says "please wait"."""

    def __init__(self) -> None:
        self.phase = Phase.IDLE
        self.interrupted = False
        self.signalled = False
        self.failed = False
        self.history: list[Phase] = [Phase.IDLE]
        self._after_cluster = Phase.IDLE  # where a started cluster returns to: idle, or the test being started

    def to(self, phase: Phase) -> None:
        if phase is self.phase:
            return
        if phase not in TRANSITIONS[self.phase]:
            log.debug("run phase %s -> %s is not a planned transition", self.phase.value, phase.value)
        self.phase = phase
        self.history.append(phase)

    # the named transitions the runtime makes
    def starting_test(self) -> None:
        """Locust fired test_start (the web UI's Start): the options are read, a cluster of another shape started,
        the results folder made, until ``test_started`` (or ``test_refused``)."""
        self.to(Phase.STARTING_TEST)

    def test_refused(self) -> None:
        """The test being started was refused (a bad value in the web form): nothing runs."""
        if self.phase is Phase.STARTING_TEST:
            self.to(Phase.IDLE)

    @property
    def starting(self) -> bool:
        """A test is being started (a cluster it needs too): the web UI's page must not see "ready" meanwhile."""
        return self.phase is Phase.STARTING_TEST or (self.phase is Phase.STARTING_CLUSTER
                                                     and self._after_cluster is Phase.STARTING_TEST)

    def starting_cluster(self) -> None:
        self._after_cluster = Phase.STARTING_TEST if self.phase is Phase.STARTING_TEST else Phase.IDLE
        self.to(Phase.STARTING_CLUSTER)

    def cluster_ready(self) -> None:
        if self.phase is Phase.STARTING_CLUSTER:
            self.to(self._after_cluster)

    def test_started(self, prefill: bool) -> None:
        """A test starts (Locust's test_start): a fresh run, in pre-fill or straight in its steady window."""
        self.failed = False
        self.to(Phase.PREFILL if prefill else Phase.STEADY)

    def steady(self) -> None:
        if self.phase is Phase.PREFILL:
            self.to(Phase.STEADY)

    def stopping(self, interrupted: bool) -> None:
        self.interrupted = self.interrupted or interrupted
        if self.phase in (Phase.PREFILL, Phase.STEADY):
            self.to(Phase.STOPPING)

    def writing(self) -> None:
        if self.phase not in ENDED:
            self.to(Phase.WRITING)

    def written(self, interrupted: bool, failed: bool = False) -> None:
        self.failed = self.failed or failed
        self.to(Phase.FAILED if self.failed else Phase.INTERRUPTED if interrupted else Phase.DONE)

    def fail(self) -> None:
        """The run cannot go on (its results cannot be written): it ends as failed once stopped."""
        self.failed = True

    def signal_received(self) -> bool:
        """A SIGINT or SIGTERM arrived: True for the first (it stops the run), False for a repeated one."""
        first = not self.signalled
        self.signalled = self.interrupted = True
        return first

    @property
    def running(self) -> bool:
        return self.phase in (Phase.PREFILL, Phase.STEADY)


Handler = Callable[[int, FrameType | None], Any] | int | None


class SignalGuard:
    """SIGINT and SIGTERM go to ``callback(signum)``, run in a greenlet of its own (never inside an HA pair's
    scheduler or the summary being written), until ``restore`` puts back the handlers found at ``install``.

    Python runs a ``signal.signal`` handler in the main thread between two bytecodes; this one only spawns the
    greenlet, so whatever was running goes on undisturbed until it next yields. gevent's hub checks for Python
    signals at least every 0.3 s while it waits (gevent's ``SIGNAL_CHECK_INTERVAL_MS``)."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, callback: Callable[[int], None]):
        self._callback = callback
        self._saved: dict[int, Handler] = {}

    @property
    def installed(self) -> bool:
        return bool(self._saved)

    def install(self) -> None:
        """Take over SIGINT and SIGTERM (again: Locust's command line installs its own SIGTERM handler after
        ``init``, through gevent; calling this later puts loadsim's back in front). Only in the main thread, as
        Python allows (elsewhere this does nothing)."""
        for signum in self.SIGNALS:
            # always set, even when Python's own record says it is ours: gevent's handlers (Locust's SIGTERM
            # handler) replace it below Python, where signal.getsignal does not see them
            try:
                previous = signal.signal(signum, self._handle)
            except ValueError:  # not the main thread (any greenlet of it is fine: gevent's threading is not)
                return
            self._saved.setdefault(signum, previous)

    def restore(self) -> None:
        """Put back the handlers found at the first ``install`` (None: one not set from Python, left as it is)."""
        saved, self._saved = self._saved, {}
        for signum, previous in saved.items():
            if previous is not None and signal.getsignal(signum) == self._handle:
                signal.signal(signum, previous)

    def ignore_until_exit(self) -> None:
        """The process exits now (Locust's command line after its ``quit``): a repeated signal changes nothing any
        more, and neither the default action (killed: exit -15 instead of the run's 130) nor a KeyboardInterrupt
        raised into the interpreter's exit (exit -2) may replace the run's exit code."""
        if self._saved:
            for signum in self.SIGNALS:
                signal.signal(signum, signal.SIG_IGN)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        gevent.spawn(self._callback, signum)
