"""Live wait estimates: the hub's bridge to ``queueing.estimate``.

One ``RateTracker`` per site, fed by the site's events as the hub applies them and warmed
at first use with the last week of the site's day log (so a restarted hub does not start
from priors). Estimates are sent only when they change noticeably (``noticeable``): a
phone does not buzz for every recomputation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from queueing import keys
from queueing.dayclose import next_cutoff
from queueing.daylog import announced, record_for
from queueing.estimate import (
    CounterView,
    Estimate,
    RateTracker,
    RosterChange,
    TicketView,
    TrackerSettings,
    estimate,
    noticeable,
)
from queueing.numbering import local_day
from queueing.policy import Entry as QueueEntry
from queueing.policy import order_key, plan_insertion
from queueing.roster import roster_changes, shift_starts
from queueing.view import SiteView
from realtime import day_views
from realtime.hub.entry import Entry, id_lt

if TYPE_CHECKING:
    from queueing.engine import Engine

log = logging.getLogger("switchboard.estimates")
WARM_DAYS = 7


def to_wire(e: Estimate | None) -> dict[str, int] | None:
    if e is None:
        return None
    return {"wait_s": round(e.wait_s), "low_s": round(e.low_s), "high_s": round(e.high_s)}


class _Site:
    def __init__(self, tracker: RateTracker) -> None:
        self.tracker = tracker
        self.pending: list[Entry] | None = []  # live entries held back while warming up
        self.sent: dict[str, Estimate | None] = {}  # per ticket, the estimate last shown
        self.service_sent: dict[str, Estimate | None] = {}
        # Per-change caches: the waiting counts by service and class, and service estimates.
        self.load_at: str | None = None
        self.load: dict[str, list[float]] = {}
        self.service_cache: dict[str, tuple[Any, Estimate | None]] = {}
        self.tv: dict[str, TicketView] = {}  # per change: a service's view, but for ahead
        # per change: a service's pending promotions (pending_promotions)
        self.promos: dict[str, tuple[Promotion, ...]] = {}
        self.roster: tuple[RosterChange, ...] = ()
        self.starts: dict[str, int] = {}  # counters on shift: when their shift began
        self.roster_at: int | None = None
        self.roster_cfg: Any = None


class LiveEstimator:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sites: dict[str, _Site] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- feeding ----------------------------------------------------------------------

    def _site(self, feed: Any, live: bool = False) -> _Site:
        """The site's estimator state; created on first use, then warmed in the background
        with the day-log records older than the feed's position (strictly older when the
        first contact is a live entry, which is replayed after the warm-up)."""
        s = self.sites.get(feed.key)
        if s is None:
            tz = ZoneInfo(feed.view.config.timezone)
            offset = datetime.now(tz).utcoffset()
            settings = TrackerSettings(utc_offset_ms=int(offset.total_seconds() * 1000)
                                       if offset else 0)
            s = self.sites[feed.key] = _Site(RateTracker(settings))
            task = asyncio.get_running_loop().create_task(
                self._warm(feed, s, feed.offset, live))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return s

    def observe(self, feed: Any, entry: Entry) -> None:
        s = self._site(feed, live=True)
        if s.pending is not None:
            s.pending.append(entry)
        else:
            self._apply(s, feed.view, entry)

    def _apply(self, s: _Site, view: SiteView, e: Entry) -> None:
        d = e.data
        t = d.get("ticket")
        if not isinstance(t, dict):
            return
        rec = record_for(e.type, d, e.id, view.config.timezone)
        if rec is not None:
            feed_record(s.tracker, rec[1])
        if e.type in ("called", "cancelled", "completed") or (
                e.type == "no_show" and not d.get("returned")):
            s.sent.pop(t["id"], None)

    async def _warm(self, feed: Any, s: _Site, upto: str, strict: bool) -> None:
        """Feed the site's last ``WARM_DAYS`` days and today, oldest first, into a tracker
        of its own, then put it in place of the site's and apply the entries held back
        meanwhile: the same tracker as feeding the site's one record by record, but a day
        is decoded and fed in the day views' worker thread (``day_views.off_loop``), not on
        the event loop — 20,000 tickets a day are 60,000 records, ~0.3 s of feeding each
        day, and the loop serves every websocket of the process. Until then estimates come
        from the priors (``pending`` holds the live entries back either way)."""
        from realtime.stats import day_rows
        warm = RateTracker(s.tracker.settings)
        try:
            now = self.engine.clock()
            tz, base = feed.view.config.timezone, keys.prefix(feed.key) + "daylog:"
            for back in range(WARM_DAYS, -1, -1):
                rows = await day_rows(self.engine.store.redis,
                                      base + local_day(now - back * 86_400_000, tz))
                await day_views.off_loop(len(rows), day_views.decoded, feed_days, rows, warm,
                                         upto, strict)
        except Exception:
            log.exception("warming the rates of %s failed; starting from the days read",
                          feed.key)
        s.tracker = warm  # the thread is done with it: off_loop returned or raised
        pending, s.pending = s.pending or [], None
        for entry in pending:
            self._apply(s, feed.view, entry)

    # -- asking -----------------------------------------------------------------------

    def ticket(self, feed: Any, ticket_id: str) -> dict[str, int] | None:
        s = self._site(feed)
        view: SiteView = feed.view
        t = view.tickets.get(ticket_id)
        pos = view.position(ticket_id)
        if t is None or pos is None:
            return None
        new = self.compute(view, t["service"], int(t.get("rank") or 0), pos - 1,
                           self._load(feed, s), view.budgets.get(ticket_id), ticket_id)
        last = s.sent.get(ticket_id)
        if ticket_id in s.sent and not noticeable(last, new):
            return to_wire(last)
        s.sent[ticket_id] = new
        return to_wire(new)

    def wait_range(self, feed: Any, ticket_id: str,
                   position: int | None = None) -> tuple[float, float] | None:
        """``ticket_id``'s wait as ``ticket`` computes it for its page and the SMS desk's
        STATUS — (median, P90) in seconds — but fresh (not held at the last one shown), and
        nothing kept per ticket: for the worker's "almost your turn" (queueing/booking/
        consumer.py). ``position``: where the caller knows it stands (1 = next)."""
        s = self._site(feed)
        view: SiteView = feed.view
        t = view.tickets.get(ticket_id)
        pos = view.position(ticket_id) if position is None else position
        if t is None or pos is None:
            return None
        e = self.compute(view, t["service"], int(t.get("rank") or 0), pos - 1,
                         self._load(feed, s), view.budgets.get(ticket_id), ticket_id)
        return None if e is None else (e.wait_s, e.high_s)

    def service(self, feed: Any, service: str) -> dict[str, int] | None:
        """What a walk-in joining ``service`` now would be told."""
        s = self._site(feed)
        view: SiteView = feed.view
        rank = view.config.class_rank(view.config.policy.default_priority) or 0
        load = self._load(feed, s)
        key = (tuple(map(tuple, (load.get(x, ()) for x in self._related(view, service)))),
               tuple((st.get("state"), bool(st.get("ticket"))) for st in
                     (view.counters.get(c.id, {}) for c in view.config.counters
                      if service in c.services)),
               self.engine.clock() // 5000)
        hit = s.service_cache.get(service)
        if hit is not None and hit[0] == key:
            new = hit[1]
        else:
            new = self.compute(view, service, rank, view.waiting(service), load)
            s.service_cache[service] = (key, new)
        last = s.service_sent.get(service)
        if service in s.service_sent and not noticeable(last, new):
            return to_wire(last)
        s.service_sent[service] = new
        return to_wire(new)

    def announce(self, feed: Any, service: str, rank: int, ahead: int,
                 ticket_id: str | None = None) -> Estimate | None:
        """The estimate given at issue (stored on the ticket; scored when it is called).

        With ``ticket_id``, once the feed holds the ticket, its pending promotion counts."""
        self._site(feed)
        return self.compute(feed.view, service, rank, ahead, ticket_id=ticket_id)

    def compute(self, view: SiteView, service: str, rank: int, ahead: int,
                load: dict[str, list[float]] | None = None,
                budget: int | None = None, ticket_id: str | None = None) -> Estimate | None:
        s = self.sites.get(view.site)
        if s is None:
            return None
        now = self.engine.clock()
        if s.roster_at is None or now - s.roster_at > 60_000 or s.roster_cfg is not view.config:
            s.roster = roster_changes(view.config, now)  # recomputed each minute
            s.starts = shift_starts(view.config, now)
            s.roster_at, s.roster_cfg = now, view.config
        roster = tuple(r for r in s.roster if r.at_ms > now)
        if load is not None and load is s.load:
            # Within one change every ticket of a service sees the same counters and queue:
            # build that part once, then only rank, place and budget differ.
            base = s.tv.get(service)
            if base is None or base.now_ms // 1000 != now // 1000:
                base = s.tv[service] = ticket_view(view, service, rank, ahead, now, load,
                                                   roster, budget, s.starts)
            promos = s.promos.get(service)
            if promos is None:
                promos = s.promos[service] = pending_promotions(view, service)
            tv = dataclasses.replace(base, now_ms=now, rank=rank, ahead=ahead, budget=budget,
                                     **promotion_inputs(view, service, ticket_id, ahead, now,
                                                        promos))
        else:
            tv = ticket_view(view, service, rank, ahead, now,
                             load if load is not None else waiting_by_class(view), roster,
                             budget, s.starts, ticket_id)
        return estimate(tv, s.tracker)

    @staticmethod
    def _load(feed: Any, s: _Site) -> dict[str, list[float]]:
        if s.load_at != feed.offset:
            s.load = _LazyLoad(feed.view)
            s.load_at = feed.offset
            s.tv = {}
            s.promos = {}
        return s.load

    @staticmethod
    def _related(view: SiteView, service: str) -> list[str]:
        """The service and the other services its counters also serve."""
        out = [service]
        for c in view.config.counters:
            if service in c.services:
                out += [x for x in c.services if x not in out]
        return out


def feed_days(records: list[dict[str, Any]], tracker: RateTracker, upto: str,
              strict: bool) -> None:
    """The day-log ``records`` older than stream position ``upto`` (or at it, unless
    ``strict``) into ``tracker``, in order."""
    for r in records:
        o = r.get("o", "0-0")
        if id_lt(o, upto) or (not strict and o == upto):
            feed_record(tracker, r)


def feed_record(tracker: RateTracker, r: dict[str, Any]) -> None:
    """One day-log record into a rate tracker (the same facts the live events carry)."""
    k, svc, rank = r["k"], r["s"], int(r.get("r") or 0)
    if k == "i":
        tracker.observe_arrival(svc, rank, r["t"])
    elif k == "c":
        tracker.observe_call(svc, rank, r["i"], r["t"])
        if r.get("e"):
            tracker.observe_outcome(svc, rank, announced(r["e"]), (r["t"] - r["i"]) / 1000)
    elif k in ("d", "n", "l") and r.get("ctr") and r.get("a"):
        tracker.observe_service(svc, r["ctr"], r["a"], r["b"])
    elif k == "a":
        tracker.observe_cancel(svc, r["i"], r["t"])


class _LazyLoad(dict):  # type: ignore[type-arg]
    """``waiting_by_class`` computed per service when first asked, once per change."""

    def __init__(self, view: SiteView) -> None:
        super().__init__()
        self.view = view

    def get(self, sid: Any, default: Any = None) -> Any:
        v = dict.get(self, sid)
        if v is None:
            ids = self.view.queues.get(sid)
            if ids is None:
                return default
            n_ranks = len(self.view.config.priority_classes)
            counts = [0.0] * n_ranks
            for tid in ids:
                t = self.view.tickets.get(tid)
                if t is not None:
                    counts[min(int(t.get("rank") or 0), n_ranks - 1)] += 1
            self[sid] = v = counts
        return v


def waiting_by_class(view: SiteView) -> dict[str, list[float]]:
    """Waiting tickets per service and class rank."""
    n_ranks = len(view.config.priority_classes)
    out: dict[str, list[float]] = {}
    for sid, ids in view.queues.items():
        counts = [0.0] * n_ranks
        for tid in ids:
            t = view.tickets.get(tid)
            if t is not None:
                counts[min(int(t.get("rank") or 0), n_ranks - 1)] += 1
        out[sid] = counts
    return out


def ticket_view(view: SiteView, service: str, rank: int, ahead: int, now_ms: int,
                waiting_by: dict[str, list[float]], roster: tuple[RosterChange, ...] = (),
                budget: int | None = None,
                starts: dict[str, int] | None = None,
                ticket_id: str | None = None) -> TicketView:
    """What the estimator needs of the live state, for a ticket ``ahead`` places back.

    ``starts``: counters inside a shift and when it began (``roster.shift_starts``); a
    closed one among them has been late since the later of that and its closing.
    ``ticket_id``: the ticket itself, when it stands at ``ahead`` in the queue: pending
    promotions (its own, and those of early check-ins behind it) count
    (``promotion_inputs``).
    """
    cfg = view.config
    n_ranks = len(cfg.priority_classes)
    counters = []
    for c in cfg.counters:
        if service not in c.services:
            continue
        st = view.counters.get(c.id, {})
        others = [0.0] * n_ranks
        for sid in c.services:
            if sid != service:
                w = c.weights.get(sid, 1.0)
                for r, n in enumerate(waiting_by.get(sid, ())):
                    others[r] += n * w
        is_open = st.get("state") == "open"
        start = (starts or {}).get(c.id)
        late = None if is_open or start is None else max(start, int(st.get("since") or 0))
        busy = bool(st.get("ticket"))
        idle = st.get("free_since") if is_open and not busy else None
        counters.append(CounterView(c.id, open=is_open, busy=busy,
                                    weight=c.weights.get(service, 1.0),
                                    others_waiting=tuple(others), closed_since_ms=late,
                                    idle_since_ms=int(idle) if idle else None))
    queue = view.queues.get(service, [])
    head = view.tickets.get(queue[0]) if queue else None
    return TicketView(
        now_ms=now_ms, service=service, rank=rank, ahead=ahead, counters=tuple(counters),
        roster=tuple(r for r in roster if any(c.id == r.counter for c in counters)),
        budget=budget, queue_len=len(queue),
        head_since_ms=int(head["issued_ms"]) if head else None,
        aging_factor=cfg.policy.aging_factor,
        close_at_ms=(next_cutoff(cfg.policy.day_close, cfg.timezone, now_ms)
                     if cfg.policy.day_close else None),
        preempt_ranks=frozenset(i for i, p in enumerate(cfg.priority_classes) if p.preempt),
        **promotion_inputs(view, service, ticket_id, ahead, now_ms,
                           pending_promotions(view, service) if ticket_id else ()))


# (index in the queue, promote_at_ms, class rank and order key once promoted)
Promotion = tuple[int, int, int, float]


def pending_promotions(view: SiteView, service: str) -> tuple[Promotion, ...]:
    """The service's waiting early check-ins whose promotion is pending (``promote_at_ms``
    and ``promote_to`` on the ticket, until the worker promotes it), in queue order."""
    cfg = view.config
    out = []
    for i, tid in enumerate(view.queues.get(service, ())):
        t = view.tickets.get(tid)
        if not t or not t.get("promote_at_ms") or not t.get("appointment_ms"):
            continue
        rank = cfg.class_rank(str(t.get("promote_to") or ""))
        if rank is None:
            continue  # a class removed since: it stays a walk-in (promote.lua)
        out.append((i, int(float(t["promote_at_ms"])), rank,
                    order_key(rank, int(float(t["appointment_ms"])))))
    return tuple(out)


def promotion_inputs(view: SiteView, service: str, ticket_id: str | None, ahead: int,
                     now_ms: int, pending: tuple[Promotion, ...]) -> dict[str, Any]:
    """``TicketView``'s promotion fields for ``ticket_id`` standing at ``ahead``: its own
    pending promotion (when, to which class, how many of those ahead it will not pass) and
    when early check-ins behind it that will pass it are due. Empty: none, or the ticket is
    not (yet) where it is said to be."""
    queue = view.queues.get(service, [])
    if not pending or ticket_id is None or ahead >= len(queue) or queue[ahead] != ticket_id:
        return {}
    t = view.tickets.get(ticket_id) or {}
    own = float(t.get("key") or "inf")
    out: dict[str, Any] = {}
    behind = tuple(max(0.0, (at - now_ms) / 1000.0)
                   for i, at, _, key in pending if i > ahead and key < own)
    if behind:
        out["promotions"] = behind
    for i, at, rank, key in pending:
        if i == ahead:
            # Where the promotion will put it: past later keys only while their aging
            # budgets allow (policy.plan_promotion, as the script does), with today's
            # budgets. Counting every later key ahead as passed promised a place the
            # promotion then did not give (18 min said, 33 min after it).
            entries = [QueueEntry(x, float(view.tickets.get(x, {}).get("key") or "inf"),
                                  view.budgets.get(x, 0)) for x in queue[:ahead]]
            classes = view.config.priority_classes
            preempt = bool(rank < len(classes) and classes[rank].preempt)
            out["promote_in_s"] = max(0.0, (at - now_ms) / 1000.0)
            out["promote_rank"] = rank
            out["promote_ahead"] = plan_insertion(entries, key, preempt,
                                                  view.config.policy.aging_factor).index
    return out
