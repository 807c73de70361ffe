"""Bytes Redis allocates for stored keys, from Redis internals (pure: numbers in, numbers out; no I/O).

What it predicts: the growth of ``INFO memory`` ``used_memory`` caused by stored objects, for
Redis 7.0 (checked against ``redis-server`` 7.0.15, ``mem_allocator:jemalloc-5.3.0``) and 7.2 where
the source differs. ``used_memory`` sums ``je_malloc_usable_size`` of every live allocation
(src/zmalloc.h: ``zmalloc_size(p) je_malloc_usable_size(p)``), so every ``malloc(n)`` counts as the
jemalloc size class of ``n`` (``alloc``), not as ``n``. It is the settled figure: right after the key count
crosses a power of two, the keyspace dicts rehash incrementally and both bucket arrays exist for a moment (8 B x
the old size per dict: 6.6 B per key at 20,000 keys, which made 100 B values look 2 to 5 % under-predicted when
read right after the writes; measured here: 9.1 B per key more than the model then, +0.4 % once settled).

Two views of one key:

* **allocated** (``string_value_bytes``, ``hash_bytes``, ``top_level_key_bytes``, ``keyspace_bytes``):
  what ``used_memory`` grows by; use these for sizing.
* **what ``MEMORY USAGE key SAMPLES 0`` reports** (``object_compute_size_*``, ``memory_usage_command``):
  src/object.c ``objectComputeSize`` + ``memoryCommand``. It counts some structs by ``sizeof`` (robj 16,
  dict 56, dictEntry 24 (+16 cluster metadata in 7.0)) rather than by their allocation, skips the expires
  entry and the keyspace bucket arrays, so it is *not* the same number as the allocated one.

Where 7.2 differs (read in 7.2.5): MEMORY USAGE adds the 8 B clusterDictMetadata instead of the 16 B entry
metadata (``memory_usage_command``); allocations of the objects modelled here are the same.

Facts were read in the redis/redis sources at tags 7.0.15 and 7.2.5 (paths below are ``src/...``).
Anything else (another allocator, another Redis version) raises ``MemoryModelError``: fit unit costs
from measured runs instead (``loadsim.model.sizing``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from loadsim.errors import MemoryModelError

ALLOCATORS = ("jemalloc",)
VERSIONS = ((7, 0), (7, 2))  # Redis versions whose structs were read for these constants

# ----------------------------------------------------------------------------------- allocator
# jemalloc 5 size classes on x86-64 (LG_QUANTUM 4, 4 KiB pages; jemalloc's "Size classes" table in
# its man page / doc/jemalloc.xml.in): 8, then multiples of the 16 B quantum up to 128, then 4
# classes per doubling (step = 1/4 of the lower power of two): 160, 192, 224, 256, 320, ... 14336
# (largest small class), and the large classes continue the same series: 16384, 20480, 24576,
# 28672, 32768, 40960, ...  Checked here: MEMORY USAGE of embstr/raw strings matches (tests).
JEMALLOC_TINY = 8  # jemalloc: smallest class (tiny class below the 16 B quantum)
JEMALLOC_QUANTUM = 16  # jemalloc: LG_QUANTUM 4 on x86-64 / aarch64
JEMALLOC_QUANTUM_MAX = 128  # jemalloc: quantum-spaced classes end at 128; geometric groups above
JEMALLOC_CLASSES_PER_DOUBLING = 4  # jemalloc: LG_SIZE_CLASS_GROUP 2

# ----------------------------------------------------------------------------------- Redis structs
ROBJ = 16  # src/server.h struct redisObject: type:4+encoding:4+lru:24 (4 B) + int refcount (4) + void *ptr (8)
SDS_HEADER = {  # src/sds.h: sdshdr5 1 B (flags only), sdshdr8 3 B, sdshdr16 5 B, sdshdr32 9 B, sdshdr64 17 B
    5: 1, 8: 3, 16: 5, 32: 9, 64: 17}
SDS_NUL = 1  # src/sds.c _sdsnewlen: malloc(hdrlen + initlen + 1), the +1 is the terminating NUL
EMBSTR_SIZE_LIMIT = 44  # src/object.c OBJ_ENCODING_EMBSTR_SIZE_LIMIT (robj 16 + sdshdr8 3 + 44 + NUL 1 = 64)
SHARED_INTEGERS = 10000  # src/server.h OBJ_SHARED_INTEGERS: values 0..9999 point at shared objects
LONG_STR_SIZE = 21  # src/util.h LONG_STR_SIZE: strings of >= 21 chars are never integers
DICT_ENTRY = 24  # src/dict.h struct dictEntry: void *key, union v (8), dictEntry *next
CLUSTER_ENTRY_METADATA = 16  # src/cluster.h clusterDictEntryMetadata {prev, next} added to every db dictEntry
#                              in cluster mode (src/server.c dictEntryMetadataSize, 7.0; dbDictEntryMetadataSize 7.2)
CLUSTER_DICT_METADATA_72 = 8  # 7.2 src/cluster.h clusterDictMetadata {redisDb *db}; 7.2 memoryCommand adds this
#                               (dictMetadataSize) instead of the entry metadata
DICT_STRUCT = 56  # src/dict.h struct dict: type 8 + ht_table[2] 16 + ht_used[2] 16 + rehashidx 8 + pauserehash
#                   int16 + ht_size_exp[2] (4 B, padded to 8); 7.2 adds a flexible metadata[] (0 B for hashes)
BUCKET_POINTER = 8  # src/dict.c _dictExpand: zcalloc(size * sizeof(dictEntry*))
DICT_HT_INITIAL_SIZE = 4  # src/dict.h DICT_HT_INITIAL_EXP 2: first table has 4 buckets
LISTPACK_HEADER = 6  # src/listpack.c LP_HDR_SIZE: 32-bit total bytes + 16-bit element count
LISTPACK_EOF = 1  # src/listpack.c LP_EOF 0xFF terminator
HASH_MAX_LISTPACK_ENTRIES = 512  # src/config.c hash-max-listpack-entries default 512 (7.0 and 7.2; the sample
#                                  redis.conf says 128, the compiled default is 512)
HASH_MAX_LISTPACK_VALUE = 64  # src/config.c hash-max-listpack-value default 64
PROTO_MBULK_BIG_ARG = 32 * 1024  # src/server.h: bulk args this big are read straight into the query buffer sds,
#                                  which becomes the value (src/networking.c processMultibulkBuffer)


def _check_allocator(allocator: str) -> None:
    if allocator not in ALLOCATORS:
        raise MemoryModelError(f"no memory constants for allocator {allocator}; "
                               f"fit unit costs from runs (--from DIR)")


def _check_version(version: tuple[int, int]) -> None:
    if tuple(version) not in VERSIONS:
        raise MemoryModelError(f"no memory constants for Redis {'.'.join(map(str, version))} "
                               f"(known: 7.0, 7.2); fit unit costs from runs (--from DIR)")


def alloc(size: int, allocator: str = "jemalloc") -> int:
    """Usable size (what ``used_memory`` counts) of ``malloc(size)``: the jemalloc 5 size class."""
    _check_allocator(allocator)
    if size <= JEMALLOC_TINY:
        return JEMALLOC_TINY
    if size <= JEMALLOC_QUANTUM_MAX:
        return -(-size // JEMALLOC_QUANTUM) * JEMALLOC_QUANTUM
    lower = 1 << ((size - 1).bit_length() - 1)  # largest power of two below size
    step = lower // JEMALLOC_CLASSES_PER_DOUBLING
    return -(-size // step) * step


# ----------------------------------------------------------------------------------- sds strings
def sds_type(length: int) -> int:
    """src/sds.c sdsReqType (same in 7.0 and 7.2): the smallest header that holds ``length``."""
    if length < 1 << 5:
        return 5
    if length < 1 << 8:
        return 8
    if length < 1 << 16:
        return 16
    if length < 1 << 32:
        return 32
    return 64


def sds_header(length: int) -> int:
    """Header bytes of a new sds of ``length`` (sdsnewlen: type 5 for 1..31, type 8 if empty)."""
    t = sds_type(length)
    return SDS_HEADER[8 if t == 5 and length == 0 else t]


def sds_bytes(length: int, allocator: str = "jemalloc") -> int:
    """Allocation of an sds made by sdsnewlen/sdsdup (exact, no free space): header + length + NUL."""
    return alloc(sds_header(length) + length + SDS_NUL, allocator)


def big_arg_sds_bytes(length: int, allocator: str = "jemalloc") -> int:
    """Allocation of a value of ``length`` >= PROTO_MBULK_BIG_ARG that arrived as one protocol argument.

    src/networking.c: the query buffer is grown non-greedily to ``length + 2`` (CRLF) and the sds itself
    becomes the value (createObject on c->querybuf); src/object.c tryObjectEncoding ->
    trimStringObjectIfNeeded then calls sdsRemoveFreeSpace only if the free space exceeds length/10, which
    (src/sds.c sdsResize) reallocs to old header + length + 1, keeping the query buffer's header type.
    With jemalloc's classes the result equals ``sds_bytes(length)`` for every length from 32 KiB to 2 MiB (the
    trim lands in the exact size's class; unit-tested), and MEMORY USAGE agreed at 32768, 40000, 65536 and
    200000 B (measured here); the path is modelled so that this stays checked.
    """
    if length < PROTO_MBULK_BIG_ARG:
        return sds_bytes(length, allocator)
    header = SDS_HEADER[sds_type(length + 2)]  # sdsMakeRoomForNonGreedy: sdsReqType(len + addlen)
    usable = alloc(header + length + 2 + SDS_NUL, allocator)
    free = usable - header - SDS_NUL - length  # sdsavail after sdsIncrLen(-2) drops the CRLF
    if free > length // 10:
        return alloc(header + length + SDS_NUL, allocator)
    return usable


# ----------------------------------------------------------------------------------- string values
_LONG = re.compile(rb"-?[1-9][0-9]*|0")


def _as_long(text: bytes | str | None) -> int | None:
    """The integer src/util.c string2l reads from ``text`` (no sign '+', no leading zeros), else None."""
    if text is None:
        return None
    raw = text.encode() if isinstance(text, str) else bytes(text)
    if len(raw) >= LONG_STR_SIZE or not _LONG.fullmatch(raw):
        return None
    value = int(raw)
    return value if -(1 << 63) <= value < (1 << 63) else None


def string_encoding(length: int, text: bytes | str | None = None) -> str:
    """``OBJECT ENCODING`` of a SET value: "int" (only known with ``text``), "embstr" or "raw"."""
    if _as_long(text) is not None:
        return "int"
    return "embstr" if length <= EMBSTR_SIZE_LIMIT else "raw"


def string_value_bytes(length: int, allocator: str = "jemalloc", text: bytes | str | None = None, *,
                       shared_integers: bool = True, from_protocol: bool = True) -> int:
    """Bytes allocated for a string value set with SET (the robj and its sds).

    int: a private robj (16 B) holding the long, or 0 B for 0..9999 which use the shared integers
    (``shared_integers=False`` when maxmemory is set with an LRU/LFU policy; src/object.c
    tryObjectEncoding). embstr: one allocation robj + sdshdr8 + length + NUL (createEmbeddedStringObject).
    raw: robj + sds; from the protocol a value >= 32 KiB keeps its query-buffer allocation
    (``big_arg_sds_bytes``).
    """
    encoding = string_encoding(length, text)
    if encoding == "int":
        value = _as_long(text)
        assert value is not None
        _check_allocator(allocator)
        return 0 if shared_integers and 0 <= value < SHARED_INTEGERS else alloc(ROBJ, allocator)
    if encoding == "embstr":
        return alloc(ROBJ + SDS_HEADER[8] + length + SDS_NUL, allocator)
    payload = big_arg_sds_bytes(length, allocator) if from_protocol else sds_bytes(length, allocator)
    return alloc(ROBJ, allocator) + payload


# ----------------------------------------------------------------------------------- keyspace
def _db_entry_metadata(cluster: bool) -> int:
    return CLUSTER_ENTRY_METADATA if cluster else 0


def top_level_key_bytes(key_length: int, *, ttl: bool, cluster: bool = True, version: tuple[int, int] = (7, 0),
                        allocator: str = "jemalloc") -> int:
    """Bytes one key costs besides its value, excluding the dicts' bucket arrays (``keyspace_bytes``).

    src/db.c dbAdd: the key is an sdsdup copy; src/dict.c dictAddRaw: the entry is
    malloc(sizeof(dictEntry) + metadata), 24 + 16 B in cluster mode (same in 7.0 and 7.2).
    src/db.c setExpire: the expires dict (no metadata) gets a 24 B entry pointing at the same key sds.
    """
    _check_version(version)
    total = sds_bytes(key_length, allocator) + alloc(DICT_ENTRY + _db_entry_metadata(cluster), allocator)
    if ttl:
        total += alloc(DICT_ENTRY, allocator)
    return total


def dict_buckets(entries: int) -> int:
    """Buckets of a dict holding ``entries`` after inserts only (src/dict.c): none while empty, 4 at first,
    and when an insert finds used >= size it expands to the next power of two >= used + 1.
    (Deletes do not shrink it until serverCron's tryResizeHashTables finds it under 10 % full.)"""
    if entries <= 0:
        return 0
    return max(DICT_HT_INITIAL_SIZE, 1 << (entries - 1).bit_length())


def dict_buckets_bytes(entries: int) -> int:
    """Bucket array of a dict with ``entries`` entries: 8 B x buckets (a power of two, so exactly a
    jemalloc class from 32 B up); 0 while empty (no table is allocated)."""
    return BUCKET_POINTER * dict_buckets(entries)


def keyspace_bytes(keys: int, keys_with_ttl: int) -> int:
    """Bucket arrays of the db's main dict and expires dict (cluster mode uses db 0 only; 7.0 and 7.2 keep one
    main dict per db, per-slot dicts came later). While a dict rehashes both tables exist for a moment."""
    return dict_buckets_bytes(keys) + dict_buckets_bytes(keys_with_ttl)


# ----------------------------------------------------------------------------------- hashes
Element = int | bytes | str  # a length (a non-integer string of that length) or the text itself


def _length(element: Element) -> int:
    if isinstance(element, int):
        return element
    return len(element.encode() if isinstance(element, str) else element)


def _listpack_int_bytes(value: int) -> int:
    """src/listpack.c lpEncodeIntegerGetType: 7-bit uint 1 B, 13-bit 2 B, 16-bit 3 B, 24-bit 4 B, 32-bit 5 B,
    else 9 B."""
    if 0 <= value <= 127:
        return 1
    for size, bits in ((2, 13), (3, 16), (4, 24), (5, 32)):
        if -(1 << (bits - 1)) <= value < (1 << (bits - 1)):
            return size
    return 9


def _listpack_backlen_bytes(encoded: int) -> int:
    """src/listpack.c lpEncodeBacklen: 1 B up to 127, 2 B below 16383, 3 B below 2097151, 4 B below 268435455."""
    for size, limit in ((1, 128), (2, 16383), (3, 2097151), (4, 268435455)):
        if encoded < limit:
            return size
    return 5


def listpack_entry_bytes(element: Element) -> int:
    """One listpack entry: encoding+data (lpEncodeGetType: strings that lpStringToInt64 reads as integers are
    stored as integers; other strings take 1 B header below 64 B, 2 B below 4096 B, else 5 B) + backlen."""
    value = None if isinstance(element, int) else _as_long(element)
    if value is not None:
        encoded = _listpack_int_bytes(value)
    else:
        n = _length(element)
        encoded = n + (1 if n < 64 else 2 if n < 4096 else 5)
    return encoded + _listpack_backlen_bytes(encoded)


def listpack_bytes(elements: Sequence[Element]) -> int:
    """lpBytes of a listpack holding ``elements`` (a hash stores field, value, field, value, ...)."""
    return LISTPACK_HEADER + sum(listpack_entry_bytes(e) for e in elements) + LISTPACK_EOF


def _pairs(fields: Sequence[Element], values: Sequence[Element]) -> list[Element]:
    if len(fields) != len(values):
        raise MemoryModelError(f"a hash needs one value per field ({len(fields)} fields, {len(values)} values)")
    return [x for pair in zip(fields, values, strict=True) for x in pair]


def hash_encoding(field_lengths: Sequence[Element], value_lengths: Sequence[Element], *,
                  max_listpack_entries: int = HASH_MAX_LISTPACK_ENTRIES,
                  max_listpack_value: int = HASH_MAX_LISTPACK_VALUE) -> str:
    """"listpack" or "hashtable" (src/t_hash.c: hashTypeTryConversion converts when any field or value is
    longer than hash-max-listpack-value; hashTypeSet converts once the hash has more than
    hash-max-listpack-entries fields; a hashtable never converts back)."""
    elements = _pairs(field_lengths, value_lengths)
    if len(field_lengths) > max_listpack_entries or any(_length(e) > max_listpack_value for e in elements):
        return "hashtable"
    return "listpack"


def _hashtable_entries_bytes(fields: Sequence[Element], values: Sequence[Element], entry: int,
                             allocator: str) -> int:
    # src/t_hash.c hashTypeSet (HASH_SET_COPY: sdsdup) and hashTypeConvertListpack (new sds): exact sds
    return sum(entry + sds_bytes(_length(f), allocator) + sds_bytes(_length(v), allocator)
               for f, v in zip(fields, values, strict=True))


def hash_bytes(field_lengths: Sequence[Element], value_lengths: Sequence[Element], *,
               max_listpack_entries: int = HASH_MAX_LISTPACK_ENTRIES,
               max_listpack_value: int = HASH_MAX_LISTPACK_VALUE, allocator: str = "jemalloc") -> int:
    """Bytes allocated for a hash value (without its top-level key). Elements are lengths (non-integer
    strings) or the texts themselves (then integers such as "1" get listpack's integer encoding).

    listpack: robj + the listpack (src/listpack.c lpInsert reallocs to the exact lpBytes).
    hashtable: robj + dict struct + bucket array + per field a dictEntry, field sds and value sds.
    Steady state: right after an insert doubles the dict both bucket arrays exist until later operations on
    that hash finish the incremental rehash (src/dict.c _dictRehashStep; measured +32 B on a 5-field hash
    until 5 HGETs). 7.2 is the same (it presizes the dict when one HSET brings more than
    hash-max-listpack-entries fields, which gives the same power of two).
    """
    _check_allocator(allocator)
    if hash_encoding(field_lengths, value_lengths, max_listpack_entries=max_listpack_entries,
                     max_listpack_value=max_listpack_value) == "listpack":
        return alloc(ROBJ, allocator) + alloc(listpack_bytes(_pairs(field_lengths, value_lengths)), allocator)
    return (alloc(ROBJ, allocator) + alloc(DICT_STRUCT, allocator) + dict_buckets_bytes(len(field_lengths))
            + _hashtable_entries_bytes(field_lengths, value_lengths, alloc(DICT_ENTRY, allocator), allocator))


# ----------------------------------------------------------------------------------- MEMORY USAGE
def object_compute_size_string(length: int, text: bytes | str | None = None, *, from_protocol: bool = True,
                               allocator: str = "jemalloc") -> int:
    """src/object.c objectComputeSize for a string: int -> sizeof(robj); embstr -> zmalloc_size(o);
    raw -> sizeof(robj) + sdsZmallocSize(ptr)."""
    encoding = string_encoding(length, text)
    if encoding == "int":
        _check_allocator(allocator)
        return ROBJ
    if encoding == "embstr":
        return alloc(ROBJ + SDS_HEADER[8] + length + SDS_NUL, allocator)
    return ROBJ + (big_arg_sds_bytes(length, allocator) if from_protocol else sds_bytes(length, allocator))


def object_compute_size_hash(field_lengths: Sequence[Element], value_lengths: Sequence[Element], *,
                             max_listpack_entries: int = HASH_MAX_LISTPACK_ENTRIES,
                             max_listpack_value: int = HASH_MAX_LISTPACK_VALUE,
                             allocator: str = "jemalloc") -> int:
    """src/object.c objectComputeSize for a hash, all fields sampled (SAMPLES 0): listpack -> sizeof(robj) +
    zmalloc_size(lp); hashtable -> sizeof(robj) + sizeof(dict) + 8 x buckets + per field sizeof(dictEntry)
    + both sdsZmallocSize (sizeof, not the allocation, for robj, dict and dictEntry)."""
    _check_allocator(allocator)
    if hash_encoding(field_lengths, value_lengths, max_listpack_entries=max_listpack_entries,
                     max_listpack_value=max_listpack_value) == "listpack":
        return ROBJ + alloc(listpack_bytes(_pairs(field_lengths, value_lengths)), allocator)
    return (ROBJ + DICT_STRUCT + dict_buckets_bytes(len(field_lengths))
            + _hashtable_entries_bytes(field_lengths, value_lengths, DICT_ENTRY, allocator))


def memory_usage_command(key_length: int, object_size: int, *, cluster: bool = True,
                         version: tuple[int, int] = (7, 0), allocator: str = "jemalloc") -> int:
    """What ``MEMORY USAGE key SAMPLES 0`` replies for a key whose objectComputeSize is ``object_size``.

    7.0 src/object.c memoryCommand: + sdsZmallocSize(key) + sizeof(dictEntry) + dictMetadataSize(db dict)
    (the 16 B cluster entry metadata). 7.2: + dictEntryMemUsage() (24) + dictMetadataSize(db dict), which there
    is the 8 B clusterDictMetadata. Neither counts the expires entry or the bucket arrays.
    """
    _check_version(version)
    metadata = 0 if not cluster else CLUSTER_ENTRY_METADATA if tuple(version) == (7, 0) else CLUSTER_DICT_METADATA_72
    return object_size + sds_bytes(key_length, allocator) + DICT_ENTRY + metadata


# ----------------------------------------------------------------------------------- totals
@dataclass(frozen=True)
class MemoryEstimate:
    """Predicted ``used_memory`` growth: values, per-key overhead (key sds, entries) and bucket arrays."""

    data_bytes: float
    per_key_overhead: float
    buckets: float

    @property
    def total(self) -> float:
        return self.data_bytes + self.per_key_overhead + self.buckets


def estimate_string_keys(keys: int, key_length: int, value_length: int, *, ttl: bool = True, cluster: bool = True,
                         existing_keys: int = 0, existing_keys_with_ttl: int = 0,
                         existing_buckets: tuple[int, int] | None = None,
                         version: tuple[int, int] = (7, 0), allocator: str = "jemalloc") -> MemoryEstimate:
    """``used_memory`` growth from adding ``keys`` string keys (SET with or without TTL) to a node that
    already holds ``existing_keys`` (the bucket arrays grow by powers of two).

    ``existing_buckets``: the buckets the main and expires dicts have now, when known (MEMORY STATS). A dict does
    not shrink until under 10 % full, so after deletions its table can be larger than its keys need, and the new
    keys then fit without growing it: 20,000 keys on a master where 20,000 had just been deleted grew used_memory
    by exactly their values and keys, where the table for its remaining keys alone predicted 458,752 B more."""
    if keys < 0 or not math.isfinite(keys):
        raise MemoryModelError(f"keys must be a count >= 0, not {keys}")
    after_ttl = existing_keys_with_ttl + (keys if ttl else 0)
    if existing_buckets is None:
        buckets = (keyspace_bytes(existing_keys + keys, after_ttl)
                   - keyspace_bytes(existing_keys, existing_keys_with_ttl))
    else:
        have_main, have_ttl = existing_buckets
        buckets = BUCKET_POINTER * (max(0, dict_buckets(existing_keys + keys) - have_main)
                                    + max(0, dict_buckets(after_ttl) - have_ttl))
    return MemoryEstimate(
        data_bytes=keys * string_value_bytes(value_length, allocator),
        per_key_overhead=keys * top_level_key_bytes(key_length, ttl=ttl, cluster=cluster, version=version,
                                                    allocator=allocator),
        buckets=buckets)
