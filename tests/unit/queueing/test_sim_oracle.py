"""The Monte Carlo oracle's continuations follow the simulator's rules from the true state."""

from __future__ import annotations

import random
from typing import Any

import msgspec

from queueing.estimate.rates import RateTracker
from queueing.sim.config import Scenario, check
from queueing.sim.engine import ARRIVE, PAUSE_OFF, Day, Ticket
from queueing.sim.oracle import _copy, _pause_end, oracle_median

CALL_S = 1200  # every call 20 minutes: the continuations are deterministic


def _scenario(**extra: Any) -> Scenario:
    sc = msgspec.convert({
        "open_h": 8, "close_h": 12,
        "services": [{"id": "s", "arrivals_per_hour": [0.0] * 24,
                      "service_time": {"dist": "empirical", "samples_s": [CALL_S]}}],
        "counters": [{"id": "c1", "services": ["s"], "shifts": [[8, 12]]}],
        "appointment_early_min": 60.0, "appointment_sd_min": 0.0, "appointment_early_s": 600,
        **extra,
    }, Scenario)
    check(sc)
    return sc


class _Probe(Day):
    """A day that asks the oracle at the issue of one ticket and records every real wait."""

    probe: str
    oracle_wait: float | None
    promoted_in_copy: bool
    waits: dict[str, float]

    def _predict(self, ticket: Ticket, ahead: int, budget: int, now: int) -> None:
        if ticket.id == self.probe:
            self.oracle_wait = oracle_median(self, ticket, now, 3, 0)
            roll = _copy(self, ticket, now, random.Random(0))
            self.promoted_in_copy = roll.tickets[ticket.id].promote_ms == ticket.promote_ms

    def _score(self, ticket: Ticket, wait: float) -> None:
        self.waits[ticket.id] = wait


def _probe_day(classes: list[str], probe: str) -> _Probe:
    sc = _scenario()
    day = _Probe(sc, 0, RateTracker(), seed=1)
    day.probe, day.oracle_wait, day.promoted_in_copy, day.waits = probe, None, False, {}
    day._schedule()
    picks = iter(classes)
    day.classes["s"] = lambda: next(picks)
    for minute in range(1, len(classes) + 1):  # 08:01, 08:02, …
        day._push(day._ms(8 + minute / 60), ARRIVE, "s")
    day.run_from()
    return day


def test_continuation_promotes_like_the_simulator() -> None:
    # 08:01 a walk-in is called at once; three walk-ins wait; at 08:05 a booked person
    # checks in for 09:05, queues as a walk-in and is promoted at 08:55, ahead of the
    # walk-in who came at 08:04: called at 09:01 (56 min), not 09:21 (76 min).
    day = _probe_day(["walk_in"] * 4 + ["appointment"], "s-4")
    assert day.waits["s-4"] == 56 * 60
    assert day.waits["s-3"] == 77 * 60  # passed by the promotion
    assert day.oracle_wait == day.waits["s-4"]
    assert day.promoted_in_copy


def test_continuation_without_promotion_matches_too() -> None:
    day = _probe_day(["walk_in"] * 5, "s-4")
    assert day.waits["s-4"] == 76 * 60
    assert day.oracle_wait == day.waits["s-4"]


def test_pause_end_is_drawn_not_copied() -> None:
    sc = _scenario(pauses={"per_day": 0.0, "mean_min": 20.0})
    day = Day(sc, 0, RateTracker(), seed=1)
    desk = day.desks[0]
    start = day._ms(9)
    now = start + 15 * 60_000  # 15 min into a pause announced for 20, really 29
    desk.on_shift, desk.paused, desk.back_ms = True, True, start + 20 * 60_000
    day._push(start + 29 * 60_000, PAUSE_OFF, desk)
    day.queues["s"].insert("s-0", 0.0)
    target = Ticket("s-0", "s", 4, now, now, False, True)
    day.tickets["s-0"] = target
    ends = set()
    for rep in range(50):
        roll = _copy(day, target, now, random.Random(rep))
        ends.update(at for at, _, kind, _ in roll.heap if kind == PAUSE_OFF)
    assert len(ends) > 10  # the oracle does not know the real end …
    assert min(ends) >= now and max(ends) <= start + 30 * 60_000  # … only its law


def test_pause_end_given_its_age() -> None:
    rng = random.Random(3)
    mean = 20 * 60_000
    for elapsed in (0, 5 * 60_000, 15 * 60_000, 29 * 60_000, 30 * 60_000):
        for _ in range(200):
            end = _pause_end(rng, elapsed, 0, mean)
            assert max(elapsed, mean // 2) <= end <= 3 * mean // 2
