"""9 ORS HA pairs on a 3-master Redis Cluster: the vendor's sizing rule, "3 nodes for up to 9 HA pairs".

    locust -f scenarios/ha9.py --headless -t 60s           # embedded local cluster, started and stopped
    locust -f scenarios/ha9.py --redis-nodes 10.0.0.1:6379 # your cluster (see --help for TLS, ACL ...)

Each Locust user is one HA pair; -u defaults to 9. Every other default is in loadsim.model.workload and
`locust -f scenarios/ha9.py --help`.
"""

from loadsim.locust.users import HaPairUser, scenario

scenario("ha9", ha_pairs=9, masters=3)


class HaPair(HaPairUser):
    pass
