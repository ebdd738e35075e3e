"""Whether a notification is still news (pure: the record and the time are arguments).

A text that could not go at once is tried again for minutes (queueing/booking/consumer.py);
by then the ticket it is about may have been served, moved or cancelled. "Ticket G003,
please go to Room 1" arriving after G003 was done sends a person back to a room for nothing,
so each try first reads the ticket or booking again and ``stale`` says why the text is no
longer true, or None.

``valid_until`` is how long a notification may still be sent at all, carried in the payload
(``valid_until``) so a gateway that queues messages can drop one too: a call goes stale in
minutes, a booking's text with the appointment, an offer with its deadline, a verification
code with the code.

Reasons: ``expired`` (past ``valid_until``), ``gone`` (the ticket or booking no longer
exists: erased, or its data expired), ``unsubscribed`` (its number was taken back or
changed, STOP), ``ticket_<status>`` / ``booking_<status>`` (no longer in a state where the
text is true), ``counter_changed`` (called to another counter since), ``service_changed``
(moved to another queue since), ``slot_changed`` (a booking moved since),
``suspension_changed`` (a suspension lifted or replaced), ``suspended`` (a reminder for a
booking under a suspension its person has not answered: the appointment cannot take place).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from queueing.booking.notify import Notification

# How long after it is made each kind of text may still go (s). A call is news while the
# counter waits for the person; a recall sends a new text with its own time.
LIFETIME_S: dict[str, int] = {
    "turn": 5 * 60,
    "almost": 30 * 60, "issued": 30 * 60, "moved": 30 * 60, "no_show_back": 30 * 60,
    "no_counter": 30 * 60,
    "no_show": 2 * 3600, "cancelled_by_staff": 2 * 3600, "cancelled_day_closed": 2 * 3600,
}
BOOKING_FLOOR_S = 15 * 60  # a booking's text may go at least this long (a walk-in's booking)
DEFAULT_S = 3600

# The ticket states in which a ticket's text is still true.
TICKET_STATES: dict[str, frozenset[str]] = {
    "turn": frozenset({"called", "serving"}),
    "almost": frozenset({"waiting", "transferred"}),
    "issued": frozenset({"waiting", "transferred"}),
    "moved": frozenset({"waiting", "transferred"}),
    "no_show_back": frozenset({"waiting", "transferred"}),
    "no_counter": frozenset({"waiting", "transferred"}),
    "no_show": frozenset({"no_show"}),
    "cancelled_by_staff": frozenset({"cancelled"}),
    "cancelled_day_closed": frozenset({"cancelled"}),
}
# The booking states in which a booking's text is still true.
BOOKING_STATES: dict[str, frozenset[str]] = {
    "booked": frozenset({"confirmed"}),
    "rebooked": frozenset({"confirmed"}),
    "reminder": frozenset({"confirmed"}),
    "offer": frozenset({"offered"}),
    "suspended": frozenset({"confirmed", "held", "waitlisted", "offered"}),
    "booking_cancelled": frozenset({"cancelled"}),
    "waitlisted": frozenset({"waitlisted"}),
    "unsuspended": frozenset({"confirmed", "held", "waitlisted", "offered", "checked_in"}),
}


def valid_until_ms(kind: str, now_ms: int, until_ms: int | None = None) -> int:
    """Until when a ``kind`` text made at ``now_ms`` may go. ``until_ms``: the booking's end
    (its text says nothing after it; at least ``BOOKING_FLOOR_S`` from now), an offer's
    deadline (exactly: the place is gone after it), a code's expiry."""
    if until_ms is None:
        return now_ms + LIFETIME_S.get(kind, DEFAULT_S) * 1000
    if kind in ("offer", "verify"):
        return until_ms
    return max(until_ms, now_ms + BOOKING_FLOOR_S * 1000)


def stale(n: Notification, record: Mapping[str, str] | None, now_ms: int) -> str | None:
    """Why ``n`` is no longer news, or None. ``record`` is the ticket's or booking's hash as
    stored now (None when ``n`` is about neither, or it no longer exists)."""
    if n.valid_until and now_ms > _ms(n.valid_until):
        return "expired"
    if n.ticket is None and n.booking is None:
        return None
    if not record:
        return "gone"
    if record.get("notify", "") != n.to:
        return "unsubscribed"
    if n.ticket is not None and n.kind in TICKET_STATES:
        return _ticket(n.kind, n.data, record)
    if n.booking is not None and n.kind in BOOKING_STATES:
        return _booking(n.kind, n.data, record)
    return None


def _ticket(kind: str, data: Mapping[str, Any], t: Mapping[str, str]) -> str | None:
    status = t.get("status", "")
    if status not in TICKET_STATES[kind]:
        return "ticket_" + (status or "unknown")
    if kind == "turn" and t.get("counter") != data.get("counter"):
        return "counter_changed"  # transferred and called elsewhere: that call texts itself
    if kind in ("almost", "moved", "no_counter") \
            and data.get("service") not in (None, t.get("service")):
        return "service_changed"
    return None


def _booking(kind: str, data: Mapping[str, Any], b: Mapping[str, str]) -> str | None:
    status = b.get("status", "")
    if status not in BOOKING_STATES[kind]:
        return "booking_" + (status or "unknown")
    if data.get("slot") not in (None, b.get("slot")) and kind != "booking_cancelled":
        return "slot_changed"
    if kind == "suspended" and b.get("susp", "") != (data.get("suspension") or ""):
        return "suspension_changed"
    if kind == "reminder" and b.get("susp") and b.get("answered") != "1":
        return "suspended"  # told it cannot take place, and not answered yet
    return None


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)
