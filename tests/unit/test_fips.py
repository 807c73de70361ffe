"""The FIPS-mode TLS settings (pure parts of loadsim.redis.fips)."""

from loadsim.redis import fips


def test_the_settings_allow_only_fips_approved_suites_and_groups():
    assert "CHACHA" not in fips.TLS12_CIPHERS and "CHACHA" not in fips.TLS13_SUITES
    assert all("GCM" in c for c in fips.TLS12_CIPHERS.split(":") + fips.TLS13_SUITES.split(":"))
    conf = fips._restriction_conf()
    assert "MinProtocol = TLSv1.2" in conf and f"Ciphersuites = {fips.TLS13_SUITES}" in conf
    assert f"Groups = {fips.GROUPS}" in conf and "X25519" not in conf and "X448" not in conf
    assert "fips=yes" not in conf  # without a FIPS module: the default provider, restricted
    with_module = fips._restriction_conf("/etc/ssl/fipsmodule.cnf")
    assert ".include /etc/ssl/fipsmodule.cnf" in with_module and "default_properties = fips=yes" in with_module


def test_without_a_fips_module_the_mode_says_so(tmp_path):
    mode, env, conf = fips.choose_mode({"PATH": "/usr/bin:/bin", "OPENSSL_MODULES": str(tmp_path)})
    assert mode == fips.NOT_VALIDATED and conf is not None and "OPENSSL_CONF" not in env


def test_the_refusal_names_the_nodes_what_they_offer_and_the_fix():
    report = fips.FipsReport(fips.NOT_VALIDATED, fips.SETTINGS, [
        fips.NodeHandshake("10.0.0.1:6379", False, error="sslv3 alert handshake failure",
                           offers="TLSv1.3 TLS_CHACHA20_POLY1305_SHA256"),
        fips.NodeHandshake("10.0.0.2:6379", True, "TLSv1.3", "TLS_AES_256_GCM_SHA384",
                           offers="TLSv1.3 TLS_AES_256_GCM_SHA384")])
    line = fips.refusal(report)
    assert line.startswith("FIPS: 1 of 2 nodes refuse a FIPS-approved TLS handshake (10.0.0.1:6379: sslv3")
    assert "offers TLSv1.3 TLS_CHACHA20_POLY1305_SHA256" in line and "tls-ciphersuites TLS_AES_256" in line
    assert "\n" not in line and fips.NOT_VALIDATED in line
