"""Booking topics: ``booking:{id}``, scoped to the booking's own token (and agents of its
site). Booking events are appended to the site's stream by the booking scripts
(``booking_held``, ``booking_confirmed`` …), so the site feed carries them; each message
carries the whole booking view, as of the event, with ``promote_at`` as a read of it has.
A change of the site (``site_updated``) comes as a ``site`` message with the public site
document (names, services, counters, words), so an open booking page follows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from queueing.booking import views
from queueing.booking.engine import BookingEngine
from queueing.errors import Forbidden
from queueing.keys import site_of_ticket
from realtime.auth import Principal
from realtime.hub.entry import Entry
from realtime.hub.queue_topics import _entry_site, public_site
from realtime.hub.topics import Message, Ref, register
from realtime.protocol import ProtocolError

PREFIX = "booking_"
DEFAULT_GRACE_S = 900


def _engine(feed: Any) -> BookingEngine:
    hub = feed.hub
    eng: BookingEngine | None = getattr(hub, "booking_engine", None)
    if eng is None:
        eng = BookingEngine(hub.engine)
        hub.booking_engine = eng
    return eng


def _early_s(feed: Any, site: str) -> int | None:
    """The site's ``appointment_early_s`` if its schedule is cached (the topic's snapshot,
    a read of the booking, caches it), as ``cached_grace_s`` gives the grace period. None:
    the message goes without ``promote_at``, and the page keeps the one it read."""
    hit = _engine(feed)._schedules.get(site)
    return hit.policy.appointment_early_s if hit else None


class BookingTopic:
    name = "booking"
    feed_kind = "site"
    replayable = True
    event_types: tuple[str, ...] = ("held", "confirmed", "waitlisted", "offered", "cancelled",
                                    "expired", "rescheduled", "checked_in", "no_show",
                                    "reminder", "suspended", "unsuspended", "notify", "site")

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        site = site_of_ticket(parts[0]) if len(parts) == 1 else ""
        if not site:
            raise ProtocolError("unknown_topic", "booking topics are booking:{booking id}")
        return Ref(topic, self.name, parts, site)

    def authorize(self, p: Principal, ref: Ref) -> None:
        if p.role == "booking":
            if p.booking != ref.parts[0]:
                raise Forbidden("this token is for another booking")
            return
        p.require("agent", site=ref.source)

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        return await _engine(feed).get(ref.parts[0])

    def _message(self, feed: Any, ref: Ref, entry: Entry) -> Message | None:
        b = entry.data.get("booking")
        kind = entry.type[len(PREFIX):]
        if not entry.type.startswith(PREFIX) or not b or b.get("id") != ref.parts[0]:
            return None
        grace = _engine(feed).cached_grace_s(ref.source) or DEFAULT_GRACE_S
        tz = ZoneInfo(feed.view.config.timezone)
        extra: dict[str, Any] = {}
        if "suspension" in entry.data:
            extra["suspension"] = entry.data["suspension"]
        data = views.booking(b, tz, entry.ts, grace, extra, _early_s(feed, ref.source))
        if kind == "rescheduled":
            f = entry.data.get("from") or {}
            data["moved_from"] = {"slot": f.get("slot"), "resource": f.get("resource"),
                                  "start": views.iso(f.get("start_ms"), tz)}
        elif kind == "reminder":
            data["before_s"] = entry.data.get("before_s")
        elif kind == "checked_in":
            data["ticket_number"] = entry.data.get("number")
        return Message(kind, data)

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        if entry.type == "site_updated":  # its names and words: the page redraws in them
            return Message("site", {"site": public_site(feed.key, feed.view.config)})
        return self._message(feed, ref, entry)

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        if entry.type == "site_updated":  # the site as that change left it
            return Message("site", {"site": _entry_site(feed, entry)})
        return self._message(feed, ref, entry)

    def current(self, feed: Any, ref: Ref) -> Message | None:
        return None

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        b = entry.data.get("booking")
        if entry.type.startswith(PREFIX) and isinstance(b, dict) and b.get("id"):
            yield f"booking:{b['id']}"
        elif entry.type == "site_updated":  # every booking topic followed here
            yield from [t for t in feed.subs if t.startswith("booking:")]


register(BookingTopic())
