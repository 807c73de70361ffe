"""Fault schedules: parsing and checking (pure)."""

import pytest

from loadsim.errors import OptionsError
from loadsim.model import faults as F


def test_faults_parse_sort_and_describe():
    got = F.parse_faults(["30:switchover", "20:pause-master:1:15", "5:kill-master:0", "40:crash-primary:2"])
    assert [f.action for f in got] == ["kill-master", "pause-master", "switchover", "crash-primary"]
    assert got[1] == F.Fault(20.0, "pause-master", 1, 15.0) and got[2].target == F.ALL
    assert got[1].text() == "20 s: pause-master 1 for 15 s" and got[2].text() == "30 s: switchover all"
    assert got[0].on_redis and not got[2].on_redis
    assert F.parse_faults("5:kill-master:0,9:failover:1") == (F.Fault(5, "kill-master", 0), F.Fault(9, "failover", 1))
    assert F.parse_faults(None) == ()


@pytest.mark.parametrize("spec, message", [
    ("kill-master", "not AT:ACTION"),
    ("x:kill-master:0", "time 'x' is not a number"),
    ("-1:kill-master:0", "must be a finite number >= 0"),
    ("inf:kill-master:0", "must be a finite number >= 0"),
    ("5:kil-master:0", "did you mean 'kill-master'?"),
    ("5:kill-master", "needs a master index"),
    ("5:pause-master:0", "pause-master needs how long"),
    ("5:pause-master:0:0", "longer than 0 s"),
    ("5:switchover:two", "pair 'two' is not a number"),
])
def test_bad_faults_are_one_line_with_the_fix(spec, message):
    with pytest.raises(OptionsError) as info:
        F.parse_fault(spec)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_targets_must_exist_and_redis_faults_need_the_embedded_cluster():
    faults = F.parse_faults(["5:kill-master:3"])
    with pytest.raises(OptionsError, match="master 3 does not exist; masters are 0..2"):
        F.check_targets(faults, masters=3, replicas=1, pairs=9, can_act_on_redis=True)
    with pytest.raises(OptionsError, match="embedded cluster"):
        F.check_targets(F.parse_faults(["5:kill-master:0"]), 3, 1, 9, can_act_on_redis=False)
    with pytest.raises(OptionsError, match="needs replicas"):
        F.check_targets(F.parse_faults(["5:failover:0"]), 3, 0, 9, True)
    with pytest.raises(OptionsError, match="HA pair 9 does not exist"):
        F.check_targets(F.parse_faults(["5:switchover:9"]), 3, 0, 9, False)
    F.check_targets(F.parse_faults(["5:switchover", "6:crash-primary:8"]), 3, 0, 9, False)
