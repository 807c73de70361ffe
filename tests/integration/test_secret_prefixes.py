"""No secret through a side door: argparse (loadsim's parsers and Locust's) takes any unambiguous prefix of a long
option for it, so ``--pa PW`` was ``--password PW``: in ``ps`` for a whole run, in sweep.json's ``extra_args``, in
an ``unrecognized arguments`` line. Every prefix of every secret option, in both spellings (``--pa PW``,
``--pa=PW``), on Locust's command line, on loadsim's commands and after their ``--``, is refused in one line that
never holds the value, before anything starts or is written."""

import os
import subprocess
import sys

import pytest
from run_support import HA9

from loadsim.cli import main
from loadsim.config.persistence import SECRET_FLAGS, mask_secret_arguments, read_ors_config
from loadsim.errors import OptionsError

SECRET = "Sekr1t-side-door"
PREFIXES = [flag[:n] for flag in SECRET_FLAGS for n in range(len("--p"), len(flag) + 1)]
# loadsim commands and where the words go: among the command's own options, or after '--' (given to every run)
COMMANDS = [["check", "--redis-nodes", "127.0.0.1:1"], ["plan"], ["sweep", "--out", "{out}", "--"],
            ["compare-tls", "--out", "{out}", "--"], ["capacity", "--out", "{out}", "--"],
            ["sweep", "--out", "{out}"]]


def _spellings(prefix):
    return [[prefix, SECRET], [f"{prefix}={SECRET}"]]


def test_every_prefix_of_the_password_option_is_covered():
    assert "--password" in SECRET_FLAGS and {"--p", "--pa", "--pas", "--pass", "--password"} <= set(PREFIXES)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_loadsim_refuses_every_prefix_everywhere(tmp_path, capsys, monkeypatch, prefix):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOADSIM_LOG_DIR", str(tmp_path / "logs"))
    for command in COMMANDS:
        for words in _spellings(prefix):
            argv = [w.replace("{out}", str(tmp_path / "out")) for w in command] + words
            assert main(argv) == 2, argv
            captured = capsys.readouterr()
            lines = captured.err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("loadsim: error:"), captured.err
            assert "--password" in lines[0] and "LOCUST_PASSWORD" in lines[0], lines[0]
            assert SECRET not in captured.err + captured.out
    assert list(tmp_path.iterdir()) == [], "a refused command must start and write nothing"


def test_locust_refuses_every_prefix_before_anything_starts(tmp_path):
    """Every prefix at once (one Locust process each, in parallel): each ends in one line, exit 2, within the
    time Locust takes to start, with no results folder: the secret is never in the process list for a run."""
    procs = {}
    for i, prefix in enumerate(PREFIXES):  # the two spellings in turn: one Locust start-up per prefix (cost)
        for j, words in [(i % 2, _spellings(prefix)[i % 2])]:
            out = tmp_path / f"run-{i}-{j}"
            cmd = [sys.executable, "-m", "locust", "-f", HA9, "--headless", "-t", "30s", "--only-summary",
                   "--results-dir", str(out), *words]
            procs[(prefix, j, out)] = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE,
                                                       stderr=subprocess.PIPE, text=True, env={**os.environ})
    for (prefix, _j, out), proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 2, (prefix, stderr[-1500:])
        lines = [line for line in stderr.splitlines() if line.startswith("loadsim: error:")]
        assert len(lines) == 1 and "--password" in lines[0], stderr[-1500:]
        assert SECRET not in stdout + stderr
        assert "Traceback" not in stderr and "starting embedded Redis Cluster" not in stderr
        assert not out.exists()


def test_argument_lists_kept_or_printed_are_masked():
    words = ["--aht", "5", "--pa", SECRET, f"--passw={SECRET}", "--password", SECRET, "--seed", "1"]
    masked = mask_secret_arguments(words)
    assert SECRET not in " ".join(masked)
    assert masked == ["--aht", "5", "--pa", "***", "--passw=***", "--password", "***", "--seed", "1"]


@pytest.mark.parametrize("line", [f"password {SECRET}", f"password: {SECRET}", f"passwd {SECRET}  "])
def test_an_ini_line_without_equals_never_prints_a_secret(tmp_path, line):
    ini = tmp_path / "ors.ini"
    ini.write_text(f"[persistence]\nredis-nodes = 127.0.0.1:7000\n{line}\n")
    with pytest.raises(OptionsError) as err:
        read_ors_config(ini)
    assert "is not 'name = value'" in str(err.value) and SECRET not in str(err.value)


def test_web_login_without_a_login_is_refused_in_one_line(tmp_path):
    """Locust's --web-login leaves the login to the locustfile: without one, every request logged an auth
    traceback. loadsim's scenarios have none: refused at start, before any cluster, one line."""
    proc = subprocess.run([sys.executable, "-m", "locust", "-f", HA9, "--web-login", "--web-port", "0",
                           "--results-dir", str(tmp_path / "run")], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("loadsim: error:")]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr[-1500:]
    assert "--web-login needs a login set up in the locustfile" in lines[0]
    assert "Traceback" not in proc.stderr and "starting embedded Redis Cluster" not in proc.stderr
    assert not (tmp_path / "run").exists()
