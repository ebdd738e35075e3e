"""The Switchboard wait estimate: a point (the median) and a P10–P90 range.

1. Capacity. Each counter that serves the service contributes ``share / mean call
   duration`` calls per second, with its own measured duration (counters differ) and, for a
   counter shared with other services, the share ``choose_head`` will give this one (all of
   it when the other services have no rival waiting; see ``_share``). The roster turns this
   into a step function ``c(t)``: counters closing for a break or a shift end, a paused
   doctor coming back at a known time; a counter that opens calls someone at once. A counter
   closed inside one of its shifts (its next planned change is the shift's end) is due: it
   counts as opening soon, with that uncertainty in the range (``DUE_S``), not as never;
   one already long late counts as opening that much later again (``due_delay``).
2. The mean path (``fluid.fluid_wait``): people ahead drain at ``c(t)`` and by abandonment;
   higher classes that will arrive (at the rate the time-of-day profile expects for each
   half hour) overtake the ticket, but only as often as its aging budget lets them. This
   gives the expected number of calls ``K`` until the ticket's own call. Pending
   promotions of early check-ins count (``model_range``): the ticket's own (the fewer calls
   of its walk-in path and its path as the promoted ticket from ``promote_in_s``) and those
   of early check-ins behind it due before its call (more ahead, within its budget).
3. The spread. The time to the K-th call of s busy counters is gamma: Erlang(K) for
   exponential service. Its variance in units of calls is ``K * v`` where ``v`` runs from 1
   (few calls across many counters: the superposed completions look Poisson) to the measured
   squared CV of call durations (many calls per counter), plus the Poisson variance of the
   overtakers and leavers. Gamma quantiles of calls are mapped to time through ``c(t)``.
4. Calibration (``calibrate.Calibrator``): recent realised waits of the service correct the
   median and the range, so P10–P90 covers what the data shows, not what the model hopes.

The point is the median, not the mean: it minimises the absolute error a person feels, and
the range says how much longer it may be.
"""

from __future__ import annotations

from dataclasses import replace

from queueing.estimate.fluid import (
    INF,
    Path,
    Segment,
    capped_poisson_mean,
    fluid_wait,
    merge,
    time_for_calls,
)
from queueing.estimate.gamma import gamma_ppf
from queueing.estimate.rates import RateTracker, ServiceRates
from queueing.estimate.types import ZERO, CounterView, Estimate, RosterChange, TicketView
from queueing.policy import aging_budget

HORIZON_S = 12 * 3600.0  # beyond this an estimate is "later today", not a number
OVERDUE_S = 300.0  # a pause past its announced end: assume the counter is back this soon
# A counter closed inside a planned shift (clerks a few minutes late pressing Open, a pause
# with no announced end): when it opens, from now, for the P10, the median and the P90 of
# the wait. The median is the overdue pause's; the spread is a documented guess, 1-15 min.
DUE_S = (60.0, OVERDUE_S, 900.0)
# An open counter with nobody called while people wait: a clerk calls the next within
# seconds of finishing; free past this, nobody is at it (``stalled_since``).
IDLE_GRACE_S = 90.0
PROFILE_HORIZON_S = 3 * 3600.0  # overtaker rates by time of day this far ahead, then flat


def capacity(view: TicketView, rates: ServiceRates, q: int = 1
             ) -> list[tuple[float, float, float]]:
    """The service's calls over time: [(offset s, calls/s, calls at that instant), ...].

    The first step is at 0. A counter that opens calls somebody at once: the step where it
    opens carries that call (its share of one) besides the higher rate. A due counter
    (``due_counters``) opens after ``due_delay(…, q)``: q 0, 1, 2 for the P10, the median
    and the P90.
    """
    return _capacity(view, rates, q)[0]


def due_delay(view: TicketView, counter: CounterView, q: int = 1) -> float:
    """When a due counter opens, from now (s), at the P10, median or P90 (q 0, 1, 2).

    ``DUE_S`` for a counter just late; one already later than ``DUE_S[1]`` (closed on
    shift since ``closed_since_ms``) has ``DUE_S`` scaled by how late it is: a counter
    40 minutes late is not expected within 5, and one on the roster that nobody staffs
    today drifts out of the estimate instead of "opening in 5 minutes" all day. (Lateness
    with a long tail: the longer it has lasted, the longer it is likely to last.)
    """
    late = 0.0
    since = counter.closed_since_ms if counter.closed_since_ms is not None else stalled_since(
        view, counter)
    if since is not None:
        late = max(0.0, (view.now_ms - since) / 1000.0)
    return DUE_S[q] * max(1.0, late / DUE_S[1])


def stalled_since(view: TicketView, counter: CounterView) -> int | None:
    """When an open counter with no ticket began leaving the ticket's queue waiting (epoch
    ms), if that is longer ago than ``IDLE_GRACE_S``: nobody is at it (a clerk gone without
    pausing). It counts as a late counter, due to call after ``due_delay``, not as calling
    at once: "you are next, any minute now" stayed on a page for as long as nobody came.
    None: busy, closed, not known since when, or within the grace."""
    if not counter.open or counter.busy or counter.idle_since_ms is None or view.queue_len <= 0:
        return None
    since = max(counter.idle_since_ms, view.head_since_ms or 0)
    return since if view.now_ms - since > IDLE_GRACE_S * 1000.0 else None


def _capacity(view: TicketView, rates: ServiceRates,
              q: int) -> tuple[list[tuple[float, float, float]], bool]:
    """``capacity``, and whether a due counter is in it."""
    per_counter: dict[str, float] = {}
    shares: dict[str, float] = {}
    is_open: dict[str, bool] = {}
    delays: dict[str, float] = {}
    stalled = {c.id for c in view.counters if stalled_since(view, c) is not None}
    for c in view.counters:
        mean = rates.counter_service_s.get(c.id, rates.mean_service_s)
        share = _share(c, view)
        if share < 1.0:
            # Its other calls last as long as they do there, not as long as ours.
            other = rates.counter_any_s.get(c.id, mean)
            mean = share * mean + (1.0 - share) * other
        per_counter[c.id] = share / mean if mean > 0.0 else 0.0
        shares[c.id] = share
        is_open[c.id] = c.open and c.id not in stalled
        if not is_open[c.id]:
            delays[c.id] = due_delay(view, c, q)
    rate = sum(r for cid, r in per_counter.items() if is_open[cid])
    segments = [(0.0, rate, 0.0)]
    steps = _roster_steps(view, per_counter)
    due_ids = _due(steps, is_open, delays)
    # A stalled counter off any roster (no shifts) is due too; one on the roster is due
    # while inside its shift, as a late one (``_due``).
    on_roster = {change.counter for _, change in steps}
    due_ids += [cid for cid in sorted(stalled) if cid not in due_ids and cid not in on_roster]
    due = [(delays[cid], RosterChange(view.now_ms + round(delays[cid] * 1000), cid, True))
           for cid in due_ids]
    if due:
        steps = sorted(steps + due, key=lambda step: step[0])
    for at, change in steps:
        cid = change.counter
        if is_open[cid] == change.open:
            continue
        is_open[cid] = change.open
        rate = max(rate + (per_counter[cid] if change.open else -per_counter[cid]), 0.0)
        jump = shares[cid] if change.open else 0.0
        last = segments[-1]
        if at == last[0]:
            segments[-1] = (at, rate, last[2] + jump)
        else:
            segments.append((at, rate, jump))
    return _until_close(view, segments), bool(due)


def _until_close(view: TicketView, segments: list[tuple[float, float, float]]
                 ) -> list[tuple[float, float, float]]:
    """``segments`` with no call at or after the site's day close (``close_at_ms``): every
    counter stops serving today's tickets then, whatever its shifts. (A ticket taken at
    16:45 with 30 people ahead and the day closing at 17:00 was told "about 40 min" by
    counters on no roster, and cancelled at 17:00.)"""
    end = _close_s(view)
    if end is None:
        return segments
    kept = [s for s in segments if s[0] < end]
    return [*kept, (end, 0.0, 0.0)] if kept else [(0.0, 0.0, 0.0)]


def _close_s(view: TicketView) -> float | None:
    """Seconds from now to the day close, if the site has one."""
    if view.close_at_ms is None:
        return None
    return max(0.0, (view.close_at_ms - view.now_ms) / 1000.0)


def _share(c: CounterView, view: TicketView) -> float:
    """The part of a shared counter's calls this service can count on.

    ``choose_head`` gives a free counter to the service whose head has waited longest
    (times the counter's weight for it), so the counter's time is split the way that keeps
    weighted head waits level, which in a fluid balance is in proportion to weight × tickets
    waiting. Measured on the government scenario, this beat the share of the counter's
    recent calls (MAE 211 s against 237 s) and counting the counter whole (224 s).
    """
    rivals = sum(c.others_waiting[: view.rank + 1])
    if rivals <= 0.0:
        return 1.0
    mine = c.weight * max(view.queue_len, 1)
    return mine / (mine + rivals)


def _roster_steps(view: TicketView,
                  known: dict[str, float]) -> list[tuple[float, RosterChange]]:
    """Roster changes of the service's counters as (offset s, change), in time order."""
    steps = []
    for change in view.roster:
        if change.counter not in known:
            continue
        at = (change.at_ms - view.now_ms) / 1000.0
        if at <= 0.0:
            if not change.open:
                continue  # a closing already past is the current state
            at = OVERDUE_S  # a return announced for earlier: the counter is overdue
        steps.append((at, change))
    steps.sort(key=lambda step: step[0])
    return steps


def _due(steps: list[tuple[float, RosterChange]], is_open: dict[str, bool],
         before_s: dict[str, float] | None = None) -> list[str]:
    """Closed counters whose next planned change is a close, later than ``before_s[id]``.

    The roster holds planned changes only, so a counter whose next one is its shift's end
    is inside that shift now: if it is closed, it is late opening (or paused with no
    announced return). Counting it only from its next shift start said "5 hours" at 08:33
    for a 08:30 shift; like an overdue pause, it counts as soon. One whose shift ends
    before it would open (``before_s``, from now) does not count.
    """
    seen: set[str] = set()
    out = []
    for at, change in steps:
        cid = change.counter
        if cid in seen:
            continue
        seen.add(cid)
        if not change.open and not is_open[cid] and at > (before_s or {}).get(cid, 0.0):
            out.append(cid)
    return out


def due_counters(view: TicketView) -> list[str]:
    """The service's counters closed inside one of their planned shifts (see ``_due``)."""
    known = {c.id: 0.0 for c in view.counters}
    return _due(_roster_steps(view, known), {c.id: c.open for c in view.counters})


def overtake_rates(view: TicketView, rates: ServiceRates) -> tuple[float, float]:
    """Arrivals/s of higher classes: (budget-bound ones, preempting ones)."""
    bound = preempt = 0.0
    for rank, lam in rates.arrivals_per_s.items():
        if rank < view.rank:
            if rank in view.preempt_ranks:
                preempt += lam
            else:
                bound += lam
    return bound, preempt


def overtake_steps(view: TicketView, rates: ServiceRates) -> list[tuple[float, float, float]]:
    """Overtaker rates over time: [(offset s, budget-bound/s, preempting/s), ...].

    The recent window alone on the first day; then the time-of-day profile scaled by
    today's level, blended with the window by how many days the profile has seen.
    """
    flat_bound, flat_pre = overtake_rates(view, rates)
    prof = rates.profile
    if prof is None:
        return [(0.0, flat_bound, flat_pre)]
    bound, pre = prof.rates_above(view.rank, view.preempt_ranks)
    w = rates.profile_weight
    wl = w * rates.level
    _, slot = prof.slot(view.now_ms)
    start = 0.0
    step = (prof.slot_ms - (view.now_ms + prof.offset_ms) % prof.slot_ms) / 1000.0
    out = []
    while start < PROFILE_HORIZON_S:
        out.append((start, wl * bound[slot] + (1.0 - w) * flat_bound,
                    wl * pre[slot] + (1.0 - w) * flat_pre))
        start += step
        step = prof.slot_ms / 1000.0
        slot = (slot + 1) % prof.slots
    return out


def remaining_budget(view: TicketView) -> int:
    if view.budget is not None:
        return max(view.budget, 0)
    return aging_budget(view.ahead, view.aging_factor)


def model_range(view: TicketView, rates: ServiceRates) -> tuple[float, float, float] | None:
    """Uncalibrated (P10, median, P90) in seconds, or None if no capacity is coming.

    With a due counter the P10 and P90 also take the early and late ends of when it opens
    (``DUE_S``): the range widens by what nobody knows yet, the median does not move.
    Pending promotions count (``TicketView``): early check-ins behind the ticket due before
    its call overtake it, within its budget; and a ticket whose own promotion is pending is
    called by the earlier of its walk-in path and its path as the promoted ticket.
    """
    overtakers = overtake_steps(view, rates)
    steps, due = _capacity(view, rates, 1)
    segments = merge(steps, overtakers)
    budget = float(remaining_budget(view))
    path = _path(segments, view.ahead, budget, rates.abandon_hazard)
    if path is not None and view.promotions:
        # Each passes the ticket when its promotion is due, as a higher class arriving then
        # would, and spends one unit of its budget. In the fluid what matters is how many
        # come before the call, not exactly when: count them as ahead from now.
        n = min(float(sum(1 for p in view.promotions if p < path.wait_s)), budget)
        if n > 0.0:
            path = _path(segments, view.ahead + n, budget - n, rates.abandon_hazard) or path
    if view.promote_in_s is not None and (path is None or path.wait_s > view.promote_in_s):
        promoted = _promoted(view, rates, steps)
        if promoted is not None and (path is None or promoted[0].calls < path.calls):
            path, overtakers = promoted[0], promoted[1]
            segments = merge(steps, overtakers)
    if path is None:
        return None
    shape, scale = _gamma_params(path, rates.cv2, _open_count(view))
    by_q = {0.5: segments}
    if due:
        by_q[0.1] = merge(capacity(view, rates, 0), overtakers)
        by_q[0.9] = merge(capacity(view, rates, 2), overtakers)
    # A quantile past the day close is the close (the median is before it): "called by
    # closing time", not "up to 720 min".
    later = _close_s(view)
    out = []
    for q in (0.1, 0.5, 0.9):
        t = time_for_calls(by_q.get(q, segments), scale * gamma_ppf(q, shape))
        out.append((HORIZON_S if later is None else later) if t is None else min(t, HORIZON_S))
    return out[0], out[1], out[2]


def _path(segments: list[Segment], ahead: float, budget: float, hazard: float) -> Path | None:
    """The fluid path; with overtakers near the budget, the budget the Poisson law implies."""
    path = fluid_wait(segments, ahead, budget, hazard, HORIZON_S)
    if path is not None and path.exposure > 0.0:
        # Overtakers are random: with the mean near the budget, fewer get through than the
        # fluid's min(budget, mean). Walk again with the budget the Poisson law implies.
        cap = capped_poisson_mean(path.exposure, budget)
        if cap < path.overtakers - 1e-6:
            path = fluid_wait(segments, ahead, cap, hazard, HORIZON_S) or path
    return path


def _promoted(view: TicketView, rates: ServiceRates, steps: list[tuple[float, float, float]]
              ) -> tuple[Path, list[tuple[float, float, float]]] | None:
    """The path of a ticket whose promotion is pending, as the promoted ticket.

    Those of ``promote_ahead`` (ahead now, not passed by the promotion) drain from now,
    with the promoted class's overtakers and budget. Drained before ``promote_in_s``, it is
    the next call after that moment. Also its overtaker steps, for the quantiles."""
    assert view.promote_in_s is not None
    pv = replace(view, rank=view.promote_rank, ahead=view.promote_ahead, budget=None,
                 promote_in_s=None, promotions=())
    overtakers = overtake_steps(pv, rates)
    segments = merge(steps, overtakers)
    path = _path(segments, pv.ahead, float(remaining_budget(pv)), rates.abandon_hazard)
    if path is None:
        return None
    if path.wait_s < view.promote_in_s:
        calls = calls_by(segments, view.promote_in_s)
        if calls is None:
            return None
        path = Path(view.promote_in_s, calls + 1.0, 0.0, 0.0)
    return path, overtakers


def calls_by(segments: list[Segment], t: float) -> float | None:
    """Calls the service makes from now until ``t`` s from now (Λ(t)); None past the walk."""
    done = 0.0
    for i, (start, rate, jump, _, _) in enumerate(segments):
        if start > t:
            return done
        done += jump
        end = segments[i + 1][0] if i + 1 < len(segments) else INF
        done += rate * (min(end, t) - start)
    return done if segments else None


def _open_count(view: TicketView) -> int:
    return max(1, sum(1 for c in view.counters if c.open))


def _gamma_params(path: Path, cv2: float, servers: int) -> tuple[float, float]:
    """Shape and scale (in calls) of the gamma for the time to the ticket's call."""
    k = max(path.calls, 1e-6)
    # Departures of s counters look Poisson over a few calls, renewal-like over many. (A
    # shift for the calls in progress, whose remaining part averages (1 + cv2) / 2 of a
    # call, was tried and measured no better: the calibration absorbs it; docs/estimates.md.)
    v = (servers + cv2 * k) / (servers + k)
    var = k * v + path.overtakers + path.abandoned
    return k * k / var, var / k


def estimate(view: TicketView, tracker: RateTracker) -> Estimate | None:
    """The calibrated estimate for one waiting ticket; None if no counter is known to come.

    Cheap enough to call for every tracked ticket on every queue change: the rates are
    cached per service in the tracker and gamma quantiles are cached by shape.
    """
    if view.ahead <= 0 and any(c.open and not c.busy and stalled_since(view, c) is None
                               for c in view.counters):
        return ZERO  # an idle counter calls it now
    rates = tracker.rates(view.service, view.now_ms)
    raw = model_range(view, rates)
    if raw is None:
        return None
    return tracker.calibrate(view.service, view.rank, *raw)
