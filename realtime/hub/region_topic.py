"""The ``region:{id}`` topic: a dispatcher's whole region on one subscription.

The dispatcher console used to read the region's open jobs over HTTP every 5 s (a job nobody
can take is on no technician's topic). This topic carries what the console shows, as it
changes, built from the region feed's ``RegionView`` like the ``tech:``/``job:``/``org:``
topics:

- snapshot: ``jobs`` (every open job, as ``GET /v1/regions/{r}/jobs`` lists them),
  ``techs`` (a summary per technician: id, name, status, active job, last fix) and ``kpis``
  (the tiles of ``GET /v1/regions/{r}/kpis``).
- one event per stream entry that changed any of it, carrying only what changed: ``job``
  (that job's row, ``change`` the entry type, ``reason``), ``techs`` (the technicians whose
  summary changed), ``etas`` (after a plan: jobs whose ETA moved by a minute or more) and
  ``kpis`` (when a tile's value changed). Positions are coalesced: a technician's summary
  is re-sent when it moved ~100 m or its fix is a minute newer, not on every fix.

Every message is an event (no state lane: a state update waiting behind an event would be
dropped, and these are deltas). The topic is not replayed: a resume gets a ``resync``
snapshot (the whole region: cheaper to rebuild than a day's deltas).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from dispatch import keys as dkeys
from dispatch.records import job_view
from queueing.errors import Forbidden
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


def tech_row(t: dict[str, Any]) -> dict[str, Any]:
    return {"id": t["id"], "name": t.get("name"), "status": t.get("status"),
            "active_job": t.get("active") or None, "position": _position(t)}


def _tech_key(row: dict[str, Any]) -> tuple[Any, ...]:
    pos = row["position"] or {}
    return (row["name"], row["status"], row["active_job"], round(pos.get("lat") or 0, 3),
            round(pos.get("lon") or 0, 3), (pos.get("t") or 0) // 60_000)


def kpi_tiles(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary.get(k) for k in KPI_FIELDS}


def _kpi_key(tiles: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(v if (d := KPI_FIELDS[k]) is None or v is None else round(v, d)
                 for k, v in tiles.items())


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
        now_ms = int(time.time() * 1000)
        techs = [tech_row(t) for _, t in sorted(feed.rv.techs.items())]
        tiles = kpi_tiles(feed.kpis.summary(now_ms))
        feed.unchanged(ref.topic + "#kpis", _kpi_key(tiles))
        for row in techs:
            feed.unchanged(ref.topic + "#" + row["id"], _tech_key(row))
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
        techs = self._techs(feed, ref, entry, change)
        if techs:
            out["techs"] = techs
        tiles = self._kpis(feed, ref, entry)
        if tiles is not None:
            out["kpis"] = tiles
        if not out:
            return None
        kind = next(k for k in ("job", "etas", "techs", "kpis") if k in out)
        return Message(kind, out)

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

    def _techs(self, feed: Any, ref: Ref, entry: Entry, change: Any) -> list[dict[str, Any]]:
        ids = set(change.techs)
        if change.moved:
            ids.add(change.moved)
        rows = []
        for tid in sorted(ids):
            t = feed.rv.techs.get(tid)
            if t is None:
                if entry.type == "tech_removed":
                    rows.append({"id": tid, "removed": True})
                continue
            row = tech_row(t)
            if not feed.unchanged(ref.topic + "#" + tid, _tech_key(row)):
                rows.append(row)
        return rows

    def _kpis(self, feed: Any, ref: Ref, entry: Entry) -> dict[str, Any] | None:
        if feed.kpis is None:
            return None
        if entry.type == "gps":
            at = feed._last.get(ref.topic + "#kpi_at") or 0
            if entry.ts - at < KPI_EVERY_MS:
                return None
            feed._last[ref.topic + "#kpi_at"] = entry.ts
        tiles = kpi_tiles(feed.kpis.summary(entry.ts))
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
