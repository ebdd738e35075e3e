"""One simulated day of a site, event by event, with the real ordering and estimator code.

Queues are ``policy.ServiceQueue`` objects, counters choose with ``policy.choose_head``, and
every ticket that has to wait gets each predictor's estimate at issue, made from the same
``TicketView`` and ``RateTracker`` the live hub would build. Clock: epoch-like milliseconds,
day ``d`` starting at ``d * 86_400_000``, so one tracker can run through many days.

Rules beyond policy.py (docs/estimates.md): arrivals only between open_h and close_h;
counters on shift at close_h stay until their queues are empty; a counter reaching a shift
end or a pause finishes its current call first; a no-show holds the counter for
``no_show_delay_s``; abandoning tickets leave the queue (a cancel).
"""

from __future__ import annotations

import heapq
import math
import random
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

from queueing.estimate import baselines
from queueing.estimate.predictor import estimate
from queueing.estimate.rates import RateTracker
from queueing.estimate.types import CounterView, Estimate, RosterChange, TicketView
from queueing.policy import (
    Head,
    ServiceQueue,
    choose_head,
    keeps_appointment,
    order_key,
    plan_insertion,
    promote_at,
)
from queueing.sim.config import CLASS_IDS, PREEMPT, CounterSpec, Scenario
from queueing.sim.draws import HOUR_MS, arrival_times, class_picker, duration_sampler
from queueing.sim.metrics import PREDICTORS, Score

DAY_MS = 24 * HOUR_MS
ARRIVE, FINISH, SHIFT_ON, SHIFT_OFF, PAUSE_ON, PAUSE_OFF, ABANDON, PROMOTE = range(8)
MAX_EVENTS_PER_DAY = 5_000_000  # a bound on run time for any scenario file


@dataclass(slots=True)
class Ticket:
    id: str
    service: str
    rank: int
    issued_ms: int
    ref_ms: int
    no_show: bool
    scored: bool
    waiting: bool = True
    announced: Estimate | None = None
    estimates: tuple[float, ...] | None = None
    oracle: float | None = None  # the Monte Carlo floor's median, for sampled tickets
    promote_ms: int | None = None  # an early check-in: when its promotion is due
    promote_key: float = 0.0  # … and its key from then (the appointment's place)


@dataclass(slots=True)
class Desk:
    spec: CounterSpec
    on_shift: bool = False
    paused: bool = False
    back_ms: int | None = None  # announced end of a pause
    current: Ticket | None = None
    call_ms: int = 0

    @property
    def open(self) -> bool:
        return self.on_shift and not self.paused


@dataclass(slots=True)
class DayResult:
    scores: dict[str, Score] = field(default_factory=lambda: {p: Score() for p in PREDICTORS})
    by_class: dict[str, Score] = field(default_factory=dict)  # switchboard, per class
    # On the tickets the oracle saw: every predictor and the oracle itself.
    oracle: dict[str, Score] = field(default_factory=dict)
    waits_s: list[float] = field(default_factory=list)  # every scored called ticket
    issued: int = 0
    called_at_once: int = 0
    no_shows: int = 0
    abandoned: int = 0
    unserved: int = 0
    unestimated: int = 0
    events: int = 0


class Day:
    """Simulates one day; ``run()`` returns its scores. The tracker is shared across days."""

    def __init__(self, sc: Scenario, index: int, tracker: RateTracker, seed: int,
                 oracle_every: int = 0, oracle_reps: int = 100) -> None:
        self.sc = sc
        self.seed = seed
        self.oracle_every = oracle_every
        self.oracle_reps = oracle_reps
        self.predicted = 0
        self.tracker = tracker
        self.rng = random.Random(f"switchboard-sim:{seed}:{index}")
        self.day_ms = index * DAY_MS
        self.queues = {s.id: ServiceQueue(sc.aging_factor) for s in sc.services}
        self.desks = [Desk(c) for c in sc.counters]
        self.by_service = {s.id: [d for d in self.desks if s.id in d.spec.services]
                           for s in sc.services}
        self.tickets: dict[str, Ticket] = {}
        self.next_id = 0
        self.durations = {s.id: duration_sampler(self.rng, s.service_time) for s in sc.services}
        self.classes = {s.id: class_picker(self.rng, s.priority_mix) for s in sc.services}
        self.heap: list[tuple[int, int, int, object]] = []
        self.seq = 0
        self.result = DayResult()
        self.scored_from = self._ms(sc.open_h + sc.warmup_h)
        self.roster: list[RosterChange] = []
        self.roster_times: list[int] = []

    def _ms(self, hour: float) -> int:
        return self.day_ms + round(hour * HOUR_MS)

    def _push(self, at_ms: int, kind: int, arg: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (at_ms, self.seq, kind, arg))

    # -- set-up ---------------------------------------------------------------------------

    def _schedule(self) -> None:
        sc = self.sc
        for svc in sc.services:
            for t in arrival_times(self.rng, svc, sc.open_h, sc.close_h, self.day_ms):
                self._push(t, ARRIVE, svc.id)
        changes: list[RosterChange] = []
        for desk in self.desks:
            for start, end in _merge(desk.spec.shifts):
                if start >= sc.close_h:
                    continue
                self._push(self._ms(start), SHIFT_ON, desk)
                if start > sc.open_h:
                    changes.append(RosterChange(self._ms(start), desk.spec.id, True))
                if end < sc.close_h:  # on shift at closing: stays to empty the queue
                    self._push(self._ms(end), SHIFT_OFF, desk)
                    changes.append(RosterChange(self._ms(end), desk.spec.id, False))
        changes.sort(key=lambda ch: ch.at_ms)
        self.roster = changes
        self.roster_times = [ch.at_ms for ch in changes]
        self._schedule_pauses()

    def _schedule_pauses(self) -> None:
        p = self.sc.pauses
        if p.per_day <= 0:
            return
        t = self.rng.expovariate(p.per_day)  # in days' worth of opening hours
        span = self.sc.close_h - self.sc.open_h
        while t < 1.0:
            factor = self.rng.uniform(0.5, 1.5)
            self._push(self._ms(self.sc.open_h + t * span), PAUSE_ON, factor)
            t += self.rng.expovariate(p.per_day)

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> DayResult:
        self._schedule()
        return self.run_from()

    def run_from(self) -> DayResult:
        """Process events until none are left (``run`` schedules the day first)."""
        handlers: dict[int, Callable[[int, object], None]] = {
            ARRIVE: self._arrive, FINISH: self._finish, SHIFT_ON: self._shift_on,
            SHIFT_OFF: self._shift_off, PAUSE_ON: self._pause_on, PAUSE_OFF: self._pause_off,
            ABANDON: self._abandon, PROMOTE: self._promote,
        }
        res = self.result
        while self.heap:
            at_ms, _, kind, arg = heapq.heappop(self.heap)
            handlers[kind](at_ms, arg)
            res.events += 1
            if res.events > MAX_EVENTS_PER_DAY:
                raise RuntimeError("day exceeded the event bound; check the scenario")
        res.unserved = sum(len(q) for q in self.queues.values())
        return res

    def _arrive(self, now: int, arg: object) -> None:
        service = str(arg)
        sc = self.sc
        cls = self.classes[service]()
        rank = CLASS_IDS.index(cls)
        ref = now
        promote: int | None = None  # the appointment time of an early check-in
        if cls == "appointment":  # ordered by the booked time, not by arrival …
            early = self.rng.gauss(sc.appointment_early_min, sc.appointment_sd_min)
            ref = now + round(early * 60_000)
            if not keeps_appointment(ref, now, sc.appointment_early_s):
                # … unless checked in early: a walk-in from arrival, as at the server, until
                # its appointment's place is due (the worker's promotion)
                promote, cls, ref = ref, "walk_in", now
                rank = CLASS_IDS.index(cls)
        tid = f"{service}-{self.next_id}"
        self.next_id += 1
        ticket = Ticket(tid, service, rank, now, ref, self.rng.random() < sc.no_show_rate,
                        now >= self.scored_from)
        self.tickets[tid] = ticket
        res = self.result
        res.issued += ticket.scored
        queue = self.queues[service]
        ins = queue.insert(tid, order_key(rank, ref), rank in PREEMPT)
        if promote is not None:
            appointment = CLASS_IDS.index("appointment")
            ticket.promote_ms = promote_at(promote, sc.appointment_early_s)
            ticket.promote_key = order_key(appointment, promote)
            self._push(promote_at(promote, sc.appointment_early_s), PROMOTE, (ticket, promote))
        self.tracker.observe_arrival(service, rank, now)
        idle = next((d for d in self.by_service[service] if d.open and d.current is None), None)
        if idle is not None:
            res.called_at_once += ticket.scored
            self._call(idle, now)
            return
        self._predict(ticket, ins.index, ins.budget, now)
        if sc.abandon_mean_s is not None:
            patience = self.rng.expovariate(1.0 / sc.abandon_mean_s)
            self._push(now + round(patience * 1000), ABANDON, ticket)

    def _predict(self, ticket: Ticket, ahead: int, budget: int, now: int) -> None:
        view = self._view(ticket, ahead, budget, now)
        ticket.announced = estimate(view, self.tracker)
        if ticket.announced is None:
            self.result.unestimated += ticket.scored
            return
        tr = self.tracker
        ticket.estimates = (
            ticket.announced.wait_s,
            *(baselines.BASELINES[name](view, tr) for name in PREDICTORS[1:]),
        )
        self.predicted += 1
        if ticket.scored and self.oracle_every and self.predicted % self.oracle_every == 0:
            from queueing.sim.oracle import oracle_median  # the oracle imports this module

            ticket.oracle = oracle_median(self, ticket, now, self.oracle_reps, self.seed)

    def _view(self, ticket: Ticket, ahead: int, budget: int, now: int) -> TicketView:
        service = ticket.service
        counters = []
        roster = self.roster[bisect_right(self.roster_times, now):]
        for d in self.by_service[service]:
            others = [0.0] * len(CLASS_IDS)
            for s in d.spec.services:
                if s != service:
                    w = d.spec.weights.get(s, 1.0)
                    for e in self.queues[s].entries:
                        others[self.tickets[e.id].rank] += w
            counters.append(CounterView(d.spec.id, d.open, d.current is not None,
                                        d.spec.weights.get(service, 1.0), tuple(others)))
            if d.paused and d.on_shift and d.back_ms is not None:  # overdue ones too
                roster.append(RosterChange(d.back_ms, d.spec.id, True))
        queue = self.queues[service]
        head = self.tickets[queue.entries[0].id]
        promote_in: float | None = None
        promote_ahead = 0
        if ticket.promote_ms is not None:  # its own promotion is pending
            promote_in = max(0.0, (ticket.promote_ms - now) / 1000.0)
            # Where the promotion will put it with today's budgets (policy.plan_promotion).
            promote_ahead = plan_insertion(queue.entries[:ahead], ticket.promote_key,
                                           False, self.sc.aging_factor).index
        own = queue.entries[ahead].key if ahead < len(queue.entries) else math.inf
        promotions = []
        for e in queue.entries[ahead + 1:]:  # early check-ins behind it that will pass it
            t = self.tickets[e.id]
            if t.promote_ms is not None and t.promote_key < own:
                promotions.append(max(0.0, (t.promote_ms - now) / 1000.0))
        return TicketView(
            now_ms=now, service=service, rank=ticket.rank, ahead=ahead,
            counters=tuple(counters), roster=tuple(roster), budget=budget,
            queue_len=len(queue), head_since_ms=head.issued_ms,
            aging_factor=self.sc.aging_factor, preempt_ranks=PREEMPT,
            promote_in_s=promote_in, promote_rank=CLASS_IDS.index("appointment"),
            promote_ahead=promote_ahead, promotions=tuple(promotions),
        )

    def _call(self, desk: Desk, now: int) -> None:
        heads = []
        for service in desk.spec.services:
            queue = self.queues[service]
            if queue.entries:
                t = self.tickets[queue.entries[0].id]
                heads.append(Head(service, t.id, t.rank, t.ref_ms,
                                  desk.spec.weights.get(service, 1.0)))
        head = choose_head(heads, now)
        if head is None:
            return
        self.queues[head.service].pop()
        ticket = self.tickets[head.ticket]
        ticket.waiting = False
        wait = (now - ticket.issued_ms) / 1000.0
        tr = self.tracker
        tr.observe_call(ticket.service, ticket.rank, ticket.issued_ms, now)
        if ticket.announced is not None:
            tr.observe_outcome(ticket.service, ticket.rank, ticket.announced, wait)
        if ticket.scored:
            self._score(ticket, wait)
        desk.current = ticket
        desk.call_ms = now
        if ticket.no_show:
            self.result.no_shows += ticket.scored
            dur = self.sc.no_show_delay_s
        else:
            dur = self.durations[ticket.service]() / desk.spec.speed
        self._push(now + max(1, round(dur * 1000)), FINISH, desk)

    def _score(self, ticket: Ticket, wait: float) -> None:
        res = self.result
        res.waits_s.append(wait)
        if ticket.estimates is None or ticket.announced is None:
            return
        a = ticket.announced
        for name, value in zip(PREDICTORS, ticket.estimates, strict=True):
            if name == "switchboard":
                res.scores[name].add(value, wait, a.low_s, a.high_s)
            else:
                res.scores[name].add(value, wait)
        cls = CLASS_IDS[ticket.rank]
        res.by_class.setdefault(cls, Score()).add(a.wait_s, wait, a.low_s, a.high_s)
        if ticket.oracle is not None:
            res.oracle.setdefault("oracle", Score()).add(ticket.oracle, wait)
            for name, value in zip(PREDICTORS, ticket.estimates, strict=True):
                res.oracle.setdefault(name, Score()).add(value, wait)

    def _finish(self, now: int, arg: object) -> None:
        desk = arg if isinstance(arg, Desk) else None
        if desk is None or desk.current is None:
            return
        self.tracker.observe_service(desk.current.service, desk.spec.id, desk.call_ms, now)
        desk.current = None
        if desk.open:
            self._call(desk, now)

    def _shift_on(self, now: int, arg: object) -> None:
        if isinstance(arg, Desk):
            arg.on_shift = True
            if arg.open and arg.current is None:
                self._call(arg, now)

    def _shift_off(self, now: int, arg: object) -> None:
        if isinstance(arg, Desk):
            arg.on_shift = False

    def _pause_on(self, now: int, arg: object) -> None:
        candidates = [d for d in self.desks if d.open]
        if not candidates:
            return
        desk = self.rng.choice(candidates)
        mean_ms = round(self.sc.pauses.mean_min * 60_000)
        desk.paused = True
        desk.back_ms = now + mean_ms
        factor = arg if isinstance(arg, float) else 1.0
        self._push(now + round(factor * mean_ms), PAUSE_OFF, desk)

    def _pause_off(self, now: int, arg: object) -> None:
        if isinstance(arg, Desk):
            arg.paused = False
            arg.back_ms = None
            if arg.open and arg.current is None:
                self._call(arg, now)

    def _promote(self, now: int, arg: object) -> None:
        """An early check-in takes its appointment's place (policy.plan_promotion), if it is
        still waiting: as the server's worker does at that moment."""
        ticket, appointment_ms = cast("tuple[Ticket, int]", arg)  # as _arrive pushed it
        if not ticket.waiting:
            return
        ticket.promote_ms = None
        rank = CLASS_IDS.index("appointment")
        if self.queues[ticket.service].promote(ticket.id, order_key(rank, appointment_ms),
                                               rank in PREEMPT) is not None:
            ticket.rank, ticket.ref_ms = rank, appointment_ms

    def _abandon(self, now: int, arg: object) -> None:
        if isinstance(arg, Ticket) and arg.waiting:
            arg.waiting = False
            self.queues[arg.service].remove(arg.id)
            self.tracker.observe_cancel(arg.service, arg.issued_ms, now)
            self.result.abandoned += arg.scored


def _merge(shifts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching shifts of one counter become one."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(shifts):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
