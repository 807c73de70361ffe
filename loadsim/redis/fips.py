"""``loadsim check --fips``: would ORS in FIPS mode (``scxml\\fips-enabled``) get a TLS handshake from every node?

In FIPS mode ORS's OpenSSL 3 negotiates only FIPS 140-approved TLS versions, cipher suites and groups (AES-GCM,
not ChaCha20-Poly1305; NIST curves, not X25519 where the FIPS provider refuses it), so a Redis whose TLS settings
allow only other choices refuses ORS. The check makes, to every node, the handshake such a client makes:

* when this machine has an OpenSSL FIPS provider, with that provider: the one ``OPENSSL_CONF`` names (as the
  vendor document sets it for ORS, with ``OPENSSL_MODULES``), else the ``fips`` module in OpenSSL's modules
  folder with its ``fipsmodule.cnf``;
* otherwise with FIPS-approved settings on the default provider, said as such: "FIPS-approved settings, not a
  validated FIPS module" (Debian 12's OpenSSL 3.0 ships no FIPS provider).

OpenSSL reads its configuration once per process, and Python's ``ssl`` sets no TLS 1.3 suites or groups of its
own, so the handshakes run in a child Python process started with ``OPENSSL_CONF`` pointing at a generated file
(TLS 1.3 suites and groups); the TLS 1.2 cipher list is set in the child with ``set_ciphers`` (Python overrides
the configuration's). The child gets no password: a handshake needs none.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from loadsim.config.persistence import PersistenceOptions, RedisNode
from loadsim.errors import CheckFailed, OptionsError

# FIPS 140-approved choices (NIST SP 800-52 Rev. 2 for TLS 1.2 and 1.3): AES-GCM with ECDHE or DHE, SHA-2
# suites; NIST curves P-256/P-384/P-521. Not ChaCha20-Poly1305, not X25519/X448.
TLS12_CIPHERS = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
                 "ECDHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384")
TLS13_SUITES = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256"
GROUPS = "P-256:P-384:P-521"
SETTINGS = "TLS 1.2 or 1.3, AES-GCM suites only, groups P-256/P-384/P-521 (no ChaCha20, no X25519)"
NOT_VALIDATED = "FIPS-approved settings, not a validated FIPS module"
REDIS_FIX = (f"allow AES-GCM on every node, e.g. tls-ciphersuites {TLS13_SUITES} (TLS 1.3) and tls-ciphers "
             "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256 (TLS 1.2)")
PROBE_TIMEOUT_S = 60


@dataclass
class NodeHandshake:
    address: str
    ok: bool
    version: str | None = None
    cipher: str | None = None
    error: str | None = None
    offers: str | None = None  # what the node negotiates with a client that is not restricted (version, cipher)


@dataclass
class FipsReport:
    mode: str  # which OpenSSL did the FIPS handshakes: the FIPS provider (which), or approved settings only
    settings: str
    nodes: list[NodeHandshake] = field(default_factory=list)

    @property
    def refused(self) -> list[NodeHandshake]:
        return [n for n in self.nodes if not n.ok]

    def lines(self) -> list[str]:
        out = [f"FIPS: {self.mode}; {self.settings}"]
        for n in self.nodes:
            got = f"accepts {n.version} {n.cipher}" if n.ok else f"REFUSES ({n.error})"
            out.append(f"  {n.address:<24}{got}; offers {n.offers or '?'} to a client without FIPS restrictions")
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "settings": self.settings, "every_node_accepts": not self.refused,
                "nodes": [asdict(n) for n in self.nodes]}


def _openssl_dirs() -> tuple[Path | None, Path | None]:
    """(OpenSSL's modules folder, its configuration folder) from ``openssl version -m -d``; None if unknown."""
    exe = shutil.which("openssl")
    if exe is None:
        return None, None
    try:
        text = subprocess.run([exe, "version", "-m", "-d"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    found = dict(re.findall(r'^(MODULESDIR|OPENSSLDIR): "([^"]*)"', text, re.MULTILINE))
    return (Path(found["MODULESDIR"]) if "MODULESDIR" in found else None,
            Path(found["OPENSSLDIR"]) if "OPENSSLDIR" in found else None)


def _fips_active(env: dict[str, str]) -> bool:
    """True if ``openssl list -providers`` under ``env`` shows an active fips provider."""
    exe = shutil.which("openssl")
    if exe is None:
        return False
    try:
        text = subprocess.run([exe, "list", "-providers"], capture_output=True, text=True, timeout=10,
                              env=env).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    blocks = re.split(r"\n  (?=\S)", text)
    return any(b.strip().startswith("fips") and "status: active" in b for b in blocks)


def _restriction_conf(include: str = "") -> str:
    """An OpenSSL configuration: the FIPS-approved TLS 1.3 suites and groups for every SSL context (and, with
    ``include``, the FIPS provider activated with fips=yes as the default property)."""
    providers = ""
    if include:
        providers = ("providers = provider_sect\nalg_section = algorithm_sect\n"
                     f"\n.include {include}\n\n[provider_sect]\nfips = fips_sect\nbase = base_sect\n\n"
                     "[base_sect]\nactivate = 1\n\n[algorithm_sect]\ndefault_properties = fips=yes\n")
    head = "openssl_conf = loadsim_fips\n\n[loadsim_fips]\nssl_conf = ssl_sect\n" + providers
    return (f"{head}\n[ssl_sect]\nsystem_default = fips_tls\n\n[fips_tls]\nMinProtocol = TLSv1.2\n"
            f"Ciphersuites = {TLS13_SUITES}\nGroups = {GROUPS}\n")


def choose_mode(environ: dict[str, str] | None = None) -> tuple[str, dict[str, str], str | None]:
    """(mode for people, environment of the child that makes the handshakes, configuration text to write and
    point OPENSSL_CONF at, or None to keep the environment's)."""
    env = dict(os.environ if environ is None else environ)
    if env.get("OPENSSL_CONF") and _fips_active(env):
        return f"OpenSSL FIPS provider (OPENSSL_CONF={env['OPENSSL_CONF']})", env, None
    modules, confdir = _openssl_dirs()
    modules = Path(env["OPENSSL_MODULES"]) if env.get("OPENSSL_MODULES") else modules
    module_cnf = confdir / "fipsmodule.cnf" if confdir else None
    if modules is not None and (modules / "fips.so").exists() and module_cnf is not None and module_cnf.exists():
        return (f"OpenSSL FIPS provider ({modules / 'fips.so'})", {**env, "OPENSSL_MODULES": str(modules)},
                _restriction_conf(str(module_cnf)))
    return NOT_VALIDATED, env, _restriction_conf()


def client_environment(folder: Path) -> tuple[str, dict[str, str]]:
    """(mode, environment) for a process whose every TLS client must behave as ORS in FIPS mode (``compare-tls
    --fips``): the configuration, when one is generated, is kept in ``folder`` as openssl-fips.cnf."""
    mode, env, conf = choose_mode()
    if conf is not None:
        path = folder / "openssl-fips.cnf"
        path.write_text(conf)
        env = {**env, "OPENSSL_CONF": str(path.resolve())}
    return mode, env


def _default_offer(node: RedisNode, opts: PersistenceOptions) -> str | None:
    """What the node negotiates with this (unrestricted) client: "TLSv1.3 TLS_CHACHA20_POLY1305_SHA256"."""
    try:
        ctx = opts.ssl_context()
        assert ctx is not None
        with socket.create_connection((node.host, node.port), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname=opts.server_hostname(node)) as s:
            cipher = s.cipher()
            return f"{s.version()} {cipher[0] if cipher else '?'}"
    except (OSError, ssl.SSLError, AssertionError):
        return None


def check_fips(opts: PersistenceOptions, addresses: list[str]) -> FipsReport:
    """The FIPS handshake to every node of ``addresses`` ("host:port"). Raises OptionsError without TLS."""
    if not opts.tls_enabled:
        raise OptionsError("--fips checks the TLS handshake ORS makes in FIPS mode: give tls-enabled = true and "
                           "tls-cacert (FIPS mode needs TLS)")
    mode, env, conf = choose_mode()
    nodes = [RedisNode(a.rpartition(":")[0].strip("[]"), int(a.rpartition(":")[2])) for a in addresses]
    request = {"nodes": [[n.host, n.port, opts.server_hostname(n)] for n in nodes], "cafile": opts.tls_cacert,
               "capath": opts.tls_cacertdir, "cert": opts.tls_cert, "key": opts.tls_key, "timeout": 5}
    with tempfile.TemporaryDirectory(prefix="loadsim-fips-") as tmp:
        if conf is not None:
            path = Path(tmp) / "openssl-fips.cnf"
            path.write_text(conf)
            env = {**env, "OPENSSL_CONF": str(path)}
        try:
            proc = subprocess.run([sys.executable, "-m", "loadsim.redis.fips"], input=json.dumps(request),
                                  capture_output=True, text=True, env=env, timeout=PROBE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise CheckFailed(f"FIPS: the handshakes took over {PROBE_TIMEOUT_S} s; check the nodes") from None
    if proc.returncode != 0:
        said = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        raise CheckFailed(f"FIPS: the FIPS-mode TLS client could not start ({said}); check OPENSSL_CONF and "
                          "OPENSSL_MODULES")
    report = FipsReport(mode, SETTINGS)
    for node, result in zip(nodes, json.loads(proc.stdout), strict=True):
        report.nodes.append(NodeHandshake(**result, offers=_default_offer(node, opts)))
    return report


def refusal(report: FipsReport) -> str:
    """The one line of a failed FIPS check: which nodes refuse, what they offer, the fix."""
    refused = report.refused
    offers = sorted({n.offers for n in refused if n.offers})
    shown = ", ".join(n.address for n in refused[:4]) + (" ..." if len(refused) > 4 else "")
    return (f"FIPS: {len(refused)} of {len(report.nodes)} nodes refuse a FIPS-approved TLS handshake ({shown}: "
            f"{refused[0].error}); the cluster offers {' / '.join(offers) or 'nothing this client accepts'}: ORS in "
            f"FIPS mode (scxml\\fips-enabled) would not connect; {REDIS_FIX} [{report.mode}]")


def _probe_main() -> None:
    """Child: the handshakes, with the FIPS restrictions of this process's OpenSSL configuration."""
    request = json.load(sys.stdin)
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=request["cafile"], capath=request["capath"])
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(TLS12_CIPHERS)  # TLS 1.2; Python replaces the configuration's cipher list with its own
    if request["cert"]:
        ctx.load_cert_chain(request["cert"], request["key"])
    out = []
    for host, port, name in request["nodes"]:
        try:
            with socket.create_connection((host, port), timeout=request["timeout"]) as raw, \
                    ctx.wrap_socket(raw, server_hostname=name) as s:
                cipher = s.cipher()
                out.append({"address": f"{host}:{port}", "ok": True, "version": s.version(),
                            "cipher": cipher[0] if cipher else None})
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or str(exc)
            out.append({"address": f"{host}:{port}", "ok": False, "error": str(reason).replace("_", " ").lower()})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    _probe_main()
