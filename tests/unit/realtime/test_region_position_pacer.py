"""The region topic's position pacing (realtime/hub/region_topic.py ``PositionPacer``): the
latest fix per technician waits, and the waiting ones go together at most every 2 s. Pure:
time is an argument."""

from __future__ import annotations

from realtime.hub.region_topic import PositionPacer


def _row(tid: str, t: int) -> dict[str, object]:
    return {"id": tid, "position": {"lat": 52.0, "lon": 4.0, "t": t}}


def test_the_first_fixes_go_at_once_then_at_most_every_interval() -> None:
    p = PositionPacer(every_ms=2000)
    p.add("a", _row("a", 1))
    assert p.due_in(0) == 0
    assert [r["id"] for r in p.take(0)] == ["a"]
    # Within the interval, fixes wait; the latest per technician wins.
    p.add("b", _row("b", 2))
    p.add("a", _row("a", 3))
    p.add("a", _row("a", 4))
    assert p.due_in(500) == 1500
    assert p.due_in(2000) == 0
    assert p.take(2000) == [_row("a", 4), _row("b", 2)]
    assert p.pending == {} and p.due_in(2500) == 1500


def test_a_row_sent_with_a_status_change_no_longer_waits() -> None:
    p = PositionPacer(every_ms=2000)
    p.take(0)
    p.add("a", _row("a", 1))
    p.drop("a")
    assert p.take(3000) == []
    # Nothing sent: the next fix may go at once.
    p.add("a", _row("a", 2))
    assert p.due_in(3000) == 0
