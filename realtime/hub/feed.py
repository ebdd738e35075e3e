"""A feed tails one site's event stream, keeps its live view, and fans out to topics.

Resume (``since``) replays the topic's messages from the stream history, then attaches the
current state; if the history no longer reaches back that far, or the epoch changed (a new
Redis, a lost stream), the subscriber gets a snapshot with ``resync: true``. A gap is never
silent. The same holds for the feed itself: if Redis comes back with a different epoch or a
trimmed stream while the feed was disconnected, every subscriber is resynced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from queueing import keys
from queueing.errors import SwitchboardError
from queueing.view import SiteView
from realtime import clock, metrics
from realtime.hub.entry import Entry, decode_entry, id_lt, parse_id
from realtime.hub.topics import NAMESPACES, Message, Namespace, Ref
from realtime.protocol import Event, Since, Snapshot

if TYPE_CHECKING:
    from realtime.hub.hub import Connection, Hub

log = logging.getLogger("switchboard.hub")
# Compare-and-set of a site's epoch: of several hubs noticing the same lost history, the
# first sets the new epoch and the others take it.
_NEW_EPOCH = """
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return ARGV[2]
end
return cur
"""
# A feed working through an XREAD batch yields to the event loop (so the frames built so far
# are written) once this much time has gone into it.
YIELD_AFTER_S = 0.010
# A resume reads the history it replays this many entries at a time (a client back after an
# hour may have missed tens of thousands: read whole, they sat in memory until it read them).
REPLAY_CHUNK = 500


@dataclass(eq=False)
class Sub:
    conn: Connection
    ref: Ref
    ns: Namespace
    # While a resume replays history, live messages wait here (then go out in order).
    buffer: list[tuple[Event, bool]] | None = field(default_factory=list)


class SiteFeed:
    kind = "site"

    def __init__(self, hub: Hub, key: str) -> None:
        self.hub = hub
        self.key = key
        self.stream = keys.events(key)
        self.view: SiteView
        self.epoch = ""
        self.offset = "0-0"
        self.trimmed = "0-0"
        self.subs: dict[str, dict[int, Sub]] = {}
        self._last: dict[str, Any] = {}
        # Per topic followed here, the oldest offset one of its subscribers may hold (the
        # last message they all got): once a trim passes it, the topic is moved on (below).
        self._pos: dict[str, str] = {}
        self._kept_mark = ""
        self._tickets: dict[str, str] = {}  # ticket topic -> ticket id, for topics held here
        self._by_id: dict[str, str] = {}  # and back: ticket id -> ticket topic
        self._task: asyncio.Task[None] | None = None
        self.idle_since: float | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        await self._load()
        self._task = asyncio.create_task(self._run(), name=f"feed:{self.key}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def key_prefix(self) -> str:
        """Where this feed's keys live (a site's; a region feed has its own)."""
        return keys.prefix(self.key)

    async def _load(self) -> None:
        snap = await self.hub.engine.snapshot(self.key)
        self.view = SiteView.from_snapshot(self.key, snap, clock.now_ms())
        self.epoch, self.offset, self.trimmed = snap["epoch"], snap["offset"], snap["trimmed"]
        self._last.clear()

    async def _run(self) -> None:
        backoff = 0.05
        loop = asyncio.get_running_loop()
        outage = False
        while True:
            try:
                if outage:
                    # Checked before reading on: a read that succeeds first would carry on
                    # from a history Redis may no longer have.
                    await self._recover()
                    outage = False
                reply = await self.hub.reader.xread({self.stream: self.offset}, count=500,
                                                    block=5000)
                backoff = 0.05
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                log.warning("feed %s lost Redis (%s); retrying", self.key, exc)
                outage = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            since = loop.time()
            for _, entries in reply or ():
                for eid, fields in entries:
                    if loop.time() - since > YIELD_AFTER_S:
                        # Entries that cost a lot (a call that moves a thousand trackers,
                        # each with a wait estimate) let the frames built so far go out
                        # before the next is worked on; cheap ones still share one write.
                        await asyncio.sleep(0)
                        since = loop.time()
                    try:
                        self._apply(decode_entry(eid, fields))
                    except Exception:
                        # A bug must not stop the site's feed for everyone, nor leave its
                        # view wrong: rebuild from a snapshot and resync the subscribers.
                        log.exception("feed %s could not apply entry %s", self.key, eid)
                        await self._resync_all()
                        break

    async def _recover(self) -> None:
        """After a Redis outage: continue if history is intact, else resync everyone.

        Intact means the same epoch, not trimmed past our offset, and our last entry still
        there: a Redis restored from an older copy (a backup, a replica that had not caught
        up) has the same epoch but not the tail we served. Then the epoch changes (so every
        hub and every client's saved offset starts over) and all subscribers resync.
        Raises the Redis error if it is still unreachable (the caller retries)."""
        p = self.key_prefix()
        epoch = await self.hub.redis.get(p + "epoch")
        trimmed = await self.hub.redis.get(p + "trimmed")
        epoch_s = epoch.decode() if epoch else ""
        trimmed_s = trimmed.decode() if trimmed else "0-0"
        if epoch_s == self.epoch and not id_lt(self.offset, trimmed_s):
            if self.offset == "0-0" or await self.hub.redis.xrange(self.stream, self.offset,
                                                                   self.offset):
                return
            new = await self.hub.redis.eval(_NEW_EPOCH, 1, p + "epoch",  # type: ignore[misc]
                                            self.epoch, secrets.token_hex(8))
            log.warning("feed %s: the store no longer has entry %s (restored from an older "
                        "copy?); epoch %s -> %s, resyncing subscribers", self.key,
                        self.offset, self.epoch, new.decode() if isinstance(new, bytes) else new)
        else:
            log.warning("feed %s: history lost (epoch %s -> %s); resyncing subscribers",
                        self.key, self.epoch, epoch_s)
        if not await self._resync_all():
            raise RedisConnectionError("could not reload the site after an outage")

    async def _resync_all(self) -> bool:
        try:
            await self._load()
        except (SwitchboardError, RedisConnectionError, RedisTimeoutError, OSError):
            return False
        for topic, subs in list(self.subs.items()):
            self._pos.pop(topic, None)  # every subscriber now holds the new snapshot's
            for sub in list(subs.values()):
                await self._send_snapshot(sub, None, resync=True, answer=False)
            self._last.pop(topic, None)
        return True

    # -- live ------------------------------------------------------------------------------

    def _apply(self, entry: Entry) -> None:
        change = self.view.apply(entry.type, entry.data, entry.ts)
        self.offset = entry.id
        self.hub.observe(self, entry)
        metrics.LAG.observe(max(0.0, clock.now_s() - entry.ts / 1000))
        seen: set[str] = set()
        for ns in self.hub.site_namespaces:
            for topic in ns.affected(self, entry, change):
                subs = self.subs.get(topic)
                if not subs or topic in seen:
                    continue
                seen.add(topic)
                sub0 = next(iter(subs.values()))
                try:
                    msg = ns.live(self, sub0.ref, entry, change)
                except Exception:
                    log.exception("topic %s: cannot build message for %s", topic, entry.id)
                    continue
                if msg is not None:
                    self._publish(topic, msg, entry.id)

    def _publish(self, topic: str, msg: Message, offset: str) -> None:
        ev = Event(topic, self.epoch, offset, msg.type, msg.data)
        if topic in self.subs:
            self._pos[topic] = offset
        frames: dict[str, bytes] = {}
        ns_name = topic.partition(":")[0]
        for sub in list(self.subs.get(topic, {}).values()):
            if sub.buffer is not None:
                sub.buffer.append((ev, msg.is_event))
                if len(sub.buffer) > sub.conn.outbox.max_events:
                    # Live events pile up behind a replay the client is not reading: it is
                    # slow like any other (4008; it resumes from its last offset).
                    sub.buffer.clear()
                    sub.conn.mark_slow()
            else:
                sub.conn.deliver(ev, frames, msg.is_event)
        metrics.MESSAGES_OUT.labels(ns_name).inc(len(self.subs.get(topic, ())))

    # -- helpers namespaces use ------------------------------------------------------------

    def tracked_tickets(self) -> Iterator[tuple[str, str]]:
        return iter(self._tickets.items())

    def tracked_waiting(self, services: Iterable[str]) -> Iterator[str]:
        """Topics of the tracked tickets waiting in ``services``: walks whichever is
        shorter, the queue or the tracked tickets (a city queue of 10,000 with a few
        phones on it, or a few hundred phones each in a long queue)."""
        by_id = self._by_id
        if not by_id:
            return
        queues = self.view.queues
        tickets = self.view.tickets
        wanted = set(services)
        if sum(len(queues.get(svc, ())) for svc in wanted) <= len(by_id):
            for svc in wanted:
                for tid in queues.get(svc, ()):
                    topic = by_id.get(tid)
                    if topic is not None:
                        yield topic
        else:
            for tid, topic in by_id.items():
                t = tickets.get(tid)
                if t is not None and t["service"] in wanted and self.view.position(tid):
                    yield topic

    def unchanged(self, topic: str, value: Any) -> bool:
        """True if ``value`` is what ``topic`` last got (so nothing needs sending)."""
        if self._last.get(topic) == value:
            return True
        self._last[topic] = value
        return False

    def settled(self, topic: str, value: Any) -> bool:
        """``unchanged`` for a refresh round: with no baseline yet (a resumed subscriber:
        its replay, or its snapshot, brought the state) ``value`` becomes the baseline and
        nothing is sent."""
        if topic not in self._last:
            self._last[topic] = value
            return True
        return self.unchanged(topic, value)

    def remember(self, topic: str, value: Any) -> None:
        """What ``topic`` was just sent (the baseline of ``unchanged`` from now)."""
        self._last[topic] = value

    def seed(self, topic: str, value: Any) -> None:
        """What ``topic`` was shown at its first subscription, if nothing was sent since."""
        self._last.setdefault(topic, value)

    def service_summary(self, service: str) -> dict[str, Any]:
        # ``open``: counters serving it open now. With a null estimate it tells "no counter
        # open" from "open, but the queue will not reach a new ticket before they close".
        # ``parked``: its tickets set aside (off the queue, not forgotten; the floor
        # overview shows them).
        return {"waiting": self.view.waiting(service),
                "estimate": self.hub.estimate_service(self, service),
                "open": len(self.view.open_counters(service)),
                "parked": sum(1 for t in self.view.parked.values() if t["service"] == service)}

    def waiting_all(self) -> dict[str, Any]:
        return {s.id: self.service_summary(s.id) for s in self.view.config.services}

    def estimate(self, ticket_id: str) -> Any:
        return self.hub.estimate_ticket(self, ticket_id)

    async def fetch_ticket(self, ticket_id: str) -> dict[str, Any]:
        raw = await self.hub.engine.store.run("get_ticket", self.key, 0, "", "", ticket_id)
        ticket: dict[str, Any] = raw["ticket"]
        return ticket

    # -- subscriptions ---------------------------------------------------------------------

    async def subscribe(self, conn: Connection, ns: Namespace, ref: Ref, since: Since | None,
                        msg_id: int | None) -> None:
        sub = Sub(conn, ref, ns)
        self.subs.setdefault(ref.topic, {})[id(conn)] = sub
        if ref.namespace == "ticket":
            self._tickets[ref.topic] = ref.parts[0]
            self._by_id[ref.parts[0]] = ref.topic
        self.idle_since = None
        try:
            if since is None:
                await self._send_snapshot(sub, msg_id, resync=False)
            elif (why := self._why_resync(ns, since)) or not await self._replay(sub, since):
                metrics.RESYNCS.inc()
                log.debug("resync %s since %s/%s: %s (feed %s/%s, trimmed %s)", ref.topic,
                          since.epoch, since.offset, why or "history", self.epoch,
                          self.offset, self.trimmed)
                await self._send_snapshot(sub, msg_id, resync=True)
            else:
                metrics.RESUMES.inc()
                # (A replay with nothing to send leaves the client where it was.)
                self._hold(ref.topic, since.offset)
        except BaseException:
            self.unsubscribe(conn, ref.topic)
            raise

    def _why_resync(self, ns: Namespace, since: Since) -> str:
        """Why a resume from ``since`` cannot be served from history ("" if it may be)."""
        if not ns.replayable:
            return "not replayable"
        if since.epoch != self.epoch:
            return "epoch"
        if id_lt(since.offset, self.trimmed):
            return "trimmed"
        if id_lt(self.offset, since.offset):
            return "ahead of the feed"
        return ""

    async def _send_snapshot(self, sub: Sub, msg_id: int | None, resync: bool,
                             answer: bool = True) -> None:
        sub.buffer = []
        capture = self.offset
        data = await sub.ns.snapshot(self, sub.ref)
        sub.conn.deliver(Snapshot(sub.ref.topic, self.epoch, capture, data, resync, msg_id),
                         {}, True, answer)
        self._hold(sub.ref.topic, capture)
        await self._flush(sub, capture)

    def _hold(self, topic: str, offset: str) -> None:
        """A subscriber of ``topic`` now holds ``offset`` (the topic keeps the oldest)."""
        held = self._pos.get(topic)
        if held is None or id_lt(offset, held):
            self._pos[topic] = offset

    async def keep_in_history(self) -> int:
        """Move on the topics a trim has passed; returns how many were sent a message.

        A topic nothing happened to for longer than the history is kept (a counter whose
        services are quiet, a ticket in a quiet queue, a finished ticket's page) holds an
        offset the stream no longer has: it missed nothing, yet its next resume (a network
        drop, a server restarted) can only be a ``resync``. Each such topic that has a
        current-state message (the one a resume ends with) gets it now, at the feed's
        offset, which the stream keeps. Read after each trim round, the trim mark from
        Redis (another process may have trimmed); a topic with no state message (a finished
        ticket, a booking, ``service:``, ``region:``) stays as it was."""
        raw = await self.hub.redis.get(self.key_prefix() + "trimmed")
        if raw is not None:
            self.trimmed = max(self.trimmed, raw.decode(), key=parse_id)
        mark = self.trimmed
        if mark == self._kept_mark or not id_lt(mark, self.offset):
            return 0  # (a mark seen before: what it passed has been moved on already)
        self._kept_mark = mark
        return sum(self._send_now(topic, "current") for topic, held in list(self._pos.items())
                   if id_lt(held, mark))

    def _send_now(self, topic: str, build: str) -> bool:
        """Send ``topic`` what its namespace's ``build`` method (``current``, ``refresh``)
        makes of it now, if anything, at the feed's offset; whether it was sent."""
        subs = self.subs.get(topic)
        if not subs:
            return False
        sub0 = next(iter(subs.values()))
        make = getattr(sub0.ns, build, None)
        if make is None:
            return False
        try:
            msg = make(self, sub0.ref)
        except Exception:
            log.exception("topic %s: cannot build its %s message", topic, build)
            return False
        if msg is None:
            return False
        self._publish(topic, msg, self.offset)
        return True

    def refresh(self) -> int:
        """Each followed topic whose namespace has ``refresh`` (a waiting ticket) gets its
        view again if time alone changed it, at the feed's offset (the hub's janitor, each
        ``trim_interval_s``): between events nothing else would re-estimate it."""
        return sum(self._send_now(topic, "refresh") for topic in list(self.subs))

    async def _still_there(self, offset: str) -> bool:
        """Whether the stream still holds the entry a client resumes from. Not when Redis
        was restored from a backup (same epoch, but the history after the backup is gone
        and new entries get ids past the client's): replaying from there would skip the
        difference silently. ``0-0`` (a snapshot of an empty stream) and the trim mark (the
        entry just trimmed; everything after it is kept) need no entry."""
        if offset in ("0-0", self.trimmed):
            return True
        return bool(await self.hub.redis.xrange(self.stream, offset, offset, count=1))

    async def _replay(self, sub: Sub, since: Since) -> bool:
        """Send what the subscriber missed; False if the history no longer covers it.

        History is read ``REPLAY_CHUNK`` entries at a time and sent as it is read (paced by
        the client's reading), so a long absence costs one chunk of memory, not the whole
        range; the last replayed message is held back to carry the current state."""
        sub.buffer = []
        capture = self.offset
        now_ms = clock.now_ms()
        conn = sub.conn
        held: Event | None = None
        if since.offset != capture:
            if not await self._still_there(since.offset):
                return False
            start = "(" + since.offset
            while not (conn.closed or conn.slow):
                rows = await self.hub.redis.xrange(self.stream, start, capture,
                                                   count=REPLAY_CHUNK)
                # Read the trim mark after the range: another hub may have trimmed
                # meanwhile, and the mark is set in the same atomic step as the trim.
                mark = await self.hub.redis.get(self.key_prefix() + "trimmed")
                if mark is not None:
                    self.trimmed = max(self.trimmed, mark.decode(), key=lambda x: tuple(
                        int(p) for p in x.split("-")))
                    if id_lt(start[1:], self.trimmed):
                        return False  # (the client replaces what it got: a resync)
                for eid, fields in rows:
                    entry = decode_entry(eid, fields)
                    msg = sub.ns.history(self, sub.ref, entry, now_ms)
                    if msg is None:
                        continue
                    if held is not None:
                        await conn.deliver_paced(held)
                    held = Event(sub.ref.topic, self.epoch, entry.id, msg.type, msg.data)
                if len(rows) < REPLAY_CHUNK:
                    break
                start = "(" + rows[-1][0].decode()
            cur = sub.ns.current(self, sub.ref)
            if cur is not None:
                if held is not None and held.offset == capture:
                    held = Event(held.topic, held.epoch, held.offset, held.type,
                                 {**held.data, **cur.data})
                else:
                    if held is not None:
                        await conn.deliver_paced(held)
                    held = Event(sub.ref.topic, self.epoch, capture, cur.type, cur.data)
        if held is not None:
            await conn.deliver_paced(held)
        await self._flush(sub, capture)
        return True

    async def _flush(self, sub: Sub, capture: str) -> None:
        """Send what arrived live during the snapshot or replay, then go live."""
        while sub.buffer:
            pending, sub.buffer = sub.buffer, []
            for ev, is_event in pending:
                if id_lt(capture, ev.offset):
                    await sub.conn.deliver_paced(ev, is_event)
        sub.buffer = None

    def unsubscribe(self, conn: Connection, topic: str) -> bool:
        subs = self.subs.get(topic)
        if not subs or subs.pop(id(conn), None) is None:
            return False
        if not subs:
            del self.subs[topic]
            self._pos.pop(topic, None)
            tid = self._tickets.pop(topic, None)
            if tid is not None:
                self._by_id.pop(tid, None)
            self._last.pop(topic, None)
            if not self.subs:
                self.idle_since = time.monotonic()
        return True

    def sizes(self) -> dict[str, int]:
        """Entries this feed holds per table (for ``Hub.census``)."""
        view = getattr(self, "view", None)
        return {"topics": len(self.subs), "subscribers": sum(map(len, self.subs.values())),
                "topic_state": len(self._last), "tracked_tickets": len(self._tickets),
                "view_tickets": len(getattr(view, "tickets", ()))}

    def namespaces(self) -> list[Namespace]:
        return [ns for ns in NAMESPACES.values() if ns.feed_kind == self.kind]
