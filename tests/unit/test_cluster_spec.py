"""ClusterSpec.validate: bad input names the option before any redis-server starts."""

import pytest

from loadsim.embedded.cluster import ClusterSpec
from loadsim.errors import ClusterError


@pytest.mark.parametrize("size", ["512mb", "1gb", "1GB", "100000", "64k", "2kb", "3m", "1g"])
def test_redis_sizes_are_accepted(size):
    ClusterSpec(maxmemory=size).validate()


@pytest.mark.parametrize("size", ["12zz", "-5", "0", "", "1.5gb", "mb", "512 mb tb"])
def test_a_bad_maxmemory_names_the_option(size):
    with pytest.raises(ClusterError, match=f"--maxmemory {size}: not a Redis memory size; give bytes"):
        ClusterSpec(maxmemory=size).validate()


@pytest.mark.parametrize("ms", [0, -1, 99])
def test_a_bad_node_timeout_names_the_option(ms):
    with pytest.raises(ClusterError, match=f"--cluster-node-timeout {ms}: give milliseconds, at least 100"):
        ClusterSpec(cluster_node_timeout_ms=ms).validate()


def test_the_default_and_small_node_timeouts_are_accepted():
    ClusterSpec().validate()
    ClusterSpec(cluster_node_timeout_ms=100).validate()
