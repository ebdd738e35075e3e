"""The predictors Switchboard's estimate is measured against (Ibrahim & Whitt's set).

* ``ql``: queue length, ``(n+1) / (s * mu)`` with ``s`` counters open for the service and
  ``mu`` the per-counter completion rate (1 / mean recent call duration).
* ``les``: the realised wait of the last ticket to be called (same class if one was called
  within the window, else any class of the service).
* ``hol``: the elapsed wait of the ticket at the head of the line.
* ``hol_refined``: the head's wait rescaled to the new ticket's place, ``(n+1) / lam`` with
  the arrival rate estimated from the line itself, ``lam = q / w_head`` (the ``q`` other
  tickets waiting arrived during the head's wait ``w_head``).
* ``rolling``: the mean realised wait of the service's tickets called in the last 30
  minutes (what most queue products display).

When a predictor has nothing to go on (no history early in the day, an empty line for HOL)
it falls back to ``ql``; the simulator records that as the baseline's estimate, which can
only flatter the baselines. With no counter open, ``ql`` counts every counter that serves the
service. A ticket an idle counter calls at once gets 0 from every predictor.
"""

from __future__ import annotations

from queueing.estimate.rates import RateTracker
from queueing.estimate.types import TicketView


def ql(view: TicketView, tracker: RateTracker) -> float:
    rates = tracker.rates(view.service, view.now_ms)
    servers = sum(1 for c in view.counters if c.open) or len(view.counters) or 1
    return (view.ahead + 1) * rates.mean_service_s / servers


def les(view: TicketView, tracker: RateTracker) -> float:
    last = tracker.last_wait(view.service, view.rank, view.now_ms)
    return last if last is not None else ql(view, tracker)


def hol(view: TicketView, tracker: RateTracker) -> float:
    if view.head_since_ms is None or view.queue_len <= 0 or view.ahead <= 0:
        return ql(view, tracker)
    return max(0.0, (view.now_ms - view.head_since_ms) / 1000.0)


def hol_refined(view: TicketView, tracker: RateTracker) -> float:
    if view.head_since_ms is None or view.queue_len <= 0 or view.ahead <= 0:
        return ql(view, tracker)
    others = view.queue_len - 1  # the ticket itself is in the line
    if others <= 0:
        return ql(view, tracker)
    w_head = max(0.0, (view.now_ms - view.head_since_ms) / 1000.0)
    return (view.ahead + 1) * w_head / others


def rolling(view: TicketView, tracker: RateTracker) -> float:
    mean = tracker.mean_wait(view.service, view.now_ms)
    return mean if mean is not None else ql(view, tracker)


BASELINES = {"ql": ql, "les": les, "hol": hol, "hol_refined": hol_refined, "rolling": rolling}
