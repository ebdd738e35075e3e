"""Availability arithmetic: how many places each channel may still take in a slot. Pure.

A slot of capacity ``C`` has places taken per quota group (``g`` general, ``q0``, ``q1`` …
for the quotas). Until a quota's release time its ``R`` reserved places can only be taken by
its channels, and its own bookings use the reserved places first. So the places a slot
needs are::

    need = taken[g] + Σ_quota (taken[q] if released else max(taken[q], R_q))

and a booking is possible while ``need`` after it stays ≤ ``C``. A group may take::

    free(g) = C − need                            (general, or a released quota)
    free(q) = C − need + max(0, R_q − taken[q])   (a quota still held)

People on a slot's waitlist come before newcomers: in order, each waitlisted person whose
group may take a place takes one (``after_waitlist``); a newcomer gets what is left. A
waitlisted person who cannot take the places left (held for another channel) blocks nobody
from them. The places a quota's release opens go to the waitlist then (a due entry).

queueing/booking/lua/prelude.lua implements the same formulas (``bk_free``); the tests
check that the two agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def after_waitlist(slot: Slot, taken: Mapping[str, int], waitlist: Sequence[str],
                   now_ms: int) -> dict[str, int]:
    """``taken`` once the waitlist (its people's groups, in order) has taken what it may."""
    t = dict(taken)
    groups = slot.groups
    for grp in waitlist:
        if free_total(slot, t) < 1:
            break
        if free(slot, grp, t, now_ms) >= 1:
            g = grp if grp in groups else GENERAL
            t[g] = t.get(g, 0) + 1
    return t


def check_new(slot: Slot, channel: str, taken: Mapping[str, int], waitlist: Sequence[str],
              now_ms: int) -> Refusal | None:
    """Why a new booking from ``channel`` cannot take a place now, or None if it can."""
    taken = after_waitlist(slot, taken, waitlist, now_ms)
    if free(slot, slot.group_of(channel), taken, now_ms) >= 1:
        return None
    if free_total(slot, taken) >= 1:
        return Refusal("channel_quota", f"the places left in {slot.id} are held for other "
                                        "channels until their quota is released")
    return Refusal("slot_full", f"slot {slot.id} is full")


def remaining(slot: Slot, channel: str | None, taken: Mapping[str, int],
              waitlist: Sequence[str], now_ms: int) -> int:
    """What availability shows: places a newcomer from ``channel`` (any channel if None)
    could book now."""
    taken = after_waitlist(slot, taken, waitlist, now_ms)
    if channel is None:
        return free_total(slot, taken)
    return free(slot, slot.group_of(channel), taken, now_ms)
