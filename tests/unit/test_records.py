"""Records carry a version and a checksum; the read-back verdicts."""

import random
import zlib

from loadsim.model import records as R

PAYLOAD = random.Random(1).randbytes(1 << 16)
CRC = R.BodyCrc(PAYLOAD)


def test_a_record_reads_back_as_current_stale_ahead_missing_or_corrupt():
    rec = R.record(PAYLOAD, CRC, "001-0000000007", 3, 4096)
    assert len(rec) == 4096 and rec[:4] == b"LSv1"
    assert R.check("001-0000000007", rec, acked=3) == R.CURRENT
    assert R.check("001-0000000007", rec, acked=4) == R.STALE  # acknowledged write 4 was lost
    assert R.check("001-0000000007", rec, acked=2) == R.AHEAD  # write 3 applied, its reply never came
    assert R.check("001-0000000007", None, acked=3) == R.MISSING
    assert R.check("001-0000000008", rec, acked=3) == R.CORRUPT  # another session's record
    flipped = rec[:100] + bytes([rec[100] ^ 1]) + rec[101:]
    assert R.check("001-0000000007", flipped, acked=3) == R.CORRUPT
    assert R.check("001-0000000007", b"short", acked=1) == R.CORRUPT


def test_small_records_still_carry_the_header_and_the_body_crc_is_cached_by_size():
    assert len(R.record(PAYLOAD, CRC, "001-1", 1, 5)) == R.HEADER.size
    assert R.check("001-1", R.record(PAYLOAD, CRC, "001-1", 1, 5), 1) == R.CURRENT
    assert 777 not in CRC
    assert CRC[777] == zlib.crc32(PAYLOAD[R.HEADER.size:777])
    assert 777 in CRC  # computed once, then the dict's own


def test_the_acknowledged_version_never_goes_down_nor_revives_an_ended_session():
    assert R.acknowledge(R.acknowledge(3, R.ENDED), 4) == R.ENDED
    assert R.acknowledge(R.acknowledge(0, 5), 4) == 5
    assert R.acknowledge(4, 5) == 5 and R.acknowledge(0, 1) == 1
