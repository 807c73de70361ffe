"""CLUSTER NODES parsing on replies in Redis's own format (lines as Redis writes them, hence long)."""

from loadsim.redis.topology import parse_nodes

REPLY = """\
07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,redis-4 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922
292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master - 0 1426238318243 3 connected 10923-16383
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@31005 slave 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected
824fe116063bc5fcf9f4ffd895bc17aee7731ac3 ::1:30006@31006 slave,fail? 292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 0 1426238317741 6 connected
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5459 5460 [5461->-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa :30007@31007 master,fail,noaddr - 1426238316232 1426238316232 7 disconnected
short line
"""


def test_parse_nodes_reads_roles_slots_flags_and_addresses():
    nodes = {n.port: n for n in parse_nodes(REPLY)}
    assert sorted(nodes) == [30001, 30002, 30003, 30004, 30005, 30006, 30007]  # the short line is skipped
    me = nodes[30001]
    assert me.role == "master" and "myself" in me.flags and me.master_id is None
    assert me.slots == ((0, 5459), (5460, 5460)) and me.slot_count == 5461  # migration marker not owned
    assert nodes[30004].host == "127.0.0.1" and nodes[30004].role == "replica"  # hostname after the comma
    assert nodes[30004].master_id == "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca"
    assert nodes[30006].host == "::1" and nodes[30006].link == "pfail" and not nodes[30006].failed
    gone = nodes[30007]
    assert gone.host == "" and gone.failed and gone.link == "fail" and gone.link_state == "disconnected"
    masters = [n for n in nodes.values() if n.role == "master" and not n.failed]
    assert sum(n.slot_count for n in masters) == 16384
