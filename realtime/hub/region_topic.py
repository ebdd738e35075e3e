"""The ``region:{id}`` topic: a dispatcher's whole region on one subscription.

The dispatcher console used to read the region's open jobs over HTTP every 5 s (a job nobody
can take is on no technician's topic). This topic carries what the console shows, as it
changes, built from the region feed's ``RegionView`` like the ``tech:``/``job:``/``org:``
topics:

- snapshot: ``jobs`` (every open job, as ``GET /v1/regions/{r}/jobs`` lists them),
  ``techs`` (a summary per technician: id, name, status, active job, last fix) and ``kpis``
  (the tiles of ``GET /v1/regions/{r}/kpis``, and ``utilisation_live``: the terms the
  console keeps the utilisation tile live with between events).
- one event per stream entry that changed any of it, carrying only what changed: ``job``
  (that job's row, ``change`` the entry type, ``reason``), ``techs`` (the technicians whose
  summary changed), ``etas`` (after a plan: jobs whose ETA moved by a minute or more) and
  ``kpis`` (when a tile's value changed). Positions are paced, not thinned: a technician
  whose status, name or job changed is sent at once; one with only a new fix waits, latest
  fix wins, and the waiting ones go together at most every ``POSITION_EVERY_MS`` (2 s) — or
  sooner with any message that goes anyway. So a fix reaches the console within ~2 s, and
  a region of any size costs one position message per 2 s. (Before, a summary was re-sent
  when it moved ~100 m or its fix was a minute newer: a technician standing at a job read
  "GPS 50 s ago" with fixes every few seconds.)

Every message is an event (no state lane: a state update waiting behind an event would be
dropped, and these are deltas). The topic is not replayed: a resume gets a ``resync``
snapshot (the whole region: cheaper to rebuild than a day's deltas).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from dispatch import keys as dkeys
from dispatch.kpi import Kpis
from dispatch.records import job_view
from queueing.errors import Forbidden
from realtime import clock
from realtime.auth import Principal
from realtime.hub.dispatch_topics import _position, _region_staff
from realtime.hub.entry import Entry, id_lt
from realtime.hub.topics import Message, Ref, register
from realtime.protocol import ProtocolError

# The KPI fields the console's tiles show, and how finely a change is worth a message.
KPI_FIELDS = {"jobs_created": None, "jobs_done": None, "dispatch_response_mean_s": -1,
              "on_time_rate": 2, "utilisation": 2, "empty_driving_share": 2, "km_driven": 1}
KPI_EVERY_MS = 10_000  # on GPS entries (km) the tiles are looked at this often at most
ETA_STEP_MS = 60_000
POSITION_EVERY_MS = 2_000  # waiting positions go out together at most this often


def tech_row(t: dict[str, Any]) -> dict[str, Any]:
    return {"id": t["id"], "name": t.get("name"), "status": t.get("status"),
            "active_job": t.get("active") or None, "position": _position(t)}


def _tech_key(row: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """(what is sent at once, what is paced): status, name, job; the fix."""
    pos = row["position"] or {}
    return ((row["name"], row["status"], row["active_job"]),
            (pos.get("lat"), pos.get("lon"), pos.get("t")))


class PositionPacer:
    """Technicians' new fixes waiting to go, latest wins, released together at most every
    ``every_ms`` (or with any message going anyway). Pure: time is an argument.

    ``timer`` is the edge's handle for the trailing release (an ``asyncio`` timer)."""

    __slots__ = ("every_ms", "pending", "sent_ms", "timer")

    def __init__(self, every_ms: int = POSITION_EVERY_MS) -> None:
        self.every_ms = every_ms
        self.pending: dict[str, dict[str, Any]] = {}
        self.sent_ms: float | None = None
        self.timer: Any = None

    def add(self, tid: str, row: dict[str, Any]) -> None:
        self.pending[tid] = row

    def drop(self, tid: str) -> None:
        """``tid``'s row goes in a message now (its status changed): nothing waits for it."""
        self.pending.pop(tid, None)

    def due_in(self, now_ms: float) -> float:
        """Milliseconds until the waiting positions may go (0: now)."""
        if self.sent_ms is None:
            return 0.0
        return max(0.0, self.sent_ms + self.every_ms - now_ms)

    def take(self, now_ms: float) -> list[dict[str, Any]]:
        """The waiting rows (by id), now sent; the next release is ``every_ms`` from now."""
        rows = [self.pending[k] for k in sorted(self.pending)]
        self.pending.clear()
        if rows:
            self.sent_ms = now_ms
        return rows


def kpi_tiles(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary.get(k) for k in KPI_FIELDS}


def region_tiles(kpis: Kpis, now_ms: int) -> dict[str, Any]:
    """The tiles as of ``now_ms``, with ``utilisation_live``: utilisation moves with time
    alone, so the console computes it from these terms until the next event changes them
    (``dispatch.kpi.utilisation_at``; it read the KPIs once a minute for it before)."""
    return {**kpi_tiles(kpis.summary(now_ms)),
            "utilisation_live": kpis.utilisation_terms(now_ms)}


def _kpi_key(tiles: dict[str, Any]) -> tuple[Any, ...]:
    """What a message is worth sending for: a tile's shown value, or how utilisation runs
    on (who counts; the starts ahead)."""
    live = tiles.get("utilisation_live") or {}
    return (*(v if (d := KPI_FIELDS[k]) is None or v is None else round(v, d)
              for k, v in tiles.items() if k in KPI_FIELDS),
            live.get("on_n"), live.get("online_n"), tuple(live.get("on_later") or ()),
            tuple(live.get("online_later") or ()))


def region_jobs(feed: Any) -> list[dict[str, Any]]:
    rows = [job_view(j) for j in feed.rv.jobs.values()]
    return sorted(rows, key=lambda j: (j["created_ms"] or 0, j["id"]))


class RegionTopic:
    name = "region"
    feed_kind = "region"
    replayable = False
    event_types: tuple[str, ...] = ("job", "techs", "etas", "kpis")

    def parse(self, topic: str, parts: tuple[str, ...]) -> Ref:
        if len(parts) != 1 or not dkeys.IDENT.fullmatch(parts[0]):
            raise ProtocolError("unknown_topic", "region topics are region:{region}")
        return Ref(topic, self.name, parts, parts[0])

    def authorize(self, p: Principal, ref: Ref) -> None:
        if _region_staff(p, ref.source):
            return
        raise Forbidden("only this region's dispatchers may follow it")

    async def snapshot(self, feed: Any, ref: Ref) -> Any:
        if feed.kpis is None:  # folded from the checkpoint on first use, then live
            for _ in range(3):
                k = await feed.engine.kpis(feed.key)
                # The feed may have applied entries while this read ran: those written
                # after the read would be counted by neither (fold_kpis skips them, the
                # read did not see them). Read again until it covers the feed.
                if not id_lt(k.offset, feed.offset):
                    break
            if feed.kpis is None:
                feed.kpis = k
        now_ms = clock.now_ms()
        techs = [tech_row(t) for _, t in sorted(feed.rv.techs.items())]
        tiles = region_tiles(feed.kpis, now_ms)
        feed.unchanged(ref.topic + "#kpis", _kpi_key(tiles))
        for row in techs:
            feed._last[ref.topic + "#" + row["id"]] = _tech_key(row)
        feed._last[ref.topic + "#etas"] = {jid: j.get("eta_ms") for jid, j in feed.rv.jobs.items()}
        return {"region": feed.key, "jobs": region_jobs(feed), "techs": techs,
                "kpis": tiles}

    def live(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> Message | None:
        out: dict[str, Any] = {}
        d = entry.data
        job = d.get("job") if isinstance(d.get("job"), dict) else None
        if job is not None and job.get("id"):
            row = job_view(feed.rv.jobs.get(job["id"]) or job)
            out.update(job=row, change=entry.type, reason=d.get("reason") or row["reason"])
        if entry.type == "plan":
            etas = self._etas(feed, ref)
            if etas:
                out["etas"] = etas
        pacer = self._pacer(feed, ref)
        techs = self._techs(feed, ref, entry, change, pacer)
        tiles = self._kpis(feed, ref, entry)
        if tiles is not None:
            out["kpis"] = tiles
        now_ms = time.monotonic() * 1000
        if pacer.pending and (out or techs or not pacer.due_in(now_ms)):
            techs = sorted(pacer.take(now_ms) + techs, key=lambda r: r["id"])
        elif pacer.pending:
            self._release_later(feed, ref, pacer, now_ms)
        if techs:
            out["techs"] = techs
        if not out:
            return None
        kind = next(k for k in ("job", "etas", "techs", "kpis") if k in out)
        return Message(kind, out)

    @staticmethod
    def _pacer(feed: Any, ref: Ref) -> PositionPacer:
        key = ref.topic + "#pacer"
        pacer = feed._last.get(key)
        if pacer is None:
            pacer = feed._last[key] = PositionPacer()
        return pacer  # type: ignore[no-any-return]

    def _release_later(self, feed: Any, ref: Ref, pacer: PositionPacer, now_ms: float) -> None:
        """The trailing release: a technician's last fix before it stopped sending must not
        wait for the next entry."""
        if pacer.timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # (a test calling live() outside a loop)
            return
        pacer.timer = loop.call_later(pacer.due_in(now_ms) / 1000, self._release, feed, ref,
                                      pacer)

    def _release(self, feed: Any, ref: Ref, pacer: PositionPacer) -> None:
        pacer.timer = None
        if feed._last.get(ref.topic + "#pacer") is not pacer or not feed.subs.get(ref.topic):
            return  # resynced or unsubscribed meanwhile
        now_ms = time.monotonic() * 1000
        if pacer.due_in(now_ms):  # a message went meanwhile and took the slot: wait again
            self._release_later(feed, ref, pacer, now_ms)
            return
        rows = pacer.take(now_ms)
        if rows:
            # The feed's offset is past the last message of this topic: that message took
            # every waiting row, so these arrived with later entries.
            feed._publish(ref.topic, Message("techs", {"techs": rows}), feed.offset)

    def _etas(self, feed: Any, ref: Ref) -> dict[str, int | None]:
        key = ref.topic + "#etas"
        sent: dict[str, int | None] = feed._last.get(key) or {}
        now = {jid: j.get("eta_ms") for jid, j in feed.rv.jobs.items()}
        moved = {jid: eta for jid, eta in now.items()
                 if (abs((eta or 0) - (sent[jid] or 0)) >= ETA_STEP_MS if jid in sent else eta)}
        for jid in moved:
            sent[jid] = now[jid]
        feed._last[key] = {jid: sent.get(jid) for jid in now}
        return moved

    def _techs(self, feed: Any, ref: Ref, entry: Entry, change: Any, pacer: PositionPacer
               ) -> list[dict[str, Any]]:
        """Rows to send now (status, name or job changed; removed); a new fix alone waits
        in ``pacer``."""
        ids = set(change.techs)
        if change.moved:
            ids.add(change.moved)
        rows = []
        for tid in sorted(ids):
            t = feed.rv.techs.get(tid)
            if t is None:
                pacer.drop(tid)
                if entry.type == "tech_removed":
                    rows.append({"id": tid, "removed": True})
                continue
            row = tech_row(t)
            key = ref.topic + "#" + tid
            was, now = feed._last.get(key), _tech_key(row)
            feed._last[key] = now
            if was is None or was[0] != now[0]:
                pacer.drop(tid)
                rows.append(row)
            elif was[1] != now[1]:
                pacer.add(tid, row)
        return rows

    def _kpis(self, feed: Any, ref: Ref, entry: Entry) -> dict[str, Any] | None:
        if feed.kpis is None:
            return None
        if entry.type == "gps":
            at = feed._last.get(ref.topic + "#kpi_at") or 0
            if entry.ts - at < KPI_EVERY_MS:
                return None
            feed._last[ref.topic + "#kpi_at"] = entry.ts
        tiles = region_tiles(feed.kpis, entry.ts)
        return None if feed.unchanged(ref.topic + "#kpis", _kpi_key(tiles)) else tiles

    def history(self, feed: Any, ref: Ref, entry: Entry, now_ms: int) -> Message | None:
        return None  # not replayed: a resume is a resync snapshot

    def current(self, feed: Any, ref: Ref) -> Message | None:
        return None

    def affected(self, feed: Any, entry: Entry, change: Any) -> Iterable[str]:
        return (f"region:{feed.key}",)


def fold_kpis(feed: Any, entry: Entry) -> None:
    """Keep the feed's KPI state (once a region subscriber asked for it) up with its stream:
    entries the checkpoint fold already counted are skipped."""
    if feed.kpis is not None and id_lt(feed.kpis.offset, entry.id):
        feed.kpis.apply(entry.type, entry.ts, entry.data, entry.id)


register(RegionTopic())
