"""Waiting areas' boards: ``board:{site}:{area}``, one room's board, next to ``board:{site}``.

A site's ``areas`` (``queueing.model.Area``) are its waiting rooms, each with its counters. A
board set to one (``/board/{site}?area={id}``) follows ``board:{site}:{area}``: the same
messages as the site's board, narrowed to the area's counters (their tiles, their calls; the
waiting figures stay the site's), and its own recent calls on (re)connect. Those are read
back from the site's event stream (at most ``SCAN_MAX`` entries, back to the last day close)
when the site's recent list (the last 20 calls of every room) holds fewer than ``RECENT`` of
the area's: a quiet room's board reloaded after a busy spell elsewhere showed no recent calls
at all.

A display token locked to an area (``area`` claim, ``realtime.auth``) reads that area's topic
only (``Principal.require_board``).

``AreaBoard`` wraps the site board namespace (``queue_topics.Board``) rather than changing it:
importing this module puts it in place of the registered ``board`` namespace (the hub imports
it with the other namespaces).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from queueing.model import Area, announcement
from realtime.auth import Principal
from realtime.hub import queue_topics  # registers the board namespace wrapped here
from realtime.hub.entry import Entry, decode_entry
from realtime.hub.topics import NAMESPACES, Message, Namespace, Ref, register
from realtime.protocol import ProtocolError

RECENT = 10  # recent calls a board's snapshot carries (as the site's board)
CHUNK = 500  # stream entries read back at a time for an area's recent calls
SCAN_MAX = 5000  # and at most this many: a room silent all day costs a bounded read
CALLS = ("called", "recalled")


def area_of(ref: Ref) -> str | None:
    """The area of a board topic (None: the whole site's board)."""
    return ref.parts[1] if len(ref.parts) == 2 else None


def find_area(view: Any, area_id: str) -> Area | None:
    return next((a for a in view.config.areas if a.id == area_id), None)


def recent_row(view: Any, r: dict[str, Any]) -> dict[str, Any]:
    """A recent call as the board's snapshot gives it (as ``Board._recent``)."""
    cfg = view.config
    return {"number": r["number"], "counter": r["counter"], "service": r["service"],
            "at": queue_topics._iso(r.get("ts")),
            "announcement": {lang: announcement(cfg, lang, r["number"], r["counter"])
                             for lang in cfg.languages}}


def calls_in(entries: Iterable[Entry], counters: set[str], seen: set[str],
             cutoff_ms: int = 0) -> Iterator[dict[str, Any]]:
    """The calls at ``counters`` among ``entries`` (newest first), as the site's recent list
    holds them: each ticket once, at its latest call (``seen``: tickets met so far, at any
    counter, updated). A day close drops the calls before its ``before_ms`` (read it from
    the entries, newest first, or pass ``cutoff_ms``): they stop the walk."""
    for e in entries:
        if e.type == "day_closed":
            cutoff_ms = max(cutoff_ms, int(e.data.get("before_ms") or 0))
            continue
        if e.type not in CALLS:
            continue
        t = e.data.get("ticket") or {}
        ts = int(t.get("called_ms") or e.ts)
        if ts < cutoff_ms:
            return
        tid = str(t.get("id"))
        if tid in seen:
            continue
        seen.add(tid)
        if e.data.get("counter") in counters:
            yield {"ticket": tid, "number": t["number"], "counter": e.data["counter"],
                   "service": t["service"], "ts": ts}


async def area_recent(feed: Any, counters: set[str], upto: str) -> list[dict[str, Any]]:
    """The area's last ``RECENT`` calls up to stream offset ``upto`` (the snapshot's)."""
    v = feed.view
    mine = [r for r in v.recent if r["counter"] in counters]
    # The site's list (its last 20 calls) is enough when it holds as many of the area's.
    # Not otherwise, even when shorter: a recall takes one of its 20 places in Redis, so a
    # hub that loaded it may hold fewer tickets than the day's calls.
    if len(mine) >= RECENT:
        return [recent_row(v, r) for r in mine[:RECENT]]
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    cutoff = 0
    top, scanned = upto, 0
    while len(out) < RECENT and scanned < SCAN_MAX and top != "0-0":
        rows = await feed.hub.redis.xrevrange(feed.stream, top, "-", count=CHUNK)
        if top != upto:
            rows = [r for r in rows if _sid(r[0]) != top]  # the bound is inclusive
        if not rows:
            break
        entries = [decode_entry(eid, fields) for eid, fields in rows]
        scanned += len(entries)
        for e in entries:
            if e.type == "day_closed":
                cutoff = max(cutoff, int(e.data.get("before_ms") or 0))
        found = list(calls_in(entries, counters, seen, cutoff))
        out.extend(found)
        if any(e.type in CALLS and int((e.data.get("ticket") or {}).get("called_ms")
                                       or e.ts) < cutoff for e in entries):
            break  # reached the calls a day close took off the board
        top = _sid(rows[-1][0])
    return [recent_row(v, r) for r in out[:RECENT]]


def _sid(eid: bytes | str) -> str:
    return eid.decode() if isinstance(eid, bytes) else eid


def narrow(msg: Message | None, counters: set[str]) -> Message | None:
    """A site board's message as an area's board sees it: tiles and calls of its counters
    only. Another room's call or counter brings only the waiting figures (not an event)."""
    if msg is None:
        return None
    d = dict(msg.data)
    if msg.type in CALLS and d.get("counter") not in counters:
        return (Message("waiting", {"waiting": d["waiting"]}, is_event=False)
                if "waiting" in d else None)
    if msg.type == "counter" and d.get("counter", {}).get("id") not in counters:
        return (Message("waiting", {"waiting": d["waiting"]}, is_event=False)
                if "waiting" in d else None)
    if isinstance(d.get("counters"), list):
        d["counters"] = [c for c in d["counters"] if c.get("id") in counters]
    if isinstance(d.get("recent"), list):
        d["recent"] = [r for r in d["recent"] if r.get("counter") in counters]
    return Message(msg.type, d, msg.is_event)


class AreaBoard:
    """The ``board`` namespace: ``board:{site}`` as ``inner`` serves it, and
    ``board:{site}:{area}``, narrowed to the area (an area the site lacks: ``unknown_topic``
    at subscription; one taken out later leaves its board with no counters, and the
    ``site`` message that says so)."""

    name = "board"
    feed_kind = "site"
    replayable = True

    def __init__(self, inner: Namespace) -> None:
        self.inner = inner
        self.event_types = inner.event_types

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        if len(parts) == 2 and parts[0] and parts[1]:
            return Ref(topic, self.name, parts, parts[0])
        if len(parts) != 1:
            raise ProtocolError("unknown_topic",
                                "board topics are board:{site} or board:{site}:{area}")
        return self.inner.parse(topic, parts)

    def authorize(self, p: Principal, ref: Ref) -> None:
        p.require_board(ref.source, area_of(ref))

    def _counters(self, feed: Any, ref: Ref) -> set[str] | None:
        aid = area_of(ref)
        if aid is None:
            return None
        area = find_area(feed.view, aid)
        return set(area.counters) if area else set()

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        upto = feed.offset  # the snapshot's offset (nothing was awaited yet)
        aid = area_of(ref)
        if aid is not None and find_area(feed.view, aid) is None:
            raise ProtocolError("unknown_topic", f"site {ref.source} has no waiting area {aid}")
        data = await self.inner.snapshot(feed, ref)
        counters = self._counters(feed, ref)
        if counters is None:
            return data
        data = dict(data)
        data["area"] = aid
        data["counters"] = [c for c in data["counters"] if c["id"] in counters]
        data["recent"] = await area_recent(feed, counters, upto)
        return data

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        msg = self.inner.live(feed, ref, entry, change)
        counters = self._counters(feed, ref)
        return msg if counters is None else narrow(msg, counters)

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        msg = self.inner.history(feed, ref, entry, now_ms)
        counters = self._counters(feed, ref)
        if counters is None or msg is None:
            return msg
        narrowed = narrow(msg, counters)
        # Replays carry no waiting figures per entry: another room's call or counter is
        # nothing here (the state message ending the replay brings the figures).
        return narrowed if narrowed is not None and narrowed.is_event else None

    def current(self, feed: Any, ref: Ref) -> Message | None:
        msg = self.inner.current(feed, ref)
        counters = self._counters(feed, ref)
        return msg if counters is None else narrow(msg, counters)

    def refresh(self, feed: Any, ref: Ref) -> Message | None:
        # The waiting figures are the site's on every area's board too.
        fn = getattr(self.inner, "refresh", None)
        return None if fn is None else fn(feed, ref)

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        yield from self.inner.affected(feed, entry, change)
        prefix = f"board:{feed.key}:"
        # Every area's board followed here: each message is built once per area topic.
        yield from [t for t in feed.subs if t.startswith(prefix)]


def install() -> None:
    """Serve areas' boards: the registered ``board`` namespace, wrapped (once)."""
    ns = NAMESPACES.get("board")
    if ns is not None and not isinstance(ns, AreaBoard):
        register(AreaBoard(ns))


install()
