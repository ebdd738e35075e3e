"""Booking topics: ``booking:{id}``, scoped to the booking's own token (and agents of its
site). Booking events are appended to the site's stream by the booking scripts
(``booking_held``, ``booking_confirmed`` …), so the site feed carries them; each message
carries the whole booking view, as of the event.
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


class BookingTopic:
    name = "booking"
    feed_kind = "site"
    replayable = True
    event_types: tuple[str, ...] = ("held", "confirmed", "waitlisted", "offered", "cancelled",
                                    "expired", "rescheduled", "checked_in", "no_show",
                                    "reminder", "suspended")

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
        data = views.booking(b, tz, entry.ts, grace, extra)
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
        return self._message(feed, ref, entry)

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        return self._message(feed, ref, entry)

    def current(self, feed: Any, ref: Ref) -> Message | None:
        return None

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        b = entry.data.get("booking")
        if entry.type.startswith(PREFIX) and isinstance(b, dict) and b.get("id"):
            yield f"booking:{b['id']}"


register(BookingTopic())
