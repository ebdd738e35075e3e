"""Display tokens locked to one waiting area (``area`` claim): what they open, how they are
minted, and how an area's board narrows the site's messages and finds its recent calls."""

from __future__ import annotations

from typing import Any

import pytest

from queueing.errors import BadRequest, Forbidden
from realtime.auth import make_token, verify
from realtime.hub.area_board import calls_in, narrow
from realtime.hub.entry import Entry
from realtime.hub.topics import Message
from realtime.tokens_api import TokenRequest, check_scope, link

SECRET = "s" * 40


def principal(**kw: Any) -> Any:
    return verify(SECRET, make_token(SECRET, "display", site="opd", **kw))


def test_an_area_token_reads_its_area_board_only() -> None:
    p = principal(area="wr1")
    assert p.area == "wr1" and p.subject == "display:opd:wr1"
    p.require_board("opd", "wr1")
    for area in (None, "wr2"):
        with pytest.raises(Forbidden) as exc:
            p.require_board("opd", area)
        assert exc.value.details == {"role": "display", "reason": "other_area", "area": "wr1"}
        assert "waiting area wr1" in exc.value.message
    with pytest.raises(Forbidden):
        p.require_board("other", "wr1")


def test_a_site_display_token_still_reads_every_board() -> None:
    p = principal()
    assert p.area is None
    for area in (None, "wr1", "wr2"):
        p.require_board("opd", area)


def test_only_display_tokens_take_an_area() -> None:
    with pytest.raises(ValueError, match="only a display token"):
        make_token(SECRET, "kiosk", site="opd", area="wr1")
    with pytest.raises(BadRequest) as exc:
        check_scope(TokenRequest(role="kiosk", subject="k", site="opd", area="wr1"))
    assert exc.value.details["field"] == "area"
    check_scope(TokenRequest(role="display", subject="b", site="opd", area="wr1"))


def test_an_area_token_links_to_its_area_board() -> None:
    assert link("display", {"site": "opd"}, "T", area="wr1") == "/board/opd?area=wr1&token=T"
    assert link("display", {"site": "opd"}, "T") == "/board/opd?token=T"


def entry(type_: str, counter: str = "", tid: str = "", ts: int = 0, **data: Any) -> Entry:
    d: dict[str, Any] = dict(data)
    if tid:
        d |= {"counter": counter, "ticket": {"id": tid, "number": tid.upper(),
                                              "service": "s", "called_ms": ts}}
    return Entry(f"{ts}-0", type_, ts, "", "", d)


def test_calls_in_keeps_each_ticket_at_its_latest_call_and_stops_at_a_day_close() -> None:
    newest_first = [entry("called", "1", "a3", 900), entry("recalled", "5", "a2", 800),
                    entry("completed", ts=700), entry("called", "1", "a2", 600),
                    entry("called", "2", "a1", 500),
                    entry("day_closed", ts=400, before_ms=300),
                    entry("called", "1", "a0", 350),  # after the close's cut: kept
                    entry("called", "1", "old", 200)]  # before it: off the board
    got = list(calls_in(newest_first, {"1", "2"}, set()))
    # a2's latest call was at counter 5, another room's: not this room's recent call.
    assert [r["number"] for r in got] == ["A3", "A1", "A0"]


def test_narrow_keeps_the_area_counters_and_turns_other_calls_into_figures() -> None:
    counters = {"1", "2"}
    inside = Message("called", {"counter": "1", "number": "A1", "waiting": {"s": 1}})
    assert narrow(inside, counters) == inside
    other = narrow(Message("called", {"counter": "5", "number": "D1", "waiting": {"s": 2}}),
                   counters)
    assert other == Message("waiting", {"waiting": {"s": 2}}, is_event=False)
    assert narrow(Message("called", {"counter": "5", "number": "D1"}), counters) is None
    tiles = narrow(Message("waiting", {"waiting": {}, "counters": [{"id": "1"}, {"id": "5"}]},
                           is_event=False), counters)
    assert tiles is not None and tiles.data["counters"] == [{"id": "1"}]
    assert narrow(Message("counter", {"counter": {"id": "5"}, "waiting": {}}), counters) == (
        Message("waiting", {"waiting": {}}, is_event=False))
