"""ORS [persistence] options: every source gives the same result; every vendor rule is enforced."""

import argparse

import pytest
from locust.argument_parser import get_parser

from loadsim.config.persistence import (
    OPTIONS,
    OptionsError,
    PersistenceOptions,
    RedisNode,
    add_arguments,
    from_namespace,
    parse_redis_nodes,
    read_ors_config,
)


@pytest.fixture()
def pki(tmp_path):
    from loadsim.embedded.tlsgen import generate

    return generate(tmp_path / "tls")


def values(pki):
    return {"redis-nodes": "10.0.0.1:7000;10.0.0.2:7001", "username": "ors", "password": "s3cret-pw",
            "tls-enabled": "true", "tls-cacert": str(pki.ca_cert), "tls-cert": str(pki.client_cert),
            "tls-key": str(pki.client_key), "tls-sni": "redis.example", "redis-connect-timeout": "2000",
            "ors-cluster-name": "prod"}


def expected(pki):
    return PersistenceOptions.from_values(values(pki))


def flags(pki):
    out = []
    for name, value in values(pki).items():
        opt = next(o for o in OPTIONS if o.name == name)
        out += [opt.flag, value]
    return out


def test_argparse_flags(pki):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert from_namespace(parser.parse_args(flags(pki)), environ={}) == expected(pki)


def test_environment_variables(pki):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    env = {next(o for o in OPTIONS if o.name == k).env: v for k, v in values(pki).items()}
    assert "LOCUST_REDIS_NODES" in env and "LOCUST_REDIS_TLS_CERT" in env
    assert from_namespace(parser.parse_args([]), environ=env) == expected(pki)


def _locust_parser(config_files):
    parser = get_parser(default_config_files=config_files)
    add_arguments(parser)
    return parser


def test_locust_parser_flags_and_secret(pki):
    parser = _locust_parser([])
    ns = parser.parse_args(["-f", "x.py", *flags(pki)])
    assert from_namespace(ns, environ={}) == expected(pki)
    assert "password" not in parser.args_included_in_web_ui  # its value would be written into the page
    assert "redis_nodes" not in parser.args_included_in_web_ui  # where to connect is given at start
    assert "ors_cluster_name" in parser.args_included_in_web_ui


def test_locust_conf_and_pyproject(pki, tmp_path):
    conf = tmp_path / "locust.conf"
    conf.write_text("\n".join(f"{next(o for o in OPTIONS if o.name == k).flag[2:]} = {v}"
                              for k, v in values(pki).items()) + "\n")
    ns = _locust_parser([str(conf)]).parse_args(["-f", "x.py"])
    assert from_namespace(ns, environ={}) == expected(pki)
    toml = tmp_path / "pyproject.toml"
    toml.write_text("[tool.locust]\n" + "\n".join(f'{next(o for o in OPTIONS if o.name == k).flag[2:]} = "{v}"'
                                                  for k, v in values(pki).items()) + "\n")
    ns = _locust_parser([str(toml)]).parse_args(["-f", "x.py"])
    assert from_namespace(ns, environ={}) == expected(pki)


def test_ors_config_ini_and_precedence(pki, tmp_path):
    ini = tmp_path / "ors.cfg"
    body = "\n".join(f"{k} = {v}" for k, v in values(pki).items() if k != "ors-cluster-name")
    ini.write_text(f"[orchestration]\nsomething = else\n\n[persistence]\n{body}\nors-cluster-name = prod\n"
                   "cassandra-keyspace = ignored\n")
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert from_namespace(parser.parse_args(["--ors-config", str(ini)]), environ={}) == expected(pki)
    # explicit flag > environment > ors-config > default
    ns = parser.parse_args(["--ors-config", str(ini), "--username", "flag-user"])
    opts = from_namespace(ns, environ={"LOCUST_USERNAME": "env-user", "LOCUST_TLS_SNI": "env.example"})
    assert opts.username == "flag-user" and opts.tls_sni == "env.example"
    assert opts.redis_connect_timeout == 2000 and opts.redis_socket_timeout == 0


def test_redis_nodes_syntax():
    assert parse_redis_nodes(" a:1 , b:2;c:3 ;") == (RedisNode("a", 1), RedisNode("b", 2), RedisNode("c", 3))
    assert parse_redis_nodes("[::1]:7000") == (RedisNode("::1", 7000),)
    assert str(RedisNode("::1", 7000)) == "[::1]:7000"
    for bad in ("a", "a:", "a:0", "a:65536", "a:b", ":1", "a b:1"):
        with pytest.raises(OptionsError, match="redis-nodes"):
            parse_redis_nodes(bad)


@pytest.mark.parametrize("given,needle", [
    ({"tls-cert": "CERT"}, "tls-cert is set but tls-key is not"),
    ({"tls-key": "KEY"}, "tls-key is set but tls-cert is not"),
    ({"tls-enabled": "true"}, "neither tls-cacert nor tls-cacertdir"),
    ({"tls-enabled": "yes", "tls-cacertdir": "/nonexistent-dir"}, "tls-cacertdir: directory"),
    ({"sessionid-with-nodeid": "false"}, "sessionid-with-nodeid is false"),
    ({"tls-enabled": "sometimes"}, "not a boolean"),
    ({"redis-socket-timeout": "-5"}, "redis-socket-timeout"),
    ({"tls-cacert": "/nonexistent.pem"}, "tls-cacert: file"),
    ({"ors-cluster-name": "bad name"}, "ors-cluster-name"),
    ({"colour": "blue"}, "unknown option 'colour'"),
])
def test_vendor_rules(given, needle, pki):
    given = {k: {"CERT": str(pki.client_cert), "KEY": str(pki.client_key)}.get(v, v) for k, v in given.items()}
    with pytest.raises(OptionsError, match=needle):
        PersistenceOptions.from_values(given)


def test_cacertdir_may_replace_cacert_and_other_types_persist_nothing(pki):
    opts = PersistenceOptions.from_values({"tls-enabled": "true", "tls-cacertdir": str(pki.ca_cert.parent)})
    assert opts.tls_enabled and opts.tls_cacert is None
    other = PersistenceOptions.from_values({"type": "cassandra", "sessionid-with-nodeid": "false"})
    assert not other.persists  # and sessionid-with-nodeid only matters for redis


def test_password_is_never_shown(pki):
    opts = expected(pki)
    assert "s3cret-pw" not in repr(opts)
    assert opts.to_values()["password"] == "***"
    assert opts.to_values(redact=False)["password"] == "s3cret-pw"


def test_ors_config_errors(tmp_path):
    bad = tmp_path / "bad.ini"
    bad.write_text("no section here\n")
    with pytest.raises(OptionsError, match="not an ini file"):
        read_ors_config(bad)
    nosec = tmp_path / "nosec.ini"
    nosec.write_text("[orchestration]\na = b\n")
    with pytest.raises(OptionsError, match="no \\[persistence\\] section"):
        read_ors_config(nosec)


@pytest.mark.parametrize("text,value", [("true", True), ("TRUE", True), ("yes", True), ("on", True), ("1", True),
                                        ("false", False), ("No", False), ("off", False), ("0", False)])
def test_booleans(text, value, pki):
    opts = PersistenceOptions.from_values({"tls-enabled": text, "tls-cacert": str(pki.ca_cert),
                                           "type": "cassandra", "sessionid-with-nodeid": text})
    assert opts.tls_enabled is value and opts.sessionid_with_nodeid is value


def test_only_the_password_is_secret_and_it_stays_out_of_the_web_ui():
    parser = _locust_parser([])
    secret = {a.dest: getattr(a, "is_secret", False) for a in parser._actions if a.dest in {o.dest for o in OPTIONS}}
    assert secret.pop("password") is True and not any(secret.values())
    in_ui = set(parser.args_included_in_web_ui) & {o.dest for o in OPTIONS}
    assert in_ui == {"type", "redis_connect_timeout", "redis_socket_timeout", "sessionid_with_nodeid",
                     "ors_cluster_name"}  # ORS behaviour; not where to connect, as whom, nor certificate files


def test_the_web_form_says_where_each_option_belongs():
    from loadsim.config.simulation import SIM_OPTIONS, add_simulation_arguments

    parser = _locust_parser([])
    add_simulation_arguments(parser, {"masters": 4})
    ui = parser.args_included_in_web_ui
    for o in OPTIONS:
        if o.form:
            assert ui[o.dest].help.startswith("[ORS persistence] "), o.name
    for o in SIM_OPTIONS:
        if o.form:
            assert ui[o.dest].help.startswith(f"[{o.group}] "), o.name
    from loadsim.config.simulation import GROUPS, KEY_LAYOUT_NAMES, PRESET_NAMES
    from loadsim.model import workload as wl

    assert {o.group for o in SIM_OPTIONS} | {o.group for o in OPTIONS} == set(GROUPS)
    assert all(o.label for o in (*SIM_OPTIONS, *OPTIONS))  # a short label for the form, the help on hover
    # the enumerations the form shows as choices are the model's own names (config may not import the model)
    assert PRESET_NAMES == tuple(wl.PRESETS) and KEY_LAYOUT_NAMES == wl.KEY_LAYOUTS
    assert ui["complexity"].choices == list(PRESET_NAMES) and ui["key_layout"].choices == list(KEY_LAYOUT_NAMES)
    assert ui["pool_connections"].choices == ["lazy", "eager"]
    # the choices make a select in the form, but a bad value on the command line is still loadsim's one line
    ns = parser.parse_args(["-f", "x.py", "--complexity", "bogus"])
    assert ns.complexity == "bogus"
    assert ui["masters"].default == 4 and ui["cps_per_pair"].default == 5.0  # defaults shown in the form
    assert ui["embedded_tls"].default is False  # a checkbox


def test_a_node_list_with_credentials_is_refused_without_echoing_them():
    with pytest.raises(OptionsError) as info:
        parse_redis_nodes("10.0.0.1:7000,redis://:Sup3r-secret@10.0.0.2:7001")
    assert "Sup3r-secret" not in str(info.value) and "LOCUST_PASSWORD" in str(info.value)


def test_every_simulation_option_is_one_typed_record_and_the_settings_read_it():
    """One table: each SimSettings field is an option with its type, unit, range, default, help, group and whether
    the form may set it; converted values become typed settings with every default filled in from the record."""
    import dataclasses

    from loadsim import defaults as D
    from loadsim.config.simulation import SIM_BY_DEST, SIM_OPTIONS, SimSettings, run_settings, simulation_values

    assert [o.dest for o in SIM_OPTIONS] == [f.name for f in dataclasses.fields(SimSettings)]
    for o in SIM_OPTIONS:
        assert o.help and o.label and o.group, o.name
        if o.default:
            assert o.value == D.value(o.default), o.name
        numeric = str(o.type).removesuffix(" | None") in ("int", "float", "<class 'int'>", "<class 'float'>")
        assert (o.range is not None) == numeric, o.name  # every number has its range, nothing else has one
    parser = argparse.ArgumentParser()
    from loadsim.config.simulation import add_simulation_arguments

    add_simulation_arguments(parser, {})
    ns = parser.parse_args(["--worker-threads", "8", "--embedded-tls", "true", "--fault", "5:switchover:all"])
    s = run_settings(simulation_values(ns, {"masters": 4}, environ={}))
    assert (s.worker_threads, s.embedded_tls, s.fault, s.masters) == (8, True, ["5:switchover:all"], 4)
    # not given: the record's default (loadsim.defaults), typed; no consumer supplies its own
    assert (s.embedded_node_timeout, s.embedded_appendfsync, s.allow_eviction, s.migration_step, s.aht) == \
        (D.value("cluster_node_timeout_ms"), "everysec", False, 0.0, D.value("aht_s"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.masters = 5  # type: ignore[misc]
    # the range is the record's: one line naming the option and the range
    with pytest.raises(OptionsError, match=r"--worker-threads: 257 is out of range; give a number from 1 to 256"):
        simulation_values(parser.parse_args(["--worker-threads", "257"]), {}, environ={})
    assert SIM_BY_DEST["worker_threads"].range == D.WORKER_THREADS_RANGE


def test_constants_several_modules_check_live_once():
    """The worker-thread range, the node timeout and its range: the options table, the workload model, the question,
    the estate file, the embedded cluster and `loadsim cluster up` read loadsim.defaults, so they cannot disagree."""
    import re
    from dataclasses import replace
    from pathlib import Path

    from loadsim import defaults as D
    from loadsim.embedded.cluster import ClusterSpec
    from loadsim.model import workload as wl
    from loadsim.model.estate import estate_with_flags
    from loadsim.model.question import DEPLOYMENT_RANGES, Deployment

    low, high = D.WORKER_THREADS_RANGE
    with pytest.raises(OptionsError, match=f"--worker-threads must be {low}..{high}"):
        wl.WorkloadParams(worker_threads=high + 1)
    assert DEPLOYMENT_RANGES["worker_threads"] == D.WORKER_THREADS_RANGE
    with pytest.raises(OptionsError):
        replace(Deployment(), worker_threads=high + 1)
    with pytest.raises(OptionsError, match="worker_threads"):
        estate_with_flags({"worker_threads": high + 1, "group": [{"name": "a", "pairs": 1}]}, "e.toml", {},
                          wl.WorkloadParams())
    assert ClusterSpec().cluster_node_timeout_ms == D.value("cluster_node_timeout_ms")
    # a number the options, the question and the estate file share has its range once, in its Default
    import dataclasses

    from loadsim.config.simulation import SIM_OPTIONS

    ranged = {name: d.range for name, d in D.DEFAULTS.items() if d.range is not None}
    assert len(ranged) >= 15
    deployment = {f.name for f in dataclasses.fields(Deployment)}
    for name, rng in ranged.items():
        options = [o for o in SIM_OPTIONS if o.default == name]
        assert options or name in deployment, name
        assert all(o.range == rng for o in options), name
        if name in deployment and name != "cps_per_pair":  # a plan may ask about 0 calls; a run needs some
            assert DEPLOYMENT_RANGES[name] == rng, name
    over = ranged["session_ttl_s"][1] * 2
    with pytest.raises(OptionsError, match="session_ttl_s"):
        estate_with_flags({"session_ttl_s": over, "group": [{"name": "a", "pairs": 1}]}, "e.toml", {},
                          wl.WorkloadParams())
    # no module repeats the literals (defaults.py holds them) and none re-supplies a simulation default
    root = Path(__file__).resolve().parents[2] / "loadsim"
    for path in root.rglob("*.py"):
        text = path.read_text()
        assert "sim.get(" not in text, path
        if path.name != "defaults.py":
            assert not re.search(r"\b15_?000\b", text), path
            assert not re.search(r"\b1\s*(<=|,)\s*[\w.]*\s*(<=)?\s*256\b|,\s*256\)", text), path


def test_an_option_several_commands_take_is_one_row_that_every_surface_reads():
    """loadsim.options: plan's flags, the question's ranges, the run's options (and so the web form) read the same
    row: name, type, unit, range, default, help. Changing a row's help changes every surface."""
    import dataclasses
    import typing

    from loadsim import cli
    from loadsim import options as O
    from loadsim.config.simulation import SIM_OPTIONS
    from loadsim.model.question import DEPLOYMENT_RANGES, Deployment, option_of

    plan = next(a for a in cli.build_parser()._subparsers._group_actions[0].choices["plan"]._actions
                if a.dest == "masters")
    assert plan.option_strings == O.MASTERS.flags and plan.help.replace("%%", "%") == O.MASTERS.full_help
    hints = typing.get_type_hints(Deployment)
    for f in dataclasses.fields(Deployment):
        row = option_of(f.name)
        if row is None:
            assert f.name in ("estate", "rate_scale", "size_scale"), f.name
            continue
        base = next((a for a in typing.get_args(hints[f.name]) if a is not type(None)), hints[f.name])
        assert row.type is base or (row.type is int and base is float), f.name  # the field's type is the row's
        assert row in O.OPTIONS or row.name in O.BY_NAME, f.name
        if row.range and not row.percent:
            assert DEPLOYMENT_RANGES[f.name] == row.range, f.name
    shared = [o for o in SIM_OPTIONS if o.row is not None]
    assert len(shared) >= 19
    for o in shared:
        assert o.name == o.row.name and o.help.endswith(o.row.help) and o.range == o.row.range, o.name
        assert o.default == o.row.default and o.choices == o.row.choices, o.name
    # a run's own range where its meaning asks for one: an embedded cluster on this machine takes 3..64 masters
    assert next(o for o in SIM_OPTIONS if o.name == "masters").range == O.EMBEDDED_MASTERS.range
    with pytest.raises(OptionsError, match=r"--masters: 65 is out of range; give a number from 3 to 64"):
        O.EMBEDDED_MASTERS.check(65)
    assert O.EMBEDDED_MASTERS.check(3) == 3


def test_every_command_that_takes_an_option_shows_the_rows_help(capsys):
    """plan --help, `loadsim options` (a run's: Locust's and the web form's), capacity, compare-tls, check and sweep
    --help: the same row's help and range for the same option."""
    from loadsim import cli
    from loadsim import options as O

    def help_of(*argv):
        if argv == ("options",):
            assert cli.main(["options"]) == 0
        else:
            with pytest.raises(SystemExit):
                cli.main([*argv, "--help"])
        return " ".join(capsys.readouterr().out.split())

    plan = help_of("plan")
    for row in (O.HA_PAIRS, O.NIC_GBPS, O.NETWORK_RTT_US, O.LATENCY_SLO_P99_US, O.AHT, O.CPU_CEILING):
        assert " ".join(row.full_help.split()) in plan, row.name
    run = help_of("options")
    for row in (O.AHT, O.CPS_PER_PAIR, O.WORKER_THREADS, O.NETWORK_RTT_US, O.EMBEDDED_MASTERS):
        assert " ".join(row.full_help.split()) in run, row.name
    assert " ".join(O.STOP_AT_CPU.full_help.split()) in help_of("capacity")
    for command in ("capacity", "compare-tls", "sweep"):
        text = help_of(command)
        assert O.EMBEDDED_MASTERS.help in text and "From 3 to 64 masters" in text, command
        assert O.CPS_PER_PAIR.help in text and O.COMPLEXITY.help in text, command
    assert " ".join(O.WORKER_THREADS.full_help.split()) in help_of("check")
