"""docs/appointments.md says what the booking view and topic now carry and what a booking is
refused for: ``promote_at`` (the early-arrival rule the pages explain), the booking topic's
``site`` message, and 409 ``service_not_served`` in its error table, in English and Chinese."""

from __future__ import annotations

from pathlib import Path

from queueing.served import ServiceNotServed
from realtime.hub.booking_topics import BookingTopic

DOC = (Path(__file__).parents[3] / "docs" / "appointments.md").read_text()


def _section(title: str) -> str:
    return DOC.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_the_booking_view_and_topic_are_documented() -> None:
    assert "`promote_at`" in _section("Bookings") and "预约时间前 `appointment_early_s`" in DOC
    events = _section("Events")
    for t in BookingTopic.event_types:
        assert f"`{t}`" in events, t
    assert "`vocabulary`" in events and "`promote_at`" in events


def test_service_not_served_is_in_the_error_table() -> None:
    errors = _section("Errors")
    assert f"| `{ServiceNotServed.code}` | 409 |" in errors
    assert f"没有窗口办理该业务为 `{ServiceNotServed.code}`" in errors
    assert "Not bookable at the moment" in DOC
