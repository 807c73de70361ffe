"""The read-back in words and across Locust workers, and the verdict on a session a restore finds gone: ended when
its delete was acknowledged, else missing (a lost write)."""

from array import array

from locust.env import Environment
from locust.event import Events

from loadsim.locust.engine import OrsNode, Recovery
from loadsim.locust.plugin import Scenario, attach
from loadsim.locust.readback import empty, merge
from loadsim.locust.users import HaPairUser
from loadsim.model import records
from loadsim.model import workload as wl
from loadsim.results.text import read_back_lines


class HaPair(HaPairUser):
    pass


def _dead_master_read_back():
    """As after --fault 2:kill-master:0 with no replicas: a third of the sessions were on the dead master."""
    return {**empty(920), "checked": 608, "current": 595, "ahead": 13, "never_acknowledged": 10, "unreadable": 302,
            "errors": 302, "unreadable_why": {"connection": 302}, "lost_with_dead_master": 302,
            "masters_down": {"127.0.0.1:7001": "refuses connections"}, "sampled_every": 1}


def test_the_text_says_what_could_not_be_read_and_that_it_went_with_a_dead_master():
    rb = _dead_master_read_back()
    lines = read_back_lines(rb)
    assert lines[0].startswith("read-back of 920 live sessions: 608 checked: 595 current")
    assert "10 never acknowledged; 302 unreadable (connection 302)" in lines[0]
    assert lines[1] == ("read-back: 302 sessions LOST WITH A DEAD MASTER (127.0.0.1:7001: no replica took its "
                        "slots)")
    # every live session is in one bucket
    assert rb["never_acknowledged"] + rb["checked"] + rb["unreadable"] == rb["live"]
    assert sum(rb[v] for v in records.VERDICTS) == rb["checked"]


def test_with_every_master_down_the_text_says_the_read_back_was_not_done():
    rb = {**empty(500), "never_acknowledged": 20, "unreadable": 480, "errors": 480,
          "unreadable_why": {"connection": 480}, "lost_with_dead_master": 480,
          "not_done": "no Redis node answered (127.0.0.1:7000: Connection refused)"}
    text = "\n".join(read_back_lines(rb))
    assert "read-back NOT DONE: no Redis node answered (127.0.0.1:7000: Connection refused): none of the 500" in text
    assert "480 sessions LOST WITH A DEAD MASTER (every master" in text


def test_a_read_back_not_attempted_says_why():
    assert read_back_lines({"not_done": "turned off (--read-back false)"}) == [
        "read-back: not done: turned off (--read-back false)"]
    assert read_back_lines(None) == []


def test_a_silent_master_is_named():
    rb = {**empty(10), "checked": 7, "current": 7, "unreadable": 3, "unreadable_why": {"timeout": 3},
          "masters_down": {"127.0.0.1:7002": "accepts connections but does not answer"}}
    lines = read_back_lines(rb)
    assert "3 unreadable (timeout 3)" in lines[0]
    assert lines[1] == ("read-back: master 127.0.0.1:7002 accepts connections but does not answer: its sessions "
                        "are counted unreadable")


def test_the_read_backs_of_locust_workers_are_summed():
    a = {**empty(100), "checked": 90, "current": 90, "never_acknowledged": 10, "sampled_every": 1, "seconds": 0.2}
    b = _dead_master_read_back()
    m = merge([a, b])
    assert m["live"] == 1020 and m["checked"] == 698 and m["current"] == 685 and m["unreadable"] == 302
    assert m["unreadable_why"] == {"connection": 302} and m["masters_down"] == b["masters_down"]
    assert m["workers"] == 2
    assert merge([]) is None


class _Conn:
    """A worker connection whose reads find nothing (the session's records were just deleted)."""

    def execute(self, key, *args):
        return None if args[0] in ("GET", "HMGET") else b"OK"


def _restore(tmp_path, acked: int):
    env = Environment(user_classes=[HaPair], events=Events())
    env.create_local_runner()
    eng = attach(env, Scenario.declare("unit", ha_pairs=1), ["--type", "cassandra", "--results-dir",
                                                            str(tmp_path / "run")]).engine
    eng.reset(eng.params)
    node = OrsNode(eng, dbid=101, node_id=100)
    sid = wl.session_id(100, 1)
    node.acked = array("I", [acked])  # what Redis acknowledged last: a write's version, or the delete (ENDED)
    node.recovery = Recovery(1)
    node._recover(wl.Op(0.0, wl.RECOVER, sid, 0, 0, seq=1), _Conn())
    return dict(node.recovery.verdicts)


def test_a_session_a_restore_finds_gone_has_ended_if_its_delete_was_acknowledged_else_is_missing(tmp_path):
    assert _restore(tmp_path, records.ENDED) == {records.ENDED_VERDICT: 1}
    assert _restore(tmp_path, 3) == {records.MISSING: 1}  # version 3 was acknowledged and is gone: a lost write
