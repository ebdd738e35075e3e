"""Whether a notification is still news (queueing/booking/fresh.py), its ``valid_until``,
the counters' fields (delivery.parse) and the /metrics series made from them."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from queueing.booking import delivery
from queueing.booking.fresh import stale, valid_until_ms
from queueing.booking.notify import Notification, local_iso
from realtime.metrics import NotificationStats

NOW = 1_796_614_140_000  # 2026-12-07 11:29:00 in Shanghai
TO = "+8613800000003"


def _turn(**kw: Any) -> Notification:
    return Notification(id="demo:turn:1-0", kind="turn", site="demo", to=TO,
                        text={"zh": "请 G003 号到 1号诊室"}, at=local_iso(NOW, "Asia/Shanghai"),
                        valid_until=local_iso(valid_until_ms("turn", NOW), "Asia/Shanghai"),
                        ticket="demo.abc", data={"number": "G003", "counter": "1"} | kw)


def _ticket(**kw: str) -> dict[str, str]:
    return {"status": "called", "counter": "1", "service": "general", "notify": TO} | kw


def test_a_call_is_news_only_while_called_or_served_at_its_counter() -> None:
    n = _turn()
    assert stale(n, _ticket(), NOW + 20_000) is None
    assert stale(n, _ticket(status="serving"), NOW + 20_000) is None
    # The reported case: G003 done 20 s before the retry went.
    assert stale(n, _ticket(status="done", counter=""), NOW + 20_000) == "ticket_done"
    assert stale(n, _ticket(status="no_show", counter=""), NOW) == "ticket_no_show"
    assert stale(n, _ticket(status="waiting", counter=""), NOW) == "ticket_waiting"  # no-show back
    assert stale(n, _ticket(status="cancelled", counter=""), NOW) == "ticket_cancelled"
    assert stale(n, _ticket(status="transferred", counter=""), NOW) == "ticket_transferred"
    # Transferred and called elsewhere: that call has its own text.
    assert stale(n, _ticket(counter="5"), NOW) == "counter_changed"
    # A recall (same counter, still called) keeps the first call's text true.
    assert stale(n, _ticket(), NOW + 60_000) is None


def test_stop_an_erased_ticket_and_age_end_any_text() -> None:
    n = _turn()
    assert stale(n, _ticket(notify=""), NOW) == "unsubscribed"  # STOP, or the number taken back
    assert stale(n, _ticket(notify="+8613800000004"), NOW) == "unsubscribed"
    assert stale(n, None, NOW) == "gone"
    assert stale(n, _ticket(), NOW + 5 * 60_000 + 1) == "expired"
    plain = Notification(id="demo:x", kind="offer", site="demo", to=TO, text={}, at="")
    assert stale(plain, None, NOW) is None  # about nothing stored: only its age counts


def test_position_texts_only_while_waiting_in_that_queue() -> None:
    almost = Notification(id="demo:almost:t", kind="almost", site="demo", to=TO, text={},
                          at="", ticket="demo.abc", data={"position": 2, "service": "general"})
    waiting = _ticket(status="waiting", counter="")
    assert stale(almost, waiting, NOW) is None
    assert stale(almost, waiting | {"status": "called"}, NOW) == "ticket_called"
    assert stale(almost, waiting | {"service": "lab", "status": "transferred"},
                 NOW) == "service_changed"
    moved = Notification(id="demo:moved:1", kind="moved", site="demo", to=TO, text={},
                         at="", ticket="demo.abc", data={"service": "lab"})
    assert stale(moved, waiting | {"service": "lab", "status": "transferred"}, NOW) is None
    assert stale(moved, waiting | {"service": "lab", "status": "called"}, NOW) == "ticket_called"
    closed = Notification(id="demo:no_show:1", kind="no_show", site="demo", to=TO, text={},
                          at="", ticket="demo.abc")
    assert stale(closed, waiting | {"status": "no_show"}, NOW) is None


def test_no_counter_only_while_waiting_for_that_service() -> None:
    """"The last counter closed" is news for 30 minutes, while the ticket still waits for
    that service (not once it is called, cancelled or moved to another service)."""
    n = Notification(id="demo:no_counter:1-0:t", kind="no_counter", site="demo", to=TO,
                     text={}, at="", ticket="demo.abc",
                     valid_until=local_iso(valid_until_ms("no_counter", NOW), "Asia/Shanghai"),
                     data={"number": "C008", "service": "lab", "counter": "4"})
    waiting = _ticket(status="waiting", counter="", service="lab")
    assert stale(n, waiting, NOW + 60_000) is None
    assert stale(n, waiting | {"status": "called", "counter": "4"}, NOW) == "ticket_called"
    assert stale(n, waiting | {"status": "cancelled"}, NOW) == "ticket_cancelled"
    assert stale(n, waiting | {"service": "general", "status": "transferred"},
                 NOW) == "service_changed"
    assert stale(n, waiting, NOW + 30 * 60_000 + 1) == "expired"


def test_booking_texts_only_while_the_booking_stands() -> None:
    b = {"status": "confirmed", "slot": "s1", "notify": TO, "susp": ""}
    booked = Notification(id="demo:booked:1", kind="booked", site="demo", to=TO, text={},
                          at="", booking="demo.b1", data={"slot": "s1"})
    assert stale(booked, b, NOW) is None
    assert stale(booked, b | {"status": "cancelled"}, NOW) == "booking_cancelled"
    assert stale(booked, b | {"slot": "s2"}, NOW) == "slot_changed"
    offer = Notification(id="demo:offer:1", kind="offer", site="demo", to=TO, text={}, at="",
                         booking="demo.b1", data={"slot": "s1"})
    assert stale(offer, b | {"status": "offered"}, NOW) is None
    assert stale(offer, b | {"status": "expired"}, NOW) == "booking_expired"
    susp = Notification(id="demo:suspended:1", kind="suspended", site="demo", to=TO, text={},
                        at="", booking="demo.b1", data={"slot": "s1", "suspension": "sp1"})
    assert stale(susp, b | {"susp": "sp1"}, NOW) is None
    assert stale(susp, b, NOW) == "suspension_changed"


def test_valid_until() -> None:
    assert valid_until_ms("turn", NOW) == NOW + 300_000
    assert valid_until_ms("offer", NOW, NOW + 60_000) == NOW + 60_000  # the deadline itself
    assert valid_until_ms("verify", NOW, NOW + 600_000) == NOW + 600_000
    # A booking's text: until the appointment ends, and at least 15 min.
    assert valid_until_ms("booked", NOW, NOW + 86_400_000) == NOW + 86_400_000
    assert valid_until_ms("booked", NOW, NOW - 60_000) == NOW + 900_000
    assert local_iso(NOW, "Asia/Shanghai") == "2026-12-07T11:29:00+08:00"
    assert local_iso(NOW + 5_000, "UTC") == "2026-12-07T03:29:05+00:00"


def test_counters_and_their_series() -> None:
    raw = {b"sent:turn": b"3", b"failed:turn": b"7", b"given_up:offer": b"1",
           b"stale:turn:ticket_done": b"2", b"junk": b"1"}
    counts = delivery.parse(raw)
    assert counts == {("sent", "turn", ""): 3, ("failed", "turn", ""): 7,
                      ("given_up", "offer", ""): 1, ("stale", "turn", "ticket_done"): 2}
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NotificationStats(delivery.Stats(counts, NOW - 95_000, 4, 3),
                                        NOW / 1000))
    text = generate_latest(registry).decode()
    for line in ('switchboard_notifications_sent_total{kind="turn"} 3.0',
                 'switchboard_notifications_sent_total{kind="reminder"} 0.0',
                 'switchboard_notification_failures_total{kind="turn"} 7.0',
                 'switchboard_notifications_given_up_total{kind="offer"} 1.0',
                 'switchboard_notifications_dropped_total{kind="turn",reason="ticket_done"} 2.0',
                 "switchboard_notifications_undelivered 4.0",
                 "switchboard_notification_oldest_undelivered_seconds 95.0",
                 "switchboard_notification_retries_pending 3.0"):
        assert line in text, (line, text)
    empty = CollectorRegistry(auto_describe=False)
    empty.register(NotificationStats(delivery.Stats({}, None, 0, 0), NOW / 1000))
    assert "switchboard_notification_oldest_undelivered_seconds 0.0" in generate_latest(
        empty).decode()
