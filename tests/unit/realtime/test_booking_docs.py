"""The booking topic, its event types and the booking error codes are in the protocol
documents whatever else is imported (tests/unit/realtime/test_protocol_docs.py checks the
namespaces registered when it runs)."""

from __future__ import annotations

from pathlib import Path

import yaml

from queueing.errors import all_error_classes
from realtime.hub.booking_topics import BookingTopic

DOCS = Path(__file__).parents[3] / "docs"
PROSE = (DOCS / "protocol.md").read_text()
SPEC = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())


def test_booking_topic_documented() -> None:
    assert "`booking:{id}`" in PROSE
    enum = set(SPEC["components"]["schemas"]["EventType"]["enum"])
    for t in BookingTopic.event_types:
        assert f"`{t}`" in PROSE and t in enum, t


def test_booking_errors_documented() -> None:
    appointments = (DOCS / "appointments.md").read_text()
    for cls in all_error_classes():
        if cls.__module__ == "queueing.errors" and cls.__name__ in {
                "SlotFull", "ChannelQuota", "Overlap", "TooManyBookings", "SlotClosed",
                "ResourceSuspended", "HoldExpired", "OfferExpired", "NotOffered", "TooEarly",
                "TooLate", "ScheduleChanged", "UnknownSlot", "UnknownBooking",
                "UnknownResource", "UnknownSuspension", "BookingNotConfigured"}:
            assert f"`{cls.code}`" in PROSE, cls.code
            assert f"`{cls.code}`" in appointments, cls.code
