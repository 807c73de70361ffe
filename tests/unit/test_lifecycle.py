"""A run's lifecycle in one place, and signal handlers that leave the process as they found it."""

import os
import signal

import gevent
import pytest

from loadsim import cli
from loadsim.locust.lifecycle import ENDED, TRANSITIONS, Lifecycle, Phase, SignalGuard


def test_a_run_goes_through_its_phases_and_every_phase_has_a_way_out():
    life = Lifecycle()
    life.starting_cluster()
    life.cluster_ready()
    life.test_started(prefill=True)
    life.steady()
    life.stopping(interrupted=False)
    life.writing()
    life.written(interrupted=False)
    assert life.history == [Phase.IDLE, Phase.STARTING_CLUSTER, Phase.IDLE, Phase.PREFILL, Phase.STEADY,
                            Phase.STOPPING, Phase.WRITING, Phase.DONE]
    assert all(TRANSITIONS[p] for p in Phase)  # no phase is a dead end: an ended run may be followed by a new test
    assert TRANSITIONS[Phase.WRITING] == ENDED


def test_a_test_being_started_stays_starting_while_its_cluster_starts_and_until_it_runs_or_is_refused():
    """What the web UI's page reads instead of Locust's "ready" while loadsim's test_start works (plugin.py used to
    set Locust's runner state from outside for that)."""
    life = Lifecycle()
    life.starting_cluster()  # at start-up: no test is being started
    assert not life.starting
    life.cluster_ready()
    life.starting_test()
    assert life.starting
    life.starting_cluster()  # the form asked for another cluster shape
    assert life.starting
    life.cluster_ready()
    assert life.starting and life.phase is Phase.STARTING_TEST
    life.test_started(prefill=False)
    assert not life.starting and life.phase is Phase.STEADY
    life.stopping(interrupted=False)
    life.writing()
    life.written(interrupted=False)
    life.starting_test()
    life.test_refused()  # a bad value in the form
    assert not life.starting and life.phase is Phase.IDLE
    assert all(b in TRANSITIONS[a] for a, b in zip(life.history, life.history[1:], strict=False)), life.history


def test_a_signal_makes_the_run_interrupted_once_and_a_write_failure_makes_it_failed():
    life = Lifecycle()
    life.test_started(prefill=False)
    assert life.phase is Phase.STEADY
    assert life.signal_received() and not life.signal_received()  # the second only says "please wait"
    life.stopping(interrupted=True)
    life.writing()
    life.written(interrupted=life.interrupted)
    assert life.phase is Phase.INTERRUPTED
    life.test_started(prefill=False)
    life.fail()
    life.writing()
    life.written(interrupted=False)
    assert life.phase is Phase.FAILED


def _state():
    return {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}


def test_the_signal_guard_runs_its_callback_in_a_greenlet_and_puts_back_what_it_found():
    before = _state()
    seen = []
    guard = SignalGuard(seen.append)
    guard.install()
    guard.install()  # again (as after Locust's own SIGTERM handler): what it found first is what it restores
    os.kill(os.getpid(), signal.SIGTERM)
    gevent.sleep(0.05)
    assert seen == [signal.SIGTERM]
    guard.restore()
    assert _state() == before


def test_a_command_stops_on_sigint_even_when_it_inherited_sigint_ignored():
    """A process started in the background of a non-interactive shell (``make test &``) inherits SIGINT ignored:
    a loadsim command still takes it as Ctrl-C, then puts the inherited disposition back."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(KeyboardInterrupt), cli._signals_as_ctrl_c():
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100):  # the handler runs at the next bytecode boundary
                pass
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_a_command_run_in_process_leaves_the_signal_state_as_it_found_it(capsys):
    before = _state()
    assert cli.main(["plan", "--json"]) == 0
    assert _state() == before


def test_a_signal_after_the_guard_lets_the_process_exit_changes_nothing():
    """Locust's command line exits right after its ``quit``: a repeated SIGTERM or Ctrl-C then must neither kill the
    process (exit -15 instead of 130) nor raise KeyboardInterrupt into its exit (exit -2)."""
    before = _state()
    guard = SignalGuard(lambda signum: None)
    try:
        guard.install()
        guard.ignore_until_exit()
        assert _state() == {signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: signal.SIG_IGN}
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(100):  # a handler would run at the next bytecode boundary
            pass
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
