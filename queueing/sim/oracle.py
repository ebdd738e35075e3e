"""A floor for any predictor: the median of Monte Carlo continuations from the true state.

At a ticket's issue the oracle copies the whole simulated site — every queue in order, every
counter and how long its current call has run, the roster, paused counters — and plays the
rest of the day forward many times with fresh randomness for what nobody can know yet:
future arrivals, the remaining part of calls in progress (drawn given how long they have
lasted), when a paused counter is really back (given how long it has been away), future
call lengths, who will not show up, who will give up. What the site already knows is kept:
the shifts to come, and the pending promotions of early check-ins (each takes its
appointment's place when due, as in the simulator). The median wait over
the continuations in which the ticket is called is the best point estimate for absolute
error that the true model and the full state allow, so its MAE bounds what any estimator,
Switchboard's included, can reach on the same tickets. Far too slow for the hub (thousands of
events per estimate); it exists to tell a goal that is hard from one that is impossible.
"""

from __future__ import annotations

import contextlib
import math
import random

from queueing.estimate.gamma import normal_ppf
from queueing.estimate.rates import RateTracker
from queueing.policy import Entry, ServiceQueue
from queueing.sim.config import ServiceTime
from queueing.sim.draws import HOUR_MS, arrival_times, class_picker, duration_sampler
from queueing.sim.engine import (
    ABANDON,
    ARRIVE,
    FINISH,
    PAUSE_OFF,
    PAUSE_ON,
    PROMOTE,
    SHIFT_OFF,
    SHIFT_ON,
    Day,
    Desk,
    Ticket,
)


class _Called(Exception):
    """The target ticket was called: the continuation is over."""


class Rollout(Day):
    """A copy of a day from one instant on, with fresh randomness and no scoring."""

    target: str
    wait_s: float | None

    def _predict(self, ticket: Ticket, ahead: int, budget: int, now: int) -> None:
        pass

    def _score(self, ticket: Ticket, wait: float) -> None:
        if ticket.id == self.target:
            self.wait_s = wait
            raise _Called

    def _abandon(self, now: int, arg: object) -> None:
        if isinstance(arg, Ticket) and arg.id == self.target and arg.waiting:
            raise _Called  # gave up: the continuation does not count
        super()._abandon(now, arg)


def oracle_median(day: Day, target: Ticket, now: int, reps: int, seed: int) -> float | None:
    """Median wait of ``target`` over ``reps`` continuations of ``day`` from ``now``."""
    waits = []
    for rep in range(reps):
        roll = _copy(day, target, now, random.Random(f"oracle:{seed}:{target.id}:{now}:{rep}"))
        with contextlib.suppress(_Called):
            roll.run_from()
        if roll.wait_s is not None:
            waits.append(roll.wait_s)
    if not waits:
        return None
    waits.sort()
    mid = len(waits) // 2
    return waits[mid] if len(waits) % 2 else 0.5 * (waits[mid - 1] + waits[mid])


def _copy(day: Day, target: Ticket, now: int, rng: random.Random) -> Rollout:
    sc = day.sc
    roll = Rollout.__new__(Rollout)
    roll.sc, roll.rng, roll.day_ms, roll.scored_from = sc, rng, day.day_ms, 0
    roll.tracker = RateTracker()
    roll.target, roll.wait_s = target.id, None
    roll.roster, roll.roster_times = day.roster, day.roster_times
    roll.result = type(day.result)()
    roll.next_id = day.next_id
    roll.seq = 0
    roll.heap = []
    roll.durations = {s.id: duration_sampler(rng, s.service_time) for s in sc.services}
    roll.classes = {s.id: class_picker(rng, s.priority_mix) for s in sc.services}
    desks = {id(d): Desk(d.spec, d.on_shift, d.paused, d.back_ms, None, d.call_ms)
             for d in day.desks}
    roll.desks = list(desks.values())
    roll.by_service = {sid: [desks[id(d)] for d in ds] for sid, ds in day.by_service.items()}
    roll.tickets = {}
    roll.queues = {}
    for sid, queue in day.queues.items():
        copy = ServiceQueue(queue.factor, [Entry(e.id, e.key, e.budget) for e in queue.entries])
        roll.queues[sid] = copy
        for e in queue.entries:
            t = day.tickets[e.id]
            roll.tickets[e.id] = Ticket(t.id, t.service, t.rank, t.issued_ms, t.ref_ms,
                                        rng.random() < sc.no_show_rate, True,
                                        promote_ms=t.promote_ms, promote_key=t.promote_key)
    specs = {s.id: s for s in sc.services}
    for old in day.desks:
        if old.current is not None:
            c = old.current
            desks[id(old)].current = Ticket(c.id, c.service, c.rank, c.issued_ms, c.ref_ms,
                                            c.no_show, False, waiting=False)
    mean_ms = round(sc.pauses.mean_min * 60_000)
    for at_ms, _, kind, arg in sorted(day.heap):  # pushed again in the day's order
        if kind == PAUSE_OFF and isinstance(arg, Desk) and arg.back_ms is not None:
            end = _pause_end(rng, now, arg.back_ms - mean_ms, mean_ms)
            roll._push(end, PAUSE_OFF, desks[id(arg)])
        elif kind in (SHIFT_ON, SHIFT_OFF, PAUSE_OFF) and isinstance(arg, Desk):
            roll._push(at_ms, kind, desks[id(arg)])
        elif kind == PROMOTE and isinstance(arg, tuple):
            ticket, appointment_ms = arg  # as Day._arrive pushed it
            if isinstance(ticket, Ticket) and ticket.id in roll.tickets:  # still waiting
                roll._push(at_ms, PROMOTE, (roll.tickets[ticket.id], appointment_ms))
        elif kind == FINISH and isinstance(arg, Desk):
            desk = desks[id(arg)]
            busy = desk.current
            if busy is None:
                continue
            if busy.no_show:
                roll._push(at_ms, FINISH, desk)  # the recalls run their fixed course
            else:
                elapsed = (now - arg.call_ms) / 1000.0
                st = specs[busy.service].service_time
                rest = _remaining(rng, st, elapsed * arg.spec.speed)
                roll._push(now + max(1, round(rest / arg.spec.speed * 1000)), FINISH, desk)
    _future(roll, now)
    return roll


def _future(roll: Rollout, now: int) -> None:
    """Fresh arrivals, patience and pauses from ``now`` to the end of the day."""
    sc, rng = roll.sc, roll.rng
    now_h = (now - roll.day_ms) / HOUR_MS
    for svc in sc.services:
        if now_h < sc.close_h:
            for t in arrival_times(rng, svc, now_h, sc.close_h, roll.day_ms):
                if t > now:
                    roll._push(t, ARRIVE, svc.id)
    if sc.abandon_mean_s is not None:
        for ticket in roll.tickets.values():
            patience = rng.expovariate(1.0 / sc.abandon_mean_s)  # memoryless
            roll._push(now + round(patience * 1000), ABANDON, ticket)
    p = sc.pauses
    if p.per_day > 0 and now_h < sc.close_h:
        span = sc.close_h - sc.open_h
        hour = now_h + rng.expovariate(p.per_day) * span
        while hour < sc.close_h:
            roll._push(roll._ms(hour), PAUSE_ON, rng.uniform(0.5, 1.5))
            hour += rng.expovariate(p.per_day) * span


def _pause_end(rng: random.Random, now: int, start_ms: int, mean_ms: int) -> int:
    """When a pause that began at ``start_ms`` and is not over at ``now`` ends: its length is
    uniform on [0.5, 1.5] × ``mean_ms`` (Day._pause_on), given that it has lasted so far."""
    lo = max(0.5, (now - start_ms) / mean_ms) if mean_ms > 0 else 1.5
    return max(now, start_ms + round(rng.uniform(min(lo, 1.5), 1.5) * mean_ms))


def _remaining(rng: random.Random, st: ServiceTime, elapsed: float) -> float:
    """What is left of a call that has lasted ``elapsed`` seconds so far."""
    if st.dist == "exponential":
        return rng.expovariate(1.0 / st.mean_s)
    if st.dist == "lognormal":
        sigma2 = math.log1p(st.cv * st.cv)
        mu = math.log(st.mean_s) - sigma2 / 2.0
        sigma = math.sqrt(sigma2)
        lo = 0.5 * math.erfc(-(math.log(elapsed) - mu) / sigma / math.sqrt(2.0)) \
            if elapsed > 0 else 0.0
        u = lo + (1.0 - lo) * rng.random()
        u = min(max(u, 1e-12), 1.0 - 1e-12)
        return max(math.exp(mu + sigma * normal_ppf(u)) - elapsed, 0.0)
    longer = [x for x in st.samples_s if x > elapsed]
    return (rng.choice(longer) - elapsed) if longer else 1.0

