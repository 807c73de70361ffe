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



def test_replies_read_out_of_order_never_lower_the_acknowledged_version_nor_revive_an_ended_session():
    # the delete's reply read before the reply of the update Redis applied just before it: still ended
    assert R.acknowledge(R.acknowledge(3, R.ENDED), 4) == R.ENDED
    # two updates of one session on two worker threads, replies swapped: the later write stays acknowledged
    assert R.acknowledge(R.acknowledge(0, 5), 4) == 5
    assert R.acknowledge(4, 5) == 5 and R.acknowledge(0, 1) == 1


def test_a_write_acknowledged_while_the_read_was_in_flight_is_not_a_lost_write():
    """A restore reads version 3 while the session's update 4 (another worker thread) is acknowledged before the
    verdict: the read may have gone first, so 3 is current; 2 was older than what was acknowledged before the read
    (3), so it is stale; a version past everything acknowledged is still ahead."""
    sid = "001-0000000007"
    three = R.record(PAYLOAD, CRC, sid, 3, 512)
    assert R.check(sid, three, acked=4) == R.STALE  # without knowing when the read went
    assert R.check(sid, three, acked=4, acked_before_read=3) == R.CURRENT
    assert R.check(sid, three, acked=4, acked_before_read=2) == R.CURRENT  # 3 and 4 both acknowledged meanwhile
    assert R.check(sid, R.record(PAYLOAD, CRC, sid, 2, 512), acked=4, acked_before_read=3) == R.STALE
    assert R.check(sid, R.record(PAYLOAD, CRC, sid, 5, 512), acked=4, acked_before_read=3) == R.AHEAD
    assert R.check(sid, None, acked=4, acked_before_read=3) == R.MISSING
    assert R.check("001-0000000008", three, acked=4, acked_before_read=3) == R.CORRUPT
