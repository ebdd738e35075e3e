"""Availability arithmetic: closed forms checked against brute force."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from queueing.booking import quota
from queueing.booking.schedule import GENERAL, QuotaGroup, Slot

NOW = 1_000_000


def slot(capacity: int, *groups: tuple[int, bool]) -> Slot:
    """``groups``: (reserved, released?) per quota."""
    qs = tuple(QuotaGroup(f"q{i}", frozenset({f"ch{i}"}), r, NOW - 1 if rel else NOW + 1)
               for i, (r, rel) in enumerate(groups))
    return Slot("r.s.20260101T0000Z", "r", "s", NOW + 10, NOW + 20, capacity, qs)


def test_reserved_places_are_kept_for_their_channels() -> None:
    s = slot(4, (1, False))
    assert quota.free(s, GENERAL, {}, NOW) == 3
    assert quota.free(s, "q0", {}, NOW) == 4
    assert quota.free(s, GENERAL, {GENERAL: 3}, NOW) == 0
    assert quota.free(s, "q0", {GENERAL: 3}, NOW) == 1
    # A quota booking uses its reserved place first: general still has three.
    assert quota.free(s, GENERAL, {"q0": 1}, NOW) == 3
    assert quota.free(s, GENERAL, {"q0": 2}, NOW) == 2


def test_release_opens_the_reserve_to_everyone() -> None:
    s = slot(4, (1, True))
    assert quota.free(s, GENERAL, {GENERAL: 3}, NOW) == 1


def test_refusal_codes() -> None:
    s = slot(4, (1, False))
    assert quota.check_new(s, "app", {GENERAL: 2}, [], NOW) is None
    r = quota.check_new(s, "app", {GENERAL: 3}, [], NOW)
    assert r is not None and r.code == "channel_quota"
    r = quota.check_new(s, "ch0", {GENERAL: 3, "q0": 1}, [], NOW)
    assert r is not None and r.code == "slot_full"
    # The waitlist comes first: one free place (held for ch0), one ch0 person waiting.
    r = quota.check_new(s, "ch0", {GENERAL: 3}, ["q0"], NOW)
    assert r is not None and r.code == "slot_full"
    assert quota.remaining(s, None, {GENERAL: 3}, [], NOW) == 1
    assert quota.remaining(s, "app", {GENERAL: 3}, [], NOW) == 0
    # ...but someone waiting who cannot take that place (an app user) does not block ch0.
    assert quota.check_new(s, "ch0", {GENERAL: 3}, [GENERAL], NOW) is None
    assert quota.remaining(s, "ch0", {GENERAL: 3}, [GENERAL, GENERAL], NOW) == 1
    assert quota.remaining(s, None, {GENERAL: 3}, [GENERAL, "q0"], NOW) == 0


@given(cap=st.integers(1, 12),
       groups=st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=3),
       taken=st.lists(st.integers(0, 5), min_size=4, max_size=4),
       who=st.integers(0, 3))
def test_free_is_the_most_a_group_can_add(cap: int, groups: list[tuple[int, bool]],
                                          taken: list[int], who: int) -> None:
    s = slot(cap, *groups)
    names = [GENERAL, *(q.group for q in s.quotas)]
    t = {g: taken[i] for i, g in enumerate(names)}
    g = names[who % len(names)]
    if quota.need(s, t, NOW) > cap:
        return  # an over-full state (capacity lowered later) takes nobody
    most = 0
    while quota.need(s, {**t, g: t[g] + most + 1}, NOW) <= cap:
        most += 1
    assert quota.free(s, g, t, NOW) == most
