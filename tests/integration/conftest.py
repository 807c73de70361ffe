"""Real embedded clusters, started once per test session and only when a test asks for them."""

import pytest

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster


def _cluster(spec):
    cluster = EmbeddedCluster(spec).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def plain_cluster():
    yield from _cluster(ClusterSpec(masters=3))


@pytest.fixture(scope="session")
def tls_cluster():
    yield from _cluster(ClusterSpec(masters=3, tls=True))


@pytest.fixture(scope="session")
def mtls_cluster():
    yield from _cluster(ClusterSpec(masters=3, tls=True, mutual_tls=True))


@pytest.fixture(scope="session")
def acl_cluster():
    yield from _cluster(ClusterSpec(masters=3, replicas=1, acl=True))
