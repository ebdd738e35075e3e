"""What the estimator reads and what it returns.

A ``TicketView`` is built by the hub from state it already holds for a queue topic: the
ticket's place in its service's order, the counters that serve the service, and the roster.
It is immutable and holds no rates: measured rates live in a ``RateTracker`` the server keeps
per site, so one tracker serves every ticket's estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CounterView:
    """A counter that serves the ticket's service, as it is now.

    ``others_waiting[r]`` counts the tickets of class rank ``r`` waiting in the counter's
    *other* services, each times the counter's weight for its service. A ticket competes
    for the counter only with those of its own class or above (``choose_head`` takes the
    best class first); with none of them the counter's next calls all go to its service.
    """

    id: str
    open: bool = True  # open and not paused; a closed counter matters only through the roster
    busy: bool = True  # serving or calling someone now (an open idle counter calls at once)
    weight: float = 1.0  # the counter's weight for this service (see policy.choose_head)
    others_waiting: tuple[float, ...] = ()
    # A closed counter inside its shift: since when it has been closed on shift (the later
    # of its shift's start and its closing), epoch ms; None when not known.
    closed_since_ms: int | None = None
    # An open counter with no ticket: since when (epoch ms; None: not known). Free longer
    # than ``predictor.IDLE_GRACE_S`` while the ticket's queue has someone to call, nobody
    # is at it: it counts as due to call, as a late counter (``predictor.stalled``).
    idle_since_ms: int | None = None


@dataclass(frozen=True, slots=True)
class RosterChange:
    """A known future change: a counter opens (shift start, end of a pause) or closes."""

    at_ms: int
    counter: str
    open: bool


@dataclass(frozen=True, slots=True)
class TicketView:
    """One waiting ticket and the part of the live state its wait depends on.

    ``ahead`` is the number of tickets before it in its service's priority order. ``budget``
    is its remaining aging budget (``policy.Entry.budget``): how many more later tickets may
    still overtake it. ``None`` means "as when it joined", ``aging_budget(ahead, factor)``.
    ``head_since_ms`` is when the ticket at the head of the queue was issued (for the HOL
    baselines); ``queue_len`` counts every ticket waiting in the service.

    Pending promotions (an early check-in waits as a walk-in until ``policy.promote_at``,
    then takes its appointment's place, ``policy.plan_promotion``): ``promote_in_s`` is
    when this ticket's own promotion is due, from now (None: none pending); it then ranks
    ``promote_rank`` with ``promote_ahead`` of those ahead of it now still ahead (keys at or
    before its new one). ``promotions`` holds, for each ticket behind this one whose
    promotion will place it before this one, when that is due (s from now). The defaults
    mean no pending promotion, the estimate as before.
    """

    now_ms: int
    service: str
    rank: int  # priority class rank, 0 is the highest
    ahead: int
    counters: tuple[CounterView, ...]
    roster: tuple[RosterChange, ...] = ()
    budget: int | None = None
    queue_len: int = 0
    head_since_ms: int | None = None
    aging_factor: float = 2.0
    preempt_ranks: frozenset[int] = field(default_factory=lambda: frozenset({0}))
    promote_in_s: float | None = None
    promote_rank: int = 0
    promote_ahead: int = 0
    promotions: tuple[float, ...] = ()
    # The site's next day close (epoch ms; None: none): nothing is called after it, the
    # tickets still open are closed then. A wait that would end later has no estimate.
    close_at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Estimate:
    """A wait estimate in seconds: the point (a median) and the P10–P90 range.

    ``model`` keeps the uncalibrated (median, log-spread) the calibration learns from; the
    server stores the estimate announced at issue and hands it back with the realised wait.
    """

    wait_s: float
    low_s: float
    high_s: float
    model: tuple[float, float] = (0.0, 0.0)


ZERO = Estimate(0.0, 0.0, 0.0)
