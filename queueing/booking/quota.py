"""Availability arithmetic: how many places each channel may still take in a slot. Pure.

A slot of capacity ``C`` has places taken per quota group (``g`` general, ``q0``, ``q1`` …
for the quotas). Until a quota's release time its ``R`` reserved places can only be taken by
its channels, and its own bookings use the reserved places first. So the places a slot
needs are::

    need = taken[g] + Σ_quota (taken[q] if released else max(taken[q], R_q))

and a booking is possible while ``need`` after it stays ≤ ``C``. A group may take::

    free(g) = C − need                            (general, or a released quota)
    free(q) = C − need + max(0, R_q − taken[q])   (a quota still held)

People on a slot's waitlist come before newcomers: a new booking needs ``free − waiting ≥ 1``,
and the waitlisted person at rank ``r`` (0 = first) may take a place while ``free > r``.

queueing/booking/lua/prelude.lua implements the same formulas (``bk_free``); the tests
check that the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from queueing.booking.schedule import GENERAL, Slot


def need(slot: Slot, taken: Mapping[str, int], now_ms: int) -> int:
    total = taken.get(GENERAL, 0)
    for q in slot.quotas:
        t = taken.get(q.group, 0)
        total += t if now_ms >= q.release_ms else max(t, q.reserved)
    return total


def free(slot: Slot, group: str, taken: Mapping[str, int], now_ms: int) -> int:
    """Places ``group`` may still take (waitlist not counted)."""
    n = slot.capacity - need(slot, taken, now_ms)
    for q in slot.quotas:
        if q.group == group and now_ms < q.release_ms:
            n += max(0, q.reserved - taken.get(q.group, 0))
    return max(0, n)


def free_total(slot: Slot, taken: Mapping[str, int]) -> int:
    """Places no one holds, whatever the channel."""
    return max(0, slot.capacity - sum(taken.values()))


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str  # "slot_full" or "channel_quota"
    message: str


def check_new(slot: Slot, channel: str, taken: Mapping[str, int], waiting: int,
              now_ms: int) -> Refusal | None:
    """Why a new booking from ``channel`` cannot take a place now, or None if it can."""
    if free(slot, slot.group_of(channel), taken, now_ms) - waiting >= 1:
        return None
    if free_total(slot, taken) - waiting >= 1:
        return Refusal("channel_quota", f"the places left in {slot.id} are held for other "
                                        "channels until their quota is released")
    return Refusal("slot_full", f"slot {slot.id} is full")


def remaining(slot: Slot, channel: str | None, taken: Mapping[str, int], waiting: int,
              now_ms: int) -> int:
    """What availability shows: places a newcomer from ``channel`` (any channel if None)
    could book now."""
    if channel is None:
        return max(0, free_total(slot, taken) - waiting)
    return max(0, free(slot, slot.group_of(channel), taken, now_ms) - waiting)
