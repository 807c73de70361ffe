"""The Redis memory model's arithmetic: jemalloc classes, sds headers, string encodings, listpack sizes and the
listpack -> hashtable switch (checked against a real server in tests/integration/test_memory_model.py)."""

import pytest

from loadsim.errors import MemoryModelError, UserError
from loadsim.model import memory as M


@pytest.mark.parametrize(("size", "usable"), [
    (0, 8), (1, 8), (8, 8), (9, 16), (16, 16), (17, 32), (33, 48), (100, 112), (128, 128), (129, 160),
    (257, 320), (1030, 1280), (4096, 4096), (4097, 5120), (14336, 14336), (14337, 16384), (16385, 20480),
    (28673, 32768), (32769, 40960), (65546, 81920), (1 << 20, 1 << 20), ((1 << 20) + 1, 1310720),
])
def test_jemalloc_size_classes(size, usable):
    assert M.alloc(size) == usable


def test_size_classes_are_four_per_doubling_above_128():
    classes = sorted({M.alloc(n) for n in range(129, 1 << 16)})
    for lo in (256, 1024, 16384):
        assert [c for c in classes if lo < c <= 2 * lo] == [lo + lo // 4 * k for k in range(1, 5)]


@pytest.mark.parametrize(("length", "header"), [
    (0, 3), (1, 1), (31, 1), (32, 3), (255, 3), (256, 5), (65535, 5), (65536, 9), (1 << 32, 17)])
def test_sds_header_follows_sdsReqType(length, header):
    assert M.sds_header(length) == header
    assert M.sds_bytes(length) == M.alloc(header + length + 1)


def test_session_key_is_an_sds_type_5_of_48_bytes():
    assert M.sds_bytes(len("ORS:ors1:session:001-0000000001")) == 48  # 1 + 31 + 1 = 33 -> 48


def test_embstr_boundary_at_44():
    assert M.string_encoding(44) == "embstr" and M.string_encoding(45) == "raw"
    assert M.string_value_bytes(44) == 64  # robj 16 + sdshdr8 3 + 44 + NUL, one 64 B allocation
    assert M.string_value_bytes(45) == 16 + 64  # robj + sds 3 + 45 + 1 = 49 -> 64
    assert M.object_compute_size_string(44) == 64 and M.object_compute_size_string(45) == 80


def test_integer_strings():
    assert M.string_encoding(1, "7") == "int" and M.string_encoding(3, "007") == "embstr"
    assert M.string_encoding(2, "+1") == "embstr" and M.string_encoding(21, "1" * 21) == "embstr"
    assert M.string_value_bytes(1, text="7") == 0  # shared integer object
    assert M.string_value_bytes(1, text="7", shared_integers=False) == 16
    assert M.string_value_bytes(5, text="10000") == 16
    assert M.object_compute_size_string(1, "7") == 16


def test_big_protocol_arguments_end_up_the_size_of_an_exact_sds():
    assert all(M.big_arg_sds_bytes(n) == M.sds_bytes(n) for n in range(32 * 1024, 300_000, 7))
    assert M.string_value_bytes(65536) == 16 + 81920


def test_top_level_key_bytes():
    # sds 48 + db dictEntry 24 + 16 cluster metadata = 40 -> 48, + expires dictEntry 24 -> 32
    assert M.top_level_key_bytes(31, ttl=True) == 48 + 48 + 32
    assert M.top_level_key_bytes(31, ttl=False) == 48 + 48
    assert M.top_level_key_bytes(31, ttl=False, cluster=False) == 48 + 32
    assert M.top_level_key_bytes(31, ttl=True, version=(7, 2)) == 48 + 48 + 32


def test_memory_usage_command_differs_between_7_0_and_7_2_in_cluster_mode():
    assert M.memory_usage_command(31, 80) == 80 + 48 + 24 + 16
    assert M.memory_usage_command(31, 80, version=(7, 2)) == 80 + 48 + 24 + 8
    assert M.memory_usage_command(31, 80, cluster=False) == 80 + 48 + 24


@pytest.mark.parametrize(("entries", "buckets"), [(0, 0), (1, 4), (4, 4), (5, 8), (8, 8), (9, 16),
                                                  (16384, 16384), (16385, 32768), (20000, 32768)])
def test_dict_buckets(entries, buckets):
    assert M.dict_buckets(entries) == buckets
    assert M.dict_buckets_bytes(entries) == 8 * buckets


def test_keyspace_bytes():
    assert M.keyspace_bytes(20000, 20000) == 2 * 8 * 32768
    assert M.keyspace_bytes(20000, 0) == 8 * 32768


def test_listpack_entry_sizes():
    assert M.listpack_entry_bytes("1") == 2  # 7-bit uint + backlen
    assert M.listpack_entry_bytes("001-0000000042") == 16  # 1 + 14 + backlen 1
    assert M.listpack_entry_bytes(14) == 16
    assert M.listpack_entry_bytes("-100") == 3 and M.listpack_entry_bytes("100000") == 5
    assert M.listpack_entry_bytes(63) == 65 and M.listpack_entry_bytes(64) == 67  # 2 B header from 64 B
    assert M.listpack_entry_bytes(200) == 202 + 2  # backlen 2 B above 127
    assert M.listpack_entry_bytes(4096) == 4096 + 5 + 2
    assert M.listpack_bytes(["001-0000000042", "1"] * 10) == 6 + 10 * 18 + 1


def test_listpack_to_hashtable_switch():
    fields = [f"001-{i:010d}" for i in range(129)]
    values = ["1"] * 129
    assert M.hash_encoding(fields[:128], values[:128], max_listpack_entries=128) == "listpack"
    assert M.hash_encoding(fields, values, max_listpack_entries=128) == "hashtable"
    assert M.hash_encoding(fields, values) == "listpack"  # the compiled default is 512
    assert M.hash_encoding([20], [64]) == "listpack" and M.hash_encoding([20], [65]) == "hashtable"
    assert M.hash_encoding([65], [1]) == "hashtable"
    assert M.hash_encoding([20], [65], max_listpack_value=128) == "listpack"


def test_hash_bytes():
    fields, values = [f"001-{i:010d}" for i in range(10)], ["1"] * 10
    assert M.hash_bytes(fields, values) == 16 + M.alloc(6 + 10 * 18 + 1)
    big = M.hash_bytes([20] * 5, [4096] * 5)
    # robj 16 + dict 56 -> 64 + 8 buckets x 8 + 5 x (entry 24 -> 32, field sds 1+20+1 -> 32, value 5+4096+1 -> 5120)
    assert big == 16 + 64 + 64 + 5 * (32 + 32 + 5120)
    assert M.object_compute_size_hash([20] * 5, [4096] * 5) == 16 + 56 + 64 + 5 * (24 + 32 + 5120)
    with pytest.raises(MemoryModelError, match="one value per field"):
        M.hash_bytes([1, 2], [1])


def test_estimate_string_keys():
    est = M.estimate_string_keys(20000, 31, 1024)
    assert est.data_bytes == 20000 * (16 + 1280)
    assert est.per_key_overhead == 20000 * 128
    assert est.buckets == 2 * 8 * 32768
    assert est.total == est.data_bytes + est.per_key_overhead + est.buckets


def test_string_keys_grow_only_the_tables_that_are_too_small():
    """A dict keeps its table until under 10 % full: 1,000 keys left in 8,192 buckets (20,000 just deleted) take
    20,000 more without growing it; a table the keys do need grows to their power of two."""
    kept = M.estimate_string_keys(20000, 31, 1024, existing_keys=1000, existing_keys_with_ttl=1000,
                                  existing_buckets=(32768, 32768))
    assert kept.buckets == 0
    grown = M.estimate_string_keys(20000, 31, 1024, existing_keys=1000, existing_keys_with_ttl=1000,
                                   existing_buckets=(1024, 1024))
    assert grown.buckets == 2 * 8 * (32768 - 1024)
    # the key count alone assumes the smallest table for the keys there
    assert M.estimate_string_keys(20000, 31, 1024, existing_keys=1000, existing_keys_with_ttl=1000).buckets == \
        grown.buckets
    assert kept.data_bytes == grown.data_bytes and kept.per_key_overhead == grown.per_key_overhead


def test_unknown_allocator_or_version_raises_a_user_error():
    for call in (lambda: M.alloc(10, "libc"), lambda: M.sds_bytes(10, allocator="tcmalloc"),
                 lambda: M.string_value_bytes(10, "libc"), lambda: M.hash_bytes([1], [1], allocator="libc")):
        with pytest.raises(MemoryModelError, match="no memory constants for allocator .*; fit unit costs from runs "
                                                   r"\(--from DIR\)"):
            call()
    assert issubclass(MemoryModelError, UserError)
    with pytest.raises(MemoryModelError, match="no memory constants for Redis 6.2"):
        M.top_level_key_bytes(10, ttl=True, version=(6, 2))
    assert M.ALLOCATORS == ("jemalloc",)
