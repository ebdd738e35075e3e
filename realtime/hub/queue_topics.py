"""Queue topics: ``board:{site}``, ``ticket:{id}``, ``counter:{site}:{c}``, ``service:{site}:{s}``.

Messages are built from the site's live view (``queueing.view.SiteView``) and its events.
Board data never carries a customer reference: only ticket numbers (see ``mask_name`` for
the one place a name may appear, masked).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from queueing.keys import site_of_ticket
from queueing.model import SiteConfig, announcement, display_name
from queueing.tickets import iso
from queueing.view import SiteView
from realtime.auth import Principal
from realtime.hub.entry import Entry
from realtime.hub.topics import Message, Ref, register
from realtime.protocol import ProtocolError

CALL_TYPES = ("called", "recalled")
COUNTER_TYPES = ("counter_open", "counter_paused", "counter_closed")
# Stream event type → the type a ticket's holder sees.
TICKET_TYPES = {"issued": "issued", "called": "called", "recalled": "recalled",
                "started": "serving", "completed": "done", "no_show": "no_show",
                "parked": "parked", "unparked": "waiting", "transferred": "transferred",
                "cancelled": "cancelled", "undone": "undone", "promoted": "promoted"}


def mask_name(name: str) -> str:
    """张三明 → 张*明; John Smith → J*** S. (the most a board may show of a name)."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:
        first, *rest = name.split()
        return f"{first[0]}{'*' * (len(first) - 1)} " + " ".join(r[0] + "." for r in rest)
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _iso(ms: int | None) -> str | None:
    if not ms:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def _names(view: SiteView, name: Any, fallback: str) -> dict[str, str]:
    return {lang: display_name(name, lang, fallback) for lang in view.config.languages}


def _site_scope(p: Principal, site: str, *roles: str) -> None:
    p.require(*roles, site=site)


def public_site(site: str, cfg: SiteConfig) -> dict[str, Any]:
    """What any screen of the site may know: names, languages, services, counters, and the
    words its pages use (``vocabulary``: clients/web/js/vocabulary.js).

    Pages carry it in their boot block (realtime/pages.py); the queue topics send it again,
    as a ``site`` message, when the site is changed, so a page left open follows it — its
    words too, not only after a reload."""
    return {
        "id": site, "name": cfg.name, "languages": cfg.languages, "timezone": cfg.timezone,
        "vocabulary": cfg.vocabulary,
        "announce_ttl_s": cfg.policy.announce_ttl_s,
        "services": [{"id": s.id, "name": s.name, "prefix": s.prefix} for s in cfg.services],
        "counters": [{"id": c.id, "name": c.name, "services": c.services}
                     for c in cfg.counters],
        # Waiting rooms: a board set to one (``?area=``) shows and says only its counters'
        # calls. Filtered on the board: its display token sees the whole site anyway.
        "areas": [{"id": a.id, "name": a.name, "counters": a.counters} for a in cfg.areas],
    }


def _entry_site(feed: Any, entry: Entry) -> dict[str, Any]:
    """The public site document as a ``site_updated`` entry left it (replays show each
    change as it was; the last one replayed is the site as it is)."""
    return public_site(feed.key, msgspec.convert(entry.data["config"], SiteConfig))


def _gone(feed: Any, namespace: str, known: Iterable[str]) -> Iterator[str]:
    """Topics followed here of ``namespace`` (``counter``, ``service``) whose thing the
    site no longer has: told once that it went, rather than left silent for ever."""
    prefix = f"{namespace}:{feed.key}:"
    ids = set(known)
    for topic in list(feed.subs):
        if topic.startswith(prefix) and topic[len(prefix):] not in ids:
            yield topic


# -- board -----------------------------------------------------------------------------

class Board:
    name = "board"
    feed_kind = "site"
    replayable = True
    event_types: tuple[str, ...] = ("called", "recalled", "counter", "waiting", "day_closed",
                                    "site")

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        if len(parts) != 1:
            raise ProtocolError("unknown_topic", "board topics are board:{site}")
        return Ref(topic, self.name, parts, parts[0])

    def authorize(self, p: Principal, ref: Ref) -> None:
        _site_scope(p, ref.source, "display", "agent", "kiosk", "supervisor")

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        v: SiteView = feed.view
        cfg = v.config
        # What it was shown: the baseline of ``refresh`` (a first round sent the same again).
        waiting = feed.waiting_all()
        feed.remember(ref.topic, waiting)
        return {
            "site": v.site,
            "name": _names(v, cfg.name, v.site),
            "languages": cfg.languages,
            "announce_ttl_s": cfg.policy.announce_ttl_s,
            "counters": [self._counter(feed, c.id) for c in cfg.counters],
            "recent": self._recent(v),
            "services": [{"id": s.id, "name": _names(v, s.name, s.id), "prefix": s.prefix,
                          **waiting[s.id]} for s in cfg.services],
        }

    @staticmethod
    def _recent(v: SiteView) -> list[dict[str, Any]]:
        # With the call's text per language, as its `called` event had it: a board that
        # (re)connects shows the latest call in both languages, not its first alone.
        return [{"number": r["number"], "counter": r["counter"], "service": r["service"],
                 "at": _iso(r.get("ts")),
                 "announcement": {lang: announcement(v.config, lang, r["number"], r["counter"])
                                  for lang in v.config.languages}} for r in v.recent[:10]]

    def _counter(self, feed: Any, cid: str) -> dict[str, Any]:
        v: SiteView = feed.view
        c = v.config.counter(cid)
        st = v.counters.get(cid, {})
        t = v.tickets.get(st.get("ticket") or "")
        current = None
        if t is not None:
            # ``at``: the call; ``started``: when service began (null until then), so the
            # floor overview times "serving for" from the start, not from the call.
            current = {"number": t["number"], "service": t["service"], "status": t["status"],
                       "at": _iso(t.get("called_ms")), "started": _iso(t.get("started_ms"))}
        # ``since``: when it entered its state; ``free_since``: when an open one last let a
        # ticket go (or opened). The floor overview times its cards from these (it scanned
        # the day's audit trail once per counter on every load, and knew nothing of a
        # change before it opened); null: not known.
        return {"id": cid, "name": _names(v, c.name if c else None, cid),
                "state": st.get("state", "closed"), "current": current,
                "since": _iso(st.get("since")), "free_since": _iso(st.get("free_since"))}

    def _call(self, feed: Any, entry: Entry, now_ms: int | None) -> dict[str, Any]:
        v: SiteView = feed.view
        t = entry.data["ticket"]
        cid = entry.data["counter"]
        ctr = v.config.counter(cid)
        svc = v.config.service(t["service"])
        valid_ms = entry.ts + v.config.policy.announce_ttl_s * 1000
        out = {
            "number": t["number"], "counter": cid,
            "counter_name": _names(v, ctr.name if ctr else None, cid),
            "service": t["service"], "service_name": _names(v, svc.name if svc else None,
                                                            t["service"]),
            "announcement": {lang: announcement(v.config, lang, t["number"], cid)
                             for lang in v.config.languages},
            "recalls": t.get("recalls", 0), "at": _iso(entry.ts),
            "valid_until": _iso(valid_ms), "valid_until_ms": valid_ms,
        }
        if now_ms is not None:
            out["expired"] = now_ms > valid_ms
        return out

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        msg = self._live(feed, ref, entry, change)
        if msg is not None and "waiting" in msg.data:
            feed.remember(ref.topic, msg.data["waiting"])
        return msg

    def _live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        if entry.type in CALL_TYPES:
            data = self._call(feed, entry, None) | {"waiting": feed.waiting_all()}
            return Message(entry.type, data)
        if entry.type == "day_closed":  # the screen starts the next day clean
            v: SiteView = feed.view
            return Message("day_closed", {
                "before_ms": entry.data.get("before_ms"), "recent": self._recent(v),
                "counters": [self._counter(feed, c.id) for c in v.config.counters],
                "waiting": feed.waiting_all()})
        if entry.type == "site_updated":  # names, services, counters: the page redraws
            return Message("site", {
                "site": public_site(feed.key, feed.view.config),
                "counters": [self._counter(feed, c.id) for c in feed.view.config.counters],
                "waiting": feed.waiting_all()})
        if entry.type in COUNTER_TYPES or change.counters:
            cid = entry.data.get("counter") or next(iter(change.counters))
            data = {"counter": self._counter(feed, cid), "waiting": feed.waiting_all()}
            return Message("counter", data)
        if change.services or change.config or change.parked:
            # (a parked ticket brought back or cancelled changes its service's `parked`)
            return Message("waiting", {"waiting": feed.waiting_all()}, is_event=False)
        return None

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        if entry.type in CALL_TYPES:
            return Message(entry.type, self._call(feed, entry, now_ms))
        if entry.type in COUNTER_TYPES:
            # What happened then: the counter's new state (and its name, which a screen
            # shows); its current ticket and the waiting counts come with the state message
            # that ends every replay (``current``), as they are now.
            cid = entry.data["counter"]
            c = feed.view.config.counter(cid)
            return Message("counter", {"counter": {
                "id": cid, "name": _names(feed.view, c.name if c else None, cid),
                "state": entry.data["state"]}})
        if entry.type == "day_closed":  # calls replayed after it come back in
            return Message("day_closed", {"before_ms": entry.data.get("before_ms")})
        if entry.type == "site_updated":
            return Message("site", {"site": _entry_site(feed, entry)})
        return None

    def current(self, feed: Any, ref: Ref) -> Message | None:
        return Message("waiting", {"waiting": feed.waiting_all(),
                                   "counters": [self._counter(feed, c.id)
                                                for c in feed.view.config.counters]},
                       is_event=False)

    def refresh(self, feed: Any, ref: Ref) -> Message | None:
        """The waiting figures again with no event (``SiteFeed.refresh``), when time alone
        moved a service's estimate: a quiet floor's board and overview kept the estimates of
        the last event (3–50 min beside a fresh page's 1–59), and after a restart those of
        the estimator's first, unwarmed minute."""
        waiting = feed.waiting_all()
        if feed.settled(ref.topic, waiting):
            return None
        return Message("waiting", {"waiting": waiting}, is_event=False)

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        return (f"board:{feed.key}",)


# -- ticket ----------------------------------------------------------------------------

def _moved(data: dict[str, Any]) -> tuple[Any, ...]:
    """What a waiting ticket's ``position`` message is re-sent for when it changes."""
    return data["position"], data["estimate"], data["counters_open"]


class Ticket:
    name = "ticket"
    feed_kind = "site"
    replayable = True
    event_types: tuple[str, ...] = (*sorted(set(TICKET_TYPES.values())), "position", "site")

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        site = site_of_ticket(parts[0]) if len(parts) == 1 else ""
        if not site:
            raise ProtocolError("unknown_topic", "ticket topics are ticket:{ticket id}")
        return Ref(topic, self.name, parts, site)

    def authorize(self, p: Principal, ref: Ref) -> None:
        if p.role == "ticket":
            if p.ticket != ref.parts[0]:
                from queueing.errors import Forbidden
                raise Forbidden("this token is for another ticket")
            return
        _site_scope(p, ref.source, "agent")

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        tid = ref.parts[0]
        t = feed.view.tickets.get(tid)
        if t is None:
            t = await feed.fetch_ticket(tid)  # finished tickets are not in the live view
        data = self.view(feed, t)
        # The topic's first subscriber: what it was shown is the baseline of "unchanged",
        # so the next change elsewhere does not send it the same place again.
        feed.seed(ref.topic, _moved(data))
        return data

    def view(self, feed: Any, t: dict[str, Any]) -> dict[str, Any]:
        v: SiteView = feed.view
        pos = v.position(t["id"])
        out: dict[str, Any] = {
            "id": t["id"], "number": t["number"], "service": t["service"],
            "status": t["status"], "priority": t.get("priority"),
            "position": pos, "people_ahead": pos - 1 if pos else None,
            "estimate": feed.estimate(t["id"]) if pos else None,
            # Counters serving the ticket's service that are open now: 0 beside an estimate
            # means they are closed or paused but known to open (the roster), so the page
            # does not say "almost your turn" while nobody can call anyone.
            "counters_open": len(v.open_counters(t["service"])) if pos else None,
            "counter": t.get("counter") or None, "called_at": _iso(t.get("called_ms")),
        }
        if t["status"] == "cancelled" and t.get("cancel_reason"):
            out["cancel_reason"] = t["cancel_reason"]  # the page says why
        if t.get("from_service"):  # the service it was last transferred from
            out["from_service"] = t["from_service"]
        if t.get("appointment_ms"):  # booked: the holder's page shows the time
            # As GET /v1/tickets/{id} gives it (the site's offset, to the second): it is a
            # time of day someone was given, not a moment of the live queue.
            out["appointment_at"] = iso(int(float(t["appointment_ms"])),
                                        ZoneInfo(v.config.timezone))
        if t.get("promote_at_ms") and t["status"] == "waiting":  # an early check-in
            # When it takes its appointment's place ("from 09:50, your appointment's place").
            out["promote_at"] = iso(int(float(t["promote_at_ms"])), ZoneInfo(v.config.timezone))
        if t["status"] in ("called",) and t.get("counter"):
            ctr = v.config.counter(t["counter"])
            out["counter_name"] = _names(v, ctr.name if ctr else None, t["counter"])
            out["announcement"] = {lang: announcement(v.config, lang, t["number"], t["counter"])
                                   for lang in v.config.languages}
        return out

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        tid = ref.parts[0]
        if entry.type == "site_updated":
            # The site document (names, services, counters, words) with the ticket view as
            # it now is: the holder's page redraws in the site's new words at once.
            current = feed.view.tickets.get(tid)
            data = {} if current is None else self.view(feed, current)
            if current is not None:
                feed.unchanged(ref.topic, _moved(data))  # what it was shown, from now on
            return Message("site", data | {"site": public_site(feed.key, feed.view.config)})
        t = entry.data.get("ticket")
        if t is not None and t.get("id") == tid:
            if entry.type not in TICKET_TYPES:  # notify_set: nothing the holder sees moved
                return None
            return Message(TICKET_TYPES[entry.type], self.view(feed, t))
        current = feed.view.tickets.get(tid)
        if current is None:
            return None
        data = self.view(feed, current)
        if feed.unchanged(ref.topic, _moved(data)):
            return None
        return Message("position", data, is_event=False)

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        if entry.type == "site_updated":  # the site as that change left it (no ticket view)
            return Message("site", {"site": _entry_site(feed, entry)})
        t = entry.data.get("ticket")
        if t is None or t.get("id") != ref.parts[0] or entry.type not in TICKET_TYPES:
            return None
        data = self.view(feed, t) | {"position": None, "people_ahead": None, "estimate": None,
                                     "counters_open": None}
        return Message(TICKET_TYPES.get(entry.type, entry.type), data)

    def current(self, feed: Any, ref: Ref) -> Message | None:
        t = feed.view.tickets.get(ref.parts[0])
        return None if t is None else Message("position", self.view(feed, t), is_event=False)

    def refresh(self, feed: Any, ref: Ref) -> Message | None:
        """A waiting ticket's view again with no event (``SiteFeed.refresh``): time alone
        moves its estimate (a counter free for minutes with nobody called, a late counter
        later still); sent only when it moved noticeably."""
        t = feed.view.tickets.get(ref.parts[0])
        if t is None or feed.view.position(t["id"]) is None:
            return None
        data = self.view(feed, t)
        if feed.unchanged(ref.topic, _moved(data)):
            return None
        return Message("position", data, is_event=False)

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        t = entry.data.get("ticket")
        if t is not None:
            yield f"ticket:{t['id']}"
        if not (change.services or change.counters or change.config):
            return
        # Every tracked ticket of a changed queue may have moved. A counter taking or
        # freeing a ticket moves the estimates of the queues it serves; a counter opening,
        # pausing or closing, or a new configuration, may move every estimate. Only topics
        # someone here follows are looked at, and only those: each costs an estimate.
        if change.config or entry.type in COUNTER_TYPES:
            for topic, tid in feed.tracked_tickets():
                if tid in feed.view.tickets:
                    yield topic
            return
        services = set(change.services)
        cfg = feed.view.config
        for cid in change.counters:
            c = cfg.counter(cid)
            if c is not None:
                services.update(c.services)
        # A tracked ticket that is not waiting has no place or estimate to move: its own
        # changes come as events (above); only the waiting ones are looked at.
        yield from feed.tracked_waiting(services)


# -- counter console -------------------------------------------------------------------

class CounterTopic:
    name = "counter"
    feed_kind = "site"
    replayable = True
    event_types: tuple[str, ...] = (
        "called", "recalled", "started", "completed", "no_show", "parked", "transferred",
        "cancelled", "undone", *COUNTER_TYPES, "waiting", "site")

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        if len(parts) != 2:
            raise ProtocolError("unknown_topic", "counter topics are counter:{site}:{counter}")
        return Ref(topic, self.name, parts, parts[0])

    def authorize(self, p: Principal, ref: Ref) -> None:
        p.require_counter(ref.parts[0], ref.parts[1])

    @staticmethod
    def _ticket(feed: Any, t: dict[str, Any] | None) -> dict[str, Any] | None:
        """The counter's ticket, with the name the person gave (``customer``): the agent at
        this counter serves them (docs/privacy.md). Only this topic carries it: a board
        never, and service lists go to supervisors too."""
        if not t:
            return None
        view = Ticket().view(feed, t)
        if t.get("customer"):
            view["customer"] = t["customer"]
        return view

    def _data(self, feed: Any, cid: str) -> dict[str, Any]:
        v: SiteView = feed.view
        st = v.counters.get(cid, {})
        t = v.tickets.get(st.get("ticket") or "")
        c = v.config.counter(cid)
        services = c.services if c else []
        return {"counter": cid, "state": st.get("state", "closed"),
                "ticket": self._ticket(feed, t),
                "waiting": {s: feed.service_summary(s) for s in services},
                # Parked tickets of the counter's services, from any counter: the console
                # brings them back (unpark); a browser's own memory would lose them.
                "parked": [{"id": p["id"], "number": p["number"], "service": p["service"]}
                           for p in v.parked.values() if p["service"] in services]}

    @staticmethod
    def _site(feed: Any, cid: str, doc: dict[str, Any]) -> dict[str, Any]:
        """A ``site`` message: the site document, and whether this counter is still in it
        (a console whose counter was taken out says so instead of acting on a ghost)."""
        out: dict[str, Any] = {"counter": cid, "site": doc}
        if all(c["id"] != cid for c in doc["counters"]):
            out |= {"removed": True, "state": "closed", "ticket": None, "waiting": {},
                    "parked": []}
        return out

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        if feed.view.config.counter(ref.parts[1]) is None:
            raise ProtocolError("unknown_topic", f"unknown counter {ref.parts[1]}")
        # The site as it is now: a console back after a gap it could not replay (resync)
        # must not go on with the services its page was loaded with.
        data = self._data(feed, ref.parts[1])
        feed.remember(ref.topic, data["waiting"])  # the baseline of ``refresh``
        return data | {"site": public_site(feed.key, feed.view.config)}

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        msg = self._live(feed, ref, entry, change)
        if msg is not None and "waiting" in msg.data:
            feed.remember(ref.topic, msg.data["waiting"])
        return msg

    def _live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        cid = ref.parts[1]
        if entry.type == "site_updated":
            doc = public_site(feed.key, feed.view.config)
            return Message("site", self._data(feed, cid) | self._site(feed, cid, doc))
        if entry.data.get("counter") == cid and entry.type in self.event_types:
            return Message(entry.type, self._data(feed, cid))
        return Message("waiting", self._data(feed, cid), is_event=False)

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        if entry.type == "site_updated":
            return Message("site", self._site(feed, ref.parts[1], _entry_site(feed, entry)))
        if entry.data.get("counter") != ref.parts[1] or entry.type not in self.event_types:
            return None
        t = entry.data.get("ticket")
        return Message(entry.type, {"counter": ref.parts[1], "state": entry.data.get("state"),
                                    "ticket": self._ticket(feed, t)})

    def current(self, feed: Any, ref: Ref) -> Message | None:
        return Message("waiting", self._data(feed, ref.parts[1]), is_event=False)

    def refresh(self, feed: Any, ref: Ref) -> Message | None:
        """The console's waiting figures again when time alone moved an estimate (as the
        board's ``refresh``)."""
        data = self._data(feed, ref.parts[1])
        if feed.settled(ref.topic, data["waiting"]):
            return None
        return Message("waiting", data, is_event=False)

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        site = feed.key
        for c in feed.view.config.counters:
            # A ticket parked or leaving the parked list (unparked, called, moved, cancelled)
            # changes the list of every console serving its service, not only the actor's.
            touched = change.services | change.parked
            if c.id in change.counters or set(c.services) & touched or change.config:
                yield f"counter:{site}:{c.id}"
        if entry.type == "site_updated":
            yield from _gone(feed, "counter", (c.id for c in feed.view.config.counters))
        t = entry.data.get("ticket")
        if entry.type == "notify_set" and t and t.get("counter"):
            # An erasure took the name off the ticket at this counter: the console drops it.
            yield f"counter:{site}:{t['counter']}"


# -- service queue ---------------------------------------------------------------------

class ServiceTopic:
    name = "service"
    feed_kind = "site"
    # Deltas are not replayed one by one: a resume gets the whole list again (resync).
    replayable = False
    event_types: tuple[str, ...] = ("changed",)

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        if len(parts) != 2:
            raise ProtocolError("unknown_topic", "service topics are service:{site}:{service}")
        return Ref(topic, self.name, parts, parts[0])

    def authorize(self, p: Principal, ref: Ref) -> None:
        _site_scope(p, ref.source, "agent", "supervisor")

    @staticmethod
    def summary(t: dict[str, Any]) -> dict[str, Any]:
        out = {"id": t["id"], "number": t["number"], "priority": t.get("priority"),
               "status": t["status"], "channel": t.get("channel"),
               "issued_at": _iso(t.get("issued_ms"))}
        if t.get("from_service"):  # the service it was last transferred from
            out["from_service"] = t["from_service"]
        return out

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        v: SiteView = feed.view
        svc = ref.parts[1]
        if v.config.service(svc) is None:
            raise ProtocolError("unknown_topic", f"unknown service {svc}")
        return {"service": svc, "tickets": [self.summary(v.tickets[t]) for t in v.queues[svc]
                                            if t in v.tickets]}

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        svc = ref.parts[1]
        removed = [tid for s, tid in change.removed if s == svc]
        inserted = [(tid, after) for s, tid, after in change.inserted if s == svc]
        if not removed and not inserted:
            return None
        data: dict[str, Any] = {"service": svc, "removed": removed, "inserted": [
            {"after": after or None, "ticket": self.summary(feed.view.tickets[tid])}
            for tid, after in inserted if tid in feed.view.tickets]}
        return Message("changed", data)

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        return None  # queue deltas are not replayed one by one: resume resends the list

    def current(self, feed: Any, ref: Ref) -> Message | None:
        return None

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        return (f"service:{feed.key}:{s}" for s in change.services)


register(Board())
register(Ticket())
register(CounterTopic())
register(ServiceTopic())
