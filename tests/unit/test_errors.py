"""The exception tree: typed Redis errors with one kind each, redirects parsed once."""

import pytest

from loadsim import errors as E


def _redis_error_classes():
    out, todo = [], [E.RedisError]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo += cls.__subclasses__()
    return [c for c in out if not c.__name__.startswith("_")]


def test_every_redis_error_class_has_its_own_kind_and_every_kind_has_a_column():
    classes = _redis_error_classes()
    kinds = [c.kind for c in classes if c is not E.RedisError]  # RedisError and ReplyError share "other"
    assert len(kinds) == len(set(kinds)), kinds
    assert set(E.ERROR_KINDS) == {c.kind for c in classes}
    assert len(E.ERROR_KINDS) == len(set(E.ERROR_KINDS))
    assert {"loading", "readonly", "masterdown", "oom", "timeout", "tls", "busy", "stuck"} <= set(E.ERROR_KINDS)


@pytest.mark.parametrize(("reply", "cls"), [
    ("MOVED 3999 127.0.0.1:6381", E.MovedError), ("ASK 3999 127.0.0.1:6381", E.AskError),
    ("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.", E.BusyError),
    ("OOM command not allowed when used memory > 'maxmemory'.", E.OutOfMemoryError),
    ("NOAUTH Authentication required.", E.NoAuthError), ("WRONGPASS invalid username-password pair", E.WrongPassError),
    ("NOPERM this user has no permissions to run the 'flushall' command", E.NoPermError),
    ("CLUSTERDOWN The cluster is down", E.ClusterDownError), ("TRYAGAIN Multiple keys request", E.TryAgainError),
    ("LOADING Redis is loading the dataset in memory", E.LoadingError),
    ("READONLY You can't write against a read only replica.", E.ReadOnlyError),
    ("MASTERDOWN Link with MASTER is down", E.MasterDownError), ("ERR unknown command 'FOO'", E.ReplyError),
])
def test_reply_error_maps_each_prefix_to_its_type(reply, cls):
    err = E.reply_error(reply)
    assert type(err) is cls and str(err) == reply
    assert isinstance(err, E.RedisError) and isinstance(err, E.LoadsimError)


def test_redirects_carry_slot_and_address():
    moved = E.reply_error("MOVED 3999 127.0.0.1:6381")
    assert (moved.slot, moved.address) == (3999, ("127.0.0.1", 6381))
    ask = E.reply_error("ASK 16383 [::1]:7000")
    assert (ask.slot, ask.address) == (16383, ("::1", 7000))
    with pytest.raises(E.ProtocolError, match="cannot parse redirection"):
        E.reply_error("MOVED nonsense")


def test_user_errors_are_loadsim_errors_and_not_redis_errors():
    for cls in (E.OptionsError, E.ResultsError, E.ExperimentError, E.ClusterError, E.FitError):
        assert issubclass(cls, E.UserError) and issubclass(cls, E.LoadsimError)
        assert not issubclass(cls, E.RedisError)
    assert not issubclass(E.CheckFailed, E.UserError)


def test_masking_replaces_whole_values_never_parts_of_words_or_paths():
    from loadsim.errors import mask_secrets

    assert mask_secrets("tls-key certs/fx/key.pem, password x", ["x"]) == "tls-key certs/fx/key.pem, password ***"
    assert mask_secrets("redis://:s3cret@10.0.0.1:7000 'ab' \"ab\" pw=ab", ["s3cret", "ab"]) == \
        "redis://:***@10.0.0.1:7000 '***' \"***\" pw=***"
    assert mask_secrets("abc and ab", ["ab", "abc"]) == "*** and ***"
    assert mask_secrets("nothing to hide", [None, ""]) == "nothing to hide"
