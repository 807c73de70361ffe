"""What a node's commandstats count as workload: the monitor's and replication's own commands are not."""

import re
from pathlib import Path

from loadsim.redis.sampler import NOT_WORKLOAD, workload_commands


def test_replication_and_monitoring_commands_are_not_workload():
    # a master with a replica, idle: the replica's REPLCONF ACK every second, the monitor's INFO and PING
    stats = {"cmdstat_replconf": {"calls": 9}, "cmdstat_psync": {"calls": 1}, "cmdstat_info": {"calls": 59},
             "cmdstat_ping": {"calls": 3}, "cmdstat_cluster|info": {"calls": 4}}
    assert workload_commands({k.removeprefix("cmdstat_"): v for k, v in stats.items()}) == 0


def test_workload_commands_are_counted():
    stats = {"set": {"calls": 100}, "del": {"calls": 7}, "hset": {"calls": 3}, "replconf": {"calls": 12},
             "info": {"calls": 5}}
    assert workload_commands(stats) == 110


def test_the_results_docs_name_every_command_left_out():
    # docs/results.md lists what node_series.csv's workload_commands leaves out: the list and the code are one
    text = (Path(__file__).resolve().parents[2] / "docs" / "results.md").read_text()
    row = next(line for line in text.splitlines() if "`workload_commands` (" in line)
    listed = row.split("`workload_commands` (", 1)[1].split(")", 1)[0]
    named = set(re.findall(r"`([a-z|]+)`", listed))
    assert named == NOT_WORKLOAD
