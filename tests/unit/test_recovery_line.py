"""The switchover's line: a recovery the run's end cut short is said to be unfinished, not counted as lost."""

from loadsim.results.text import recovery_line


def pair(complete: bool) -> dict:
    return {"pair": 0, "expected": 1200, "recovered": 1200 if complete else 0, "lost": 0 if complete else 1200,
            "complete": complete}


def test_a_finished_recovery_gives_its_counts():
    rv = {"pairs": 2, "expected": 2400, "recovered": 2398, "lost": 2, "lost_never_written": 2, "lost_written": 0,
          "max_seconds": 1.5, "complete": True, "per_pair": [pair(True), pair(True)]}
    line = recovery_line(rv)
    assert "2,398 sessions recovered of 2,400 live, 2 lost (2 never written" in line and "NOT FINISHED" not in line


def test_a_recovery_the_run_cut_short_is_not_reported_as_lost_sessions():
    # an entry not completed keeps lost = expected (its initial value): saying "1,200 lost" would be false
    rv = {"pairs": 2, "expected": 2400, "recovered": 1200, "lost": 1200, "lost_never_written": 0,
          "lost_written": 0, "max_seconds": 1.5, "complete": False, "per_pair": [pair(True), pair(False)]}
    line = recovery_line(rv)
    assert "NOT FINISHED" in line and "1 of 2 pairs" in line and "lost (" not in line
