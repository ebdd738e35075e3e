"""Booking rules: statuses, transitions, arrival at check-in, reminders, alternatives. Pure.

Nothing here waits for a background job: a hold whose TTL passed *is* expired, a booking not
checked in by the end of its grace period *is* a no-show, computed from ``now``. Jobs only
record those facts as events and send notifications (queueing/booking/tasks.py).
"""

from __future__ import annotations

import enum
import heapq
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from queueing import typed
from queueing.booking.model import BookingPolicy
from queueing.booking.model import BookingStatus as B
from queueing.booking.schedule import Slot
from queueing.errors import InvalidTransition, SlotClosed


class Op(enum.StrEnum):
    CONFIRM = "confirm"
    CANCEL = "cancel"
    RESCHEDULE = "reschedule"
    CHECK_IN = "check_in"


# Allowed source states, by *effective* status (see ``effective_status``). Checked-in,
# waitlisted and offered bookings are rescheduled only to answer a suspension (the script
# checks that): a ticket keeps its place, a waitlisted person takes the alternative.
ALLOWED: dict[Op, frozenset[B]] = {
    Op.CONFIRM: frozenset({B.HELD, B.CONFIRMED, B.WAITLISTED, B.OFFERED}),
    Op.CANCEL: frozenset({B.HELD, B.CONFIRMED, B.WAITLISTED, B.OFFERED}),
    Op.RESCHEDULE: frozenset({B.HELD, B.CONFIRMED, B.CHECKED_IN, B.WAITLISTED,
                              B.OFFERED}),
    Op.CHECK_IN: frozenset({B.CONFIRMED, B.NO_SHOW, B.CHECKED_IN}),
}
OPEN = frozenset({B.HELD, B.CONFIRMED, B.OFFERED})  # hold a place
TERMINAL = frozenset({B.CANCELLED, B.EXPIRED, B.NO_SHOW, B.CHECKED_IN})


def sources(op: Op) -> list[str]:
    return sorted(s.value for s in ALLOWED[op])


def check(op: Op, status: B) -> None:
    if status not in ALLOWED[op]:
        raise InvalidTransition(f"cannot {op.value.replace('_', '-')} a booking that is "
                                f"{status.value}", op=op.value, status=status.value)


def effective_status(b: dict[str, Any], now_ms: int, grace_s: int) -> B:
    """The status a stored booking has at ``now_ms`` (lazy expiry and no-show)."""
    status = B(b["status"])
    if status == B.HELD and now_ms >= int(b.get("hold_until") or 0):
        return B.EXPIRED
    if status == B.OFFERED and now_ms >= int(b.get("offer_until") or 0):
        return B.EXPIRED
    if status == B.WAITLISTED and now_ms >= int(b["start_ms"]):
        return B.EXPIRED
    if status == B.CONFIRMED and now_ms >= int(b["start_ms"]) + grace_s * 1000:
        return B.NO_SHOW
    return status


# -- booking window ------------------------------------------------------------------------

def check_bookable(slot: Slot, now_ms: int, policy: BookingPolicy) -> None:
    """A slot may be booked from ``horizon_days`` ahead until ``book_until_s`` before it."""
    if now_ms >= slot.start_ms - policy.book_until_s * 1000:
        raise SlotClosed(f"slot {slot.id} is no longer open for booking", slot=slot.id)
    if slot.start_ms - now_ms > policy.horizon_days * 86400_000:
        raise SlotClosed(f"slot {slot.id} is beyond the {policy.horizon_days}-day booking "
                         "horizon", slot=slot.id)


# -- check-in ------------------------------------------------------------------------------

class Arrival(enum.StrEnum):
    TOO_EARLY = "too_early"
    ON_TIME = "on_time"  # early allowance .. end of grace: appointment priority
    WALK_IN = "walk_in"  # after grace, same local day, if the policy allows it
    TOO_LATE = "too_late"


def arrival(start_ms: int, now_ms: int, same_day: bool, policy: BookingPolicy) -> Arrival:
    if now_ms < start_ms - policy.early_check_in_s * 1000:
        return Arrival.TOO_EARLY
    if now_ms < start_ms + policy.grace_s * 1000:
        return Arrival.ON_TIME
    if policy.late_walk_in and same_day:
        return Arrival.WALK_IN
    return Arrival.TOO_LATE


CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud and typed
CODE_RE = re.compile(r"^[2-9A-HJ-NP-Z]{6}$")
QR_RE = re.compile(r"^SBK1:([A-Za-z0-9_-]{1,64}\.[0-9a-f]{12}):([2-9A-HJ-NP-Z]{6})$")


def new_codes(n: int = 1) -> list[str]:
    """``n`` random booking codes (30 bits each) from one read of the system's randomness."""
    raw = int.from_bytes(secrets.token_bytes(4 * n), "big")
    out = []
    for _ in range(n):
        word, raw = raw & 0x3FFFFFFF, raw >> 32
        out.append("".join(CODE_ALPHABET[(word >> (5 * i)) & 31] for i in range(6)))
    return out


def new_code() -> str:
    return new_codes(1)[0]


def qr_payload(booking_id: str, code: str) -> str:
    return f"SBK1:{booking_id}:{code}"


def parse_code(value: str) -> tuple[str | None, str] | None:
    """``(booking id or None, code)`` from a typed code or a scanned QR payload. A typed
    code is read as people type it: any case, in full-width forms, with spaces or dashes
    between its characters (``hd4 3ux``, ``HD4-3UX``, ``ＨＤ４３ＵＸ``), as the booking page
    shows it in two groups."""
    value = typed.plain(value).strip()
    m = QR_RE.match(value)  # before dashes go: a booking id may hold one
    if m:
        return m.group(1), m.group(2)
    code = typed.compact(value).upper()
    return (None, code) if CODE_RE.match(code) else None


# -- reminders -----------------------------------------------------------------------------

def reminders(start_ms: int, offsets_s: Iterable[int], now_ms: int) -> list[tuple[int, int]]:
    """``(offset_s, due_ms)`` of each reminder still in the future, earliest first."""
    out = {(o, start_ms - o * 1000) for o in offsets_s if start_ms - o * 1000 > now_ms}
    return sorted(out, key=lambda x: x[1])


# -- alternatives on a suspension -----------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Alternative:
    slot: Slot
    remaining: int


def rank_alternatives(service: str, resource: str, start_ms: int,
                      candidates: Sequence[Alternative], suspended: Sequence[tuple[int, int]],
                      now_ms: int, n: int) -> list[Alternative]:
    """The ``n`` best alternatives to a booking hit by a suspension of ``resource``.

    Same service, a place left, not inside a suspension of its resource, not started; the
    nearest start to the original first, another resource before the same one at equal
    distance, then slot id (deterministic).
    """
    return nearest(start_ms, resource,
                   usable(service, resource, candidates, suspended, now_ms), n)


def usable(service: str, resource: str, candidates: Iterable[Alternative],
           suspended: Sequence[tuple[int, int]], now_ms: int) -> list[Alternative]:
    """The candidates a booking of ``service`` hit by a suspension of ``resource`` may take:
    the same for every booking of that service (and channel) the suspension reached."""
    def ok(a: Alternative) -> bool:
        s = a.slot
        if s.service != service or a.remaining < 1 or s.start_ms <= now_ms:
            return False
        return not (s.resource == resource and any(s.start_ms < u and s.end_ms > f
                                                   for f, u in suspended))

    return [a for a in candidates if ok(a)]


def nearest(start_ms: int, resource: str, pool: Iterable[Alternative],
            n: int) -> list[Alternative]:
    """The ``n`` of ``pool`` (``usable``) nearest to ``start_ms``, another resource before
    ``resource`` at equal distance, then by slot id."""
    return heapq.nsmallest(n, pool, key=lambda a: (abs(a.slot.start_ms - start_ms),
                                                   a.slot.resource == resource, a.slot.id))
