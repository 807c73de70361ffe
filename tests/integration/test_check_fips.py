"""``loadsim check --fips``: the handshake ORS makes in FIPS mode, to every node of real TLS clusters: one that
allows AES-GCM passes (and says which OpenSSL mode made the handshakes), ones that allow only ChaCha20 fail in one
line naming what the cluster offers and the fix."""

import json
import subprocess
import sys

import pytest

from loadsim.embedded.cluster import ClusterSpec, EmbeddedCluster
from loadsim.redis.fips import NOT_VALIDATED, TLS13_SUITES

ONLY_CHACHA = {
    "TLS 1.3": ("tls-protocols TLSv1.3", "tls-ciphersuites TLS_CHACHA20_POLY1305_SHA256"),
    "TLS 1.2": ("tls-protocols TLSv1.2", "tls-ciphers ECDHE-RSA-CHACHA20-POLY1305"),
}


def check(state, *extra):
    return subprocess.run([sys.executable, "-m", "loadsim", "check", "--ors-config", str(state / "ors.ini"),
                           "--fips", *extra], capture_output=True, text=True, timeout=120)


def test_a_cluster_that_allows_aes_gcm_accepts_the_fips_handshake_on_every_node(tmp_path):
    with EmbeddedCluster(ClusterSpec(masters=3, replicas=1, tls=True, mutual_tls=True), tmp_path / "c") as c:
        proc = check(tmp_path / "c")
        assert proc.returncode == 0, proc.stderr
        lines = proc.stdout.splitlines()
        assert f"FIPS: {NOT_VALIDATED}; TLS 1.2 or 1.3, AES-GCM suites only" in proc.stdout  # Debian 12: no provider
        accepted = [line for line in lines if "accepts TLSv1.3 TLS_AES_" in line]
        assert len(accepted) == len(c.nodes) == 6  # masters and replicas
        assert lines[-2] == f"FIPS: every node accepts a FIPS-approved TLS handshake ({NOT_VALIDATED})"
        data = json.loads(check(tmp_path / "c", "--json").stdout)["fips"]
        assert data["every_node_accepts"] and data["mode"] == NOT_VALIDATED
        assert {n["address"] for n in data["nodes"]} == {n.address for n in c.nodes}
        assert all("CHACHA" not in n["cipher"] for n in data["nodes"])


@pytest.mark.parametrize("version", list(ONLY_CHACHA))
def test_a_cluster_that_allows_only_chacha20_fails_naming_what_it_offers_and_the_fix(tmp_path, version):
    spec = ClusterSpec(masters=3, tls=True, extra_config=ONLY_CHACHA[version])
    with EmbeddedCluster(spec, tmp_path / "c"):
        plain = subprocess.run([sys.executable, "-m", "loadsim", "check", "--ors-config", str(tmp_path / "c/ors.ini")],
                               capture_output=True, text=True, timeout=120)
        assert plain.returncode == 0, plain.stderr  # without FIPS mode ORS connects
        proc = check(tmp_path / "c")
        as_json = check(tmp_path / "c", "--json")
    # a script reads the same failure: ok false, exit 1, and which nodes refused
    assert as_json.returncode == 1 and as_json.stderr == proc.stderr
    data = json.loads(as_json.stdout)
    assert data["ok"] is False and data["fips"]["every_node_accepts"] is False and data["masters"] == 3
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "FIPS: 3 of 3 nodes refuse a FIPS-approved TLS handshake" in lines[0]
    assert f"the cluster offers {version.replace(' ', 'v')}" in lines[0] and "CHACHA20" in lines[0]
    assert f"tls-ciphersuites {TLS13_SUITES}" in lines[0] and NOT_VALIDATED in lines[0]
