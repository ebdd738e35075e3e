"""Erasing one customer's data, or one technician's location history, in a dispatch region,
on request (GDPR art. 17, PIPL art. 47): the dispatch side of queueing/erase.py, built the
same way.

A customer is named by a phone number (every job of the region holding it, in any
spelling: dispatch/personal.py) and/or a job. Jobs have no index by number, so the region's
are scanned (they live a week after they end). Each job is changed by its own script
(lua/erase_job.lua), which checks again what it erases; the region's event entries that
carry the customer's jobs or number are deleted, the trim mark moved past them, and one
``erased`` entry records what was done, with a keyed reference, never the number
(queueing/lua/erase_events.lua, reused). A technician is named by id: its GPS history goes
(lua/erase_tech.lua) with the stream entries that hold its positions; with ``profile`` the
technician itself goes (lua/tech_remove.lua, as ``DispatchEngine.remove_tech``: refused
while it has work) with every entry holding its hash. The KPIs are folded into their
checkpoint (compare-and-set, dispatch/checkpoint.py) after the entries to delete are found
and before they are deleted, so deleting them changes no KPI. docs/privacy.md says what is
kept where.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

import msgspec
from redis.asyncio import Redis

from dispatch import checkpoint, keys
from dispatch.engine import Actor, DispatchEngine, _region_of
from dispatch.errors import BadRequest, Conflict, UnknownJob, UnknownTechnician
from dispatch.model import COMMITTED, TERMINAL
from dispatch.personal import (
    COARSE_PLACES,
    TEXTS,
    Customer,
    redacted_copy,
    seen,
    technician_location,
)
from dispatch.store import Store
from queueing import phone
from queueing.erase import _chunks
from queueing.luafn import Library
from queueing.personal import reference

SCRIPTS = ("erase_job", "erase_tech", "erase_events")
BATCH = 1000
# What a job cancelled at its customer's request says (the technician and the org see it).
CANCEL_REASON = "customer_request"
# Rewrites the answers kept for retried job creations in a region (realtime/idempotency.py
# ``rewrite``): (region, change) → how many; ``change`` returns a new answer or None.
Change = Callable[[dict[str, Any]], dict[str, Any] | None]
Replies = Callable[[str, Change], Awaitable[int]]


def library(redis: Redis, mode: str = "auto") -> Library:
    """The erasure's scripts on the dispatch prelude; erase_events is the queue side's."""
    base = resources.files("dispatch") / "lua"
    queue = resources.files("queueing") / "lua"
    prelude = (base / "prelude.lua").read_text() + "\n" + (base / "erase_prelude.lua").read_text()
    bodies = {name: ((queue if name == "erase_events" else base) / f"{name}.lua").read_text()
              for name in SCRIPTS}
    return Library(redis, "sbde", prelude, bodies, mode)


@dataclass(frozen=True, slots=True)
class Request:
    """Who to erase in ``region``: a phone number (as given), a job, a technician (its
    location history; with ``profile`` the technician itself, one who left)."""

    region: str
    phone: str | None = None
    job: str | None = None
    technician: str | None = None
    cancel_open: bool = False  # cancel the customer's open jobs not yet under way
    profile: bool = False


class RegionEraser:
    """Erases one customer or technician at a time. Safe to repeat: what is erased is not
    found again (an open job, which keeps what serving it needs, answers zero too)."""

    def __init__(self, engine: DispatchEngine, secret: str, mode: str = "auto",
                 replies: Replies | None = None) -> None:
        self.engine = engine
        self.replies = replies
        self.secret = secret  # keys the number's reference
        self.redis = engine.redis
        self.store = Store(self.redis, scripts=library(self.redis, mode))

    async def erase(self, req: Request, actor: Actor) -> dict[str, Any]:
        """Erase, then answer the counts per kind and the number's reference. Bad input
        (unknown region, job or technician; no number) is refused before anything changes."""
        region = req.region
        cfg = await self.engine.config(region)  # unknown_region first
        country = cfg.phone_region()
        number = None if req.phone is None else phone.normalise(req.phone, country)
        ref = reference(self.secret, f"region:{region}", number) if number else None
        await self._check(req)
        named = Customer(number, frozenset({req.job} if req.job else ()), country, ref)
        done = {"jobs": 0, "open_kept": 0, "actions": 0, "replies": 0, "fixes": 0,
                "positions": 0, "profile": 0}
        if req.profile:  # first: refused (technician_busy) before anything changed
            done.update(await self._remove(req.technician or "", actor))
        found = await self._find(region, named)
        cancelled, still_open = 0, set()
        for jid in sorted(found.jobs):
            if req.cancel_open and await self._cancel(jid, actor):
                cancelled += 1
            r = await self._redact(region, jid, found, named, ref, actor)
            done["jobs"] += r.get("erased", 0)
            done["open_kept"] += int(bool(r.get("erased") and r.get("open")))
            if r.get("open"):
                still_open.add(jid)
        found = replace(found, open=frozenset(still_open))
        if found.jobs:
            done["actions"] += await self._actions(region, found)
            done["replies"] = 0 if self.replies is None else await self.replies(
                region, lambda body: _redacted(found, body))
        if req.technician is not None and not req.profile:
            t = await self.store.run("erase_tech", region, self.engine.clock(), actor.subject,
                                     actor.via, req.technician)
            done["fixes"], done["positions"] = t["fixes"], t["position"]
        audit = {"counts": done, "cancelled": cancelled, "reference": ref,
                 "erased_job": req.job, "erased_technician": req.technician}
        done["events"] = await self._events(region, found, req, audit, actor)
        if done["positions"]:
            await self._forget_position(region, req.technician or "")
        return {"region": region, "erased": done, "cancelled": cancelled, "reference": ref}

    # -- finding ----------------------------------------------------------------------------

    async def _check(self, req: Request) -> None:
        """The job and the technician named must be the region's. A technician's profile
        may be erased after it was removed (what the stream still holds of it)."""
        p = keys.prefix(req.region)
        if req.job is not None and (_region_of(req.job, UnknownJob) != req.region
                                    or not await self.redis.exists(p + "job:" + req.job)):
            raise UnknownJob(f"no job {req.job} in region {req.region}")
        if req.profile and req.technician is None:
            raise BadRequest("profile erases a technician: name it", field="technician")
        if req.technician is not None and (
                _region_of(req.technician, UnknownTechnician) != req.region
                or not (req.profile or await self.redis.exists(p + "tech:" + req.technician))):
            raise UnknownTechnician(f"no technician {req.technician} in region {req.region}")

    async def _find(self, region: str, named: Customer) -> Customer:
        """``named`` with every job of the region holding the number (or its reference)."""
        if named.phone is None:
            return named
        fields = ["id", *TEXTS, "erased"]
        found: set[str] = set()
        async for batch in _chunks(self.redis.scan_iter(
                match=keys.prefix(region) + "job:*", count=BATCH)):
            pipe = self.redis.pipeline(transaction=False)
            for key in batch:
                pipe.hmget(key.decode(), fields)
            for row in await pipe.execute():
                j = {f: v.decode() for f, v in zip(fields, row, strict=True) if v is not None}
                if j.get("id") and named.job(j):
                    found.add(j["id"])
        return replace(named, jobs=named.jobs | found)

    # -- changing ---------------------------------------------------------------------------

    async def _redact(self, region: str, jid: str, found: Customer, named: Customer,
                      ref: str | None, actor: Actor) -> dict[str, Any]:
        """One job, in its own script: as read (found by the number) or whatever it holds
        (named)."""
        read = ""
        if jid not in named.jobs:
            row = await self.redis.hmget(keys.prefix(region) + "job:" + jid,  # type: ignore[misc]
                                         list(TEXTS))
            texts = {f: (v or b"").decode() for f, v in zip(TEXTS, row, strict=True)}
            read = msgspec.json.encode(seen(texts)).decode()
        return await self.store.run("erase_job", region, self.engine.clock(), actor.subject,
                                    actor.via, jid, read, ref or "", COARSE_PLACES)

    async def _actions(self, region: str, found: Customer) -> int:
        """Device actions' answers, kept two days for a device that sends an action again
        (``act:<tech>:<aid>``), carry the job as it was: rewritten without the customer's
        texts (a repeated action is still answered as a replay)."""
        n = 0
        async for batch in _chunks(self.redis.scan_iter(
                match=keys.prefix(region) + "act:*", count=BATCH)):
            for key, raw in zip(batch, await self.redis.mget(batch), strict=True):
                if raw is None:
                    continue
                fp, _, res = raw.decode().partition("\n")
                answer = msgspec.json.decode(res)
                j = answer.get("job")
                if not (isinstance(j, dict) and found.job(j)) or redacted_copy(j) == j:
                    continue
                answer["job"] = redacted_copy(j)
                value = fp + "\n" + msgspec.json.encode(answer).decode()
                n += bool(await self.redis.set(key, value, keepttl=True, xx=True))
        return n

    async def _remove(self, tech: str, actor: Actor) -> dict[str, int]:
        """The technician itself (one who left), unless it is gone already."""
        try:
            r = await self.engine.remove_tech(tech, actor)
        except UnknownTechnician:
            return {}
        return {"profile": 1, "fixes": r["fixes"], "actions": r["actions"],
                "positions": 1}

    async def _cancel(self, jid: str, actor: Actor) -> bool:
        """Cancel an open job not yet under way; one en route or on site is left to its
        technician (as a ticket being served is left to its counter), an ended one as it is."""
        try:
            j = await self.engine.job_record(jid)
            if j.get("status") in TERMINAL | COMMITTED:
                return False
            await self.engine.cancel_job(jid, CANCEL_REASON, actor)
            return True
        except (Conflict, UnknownJob):
            return False

    async def _events(self, region: str, found: Customer, req: Request,
                      audit: dict[str, Any], actor: Actor) -> int:
        """Find the region's entries that carry the customer's data or the technician's
        positions (or profile), fold the KPIs over them, delete them, then append the
        ``erased`` entry."""
        tech = req.technician
        stream, start, doomed = keys.events(region), "-", []
        while True:
            rows = await self.redis.xrange(stream, start, "+", count=BATCH)
            for eid, f in rows:
                etype, data = f[b"t"].decode(), msgspec.json.decode(f.get(b"d", b"{}"))
                if ((found.phone or found.jobs) and found.entry(data, f.get(b"d", b""))) or (
                        tech is not None and technician_location(etype, data, tech,
                                                                 req.profile)):
                    doomed.append(eid.decode())
            if len(rows) < BATCH:
                break
            start = "(" + rows[-1][0].decode()
        # What is deleted stays counted: the fold reads the stream after the search, so
        # its checkpoint is past every entry found, and it is written only over the
        # checkpoint it started from (a worker's older fold cannot replace it after).
        await self.engine.kpis(region, fold=True)
        gone = 0
        for i in range(0, len(doomed), BATCH):
            gone += (await self._run_events(region, actor, "", doomed[i:i + BATCH]))["events"]
        audit["counts"] = {**audit["counts"], "events": gone}
        await self._run_events(region, actor, msgspec.json.encode(audit).decode(), [])
        return gone

    async def _forget_position(self, region: str, tech: str) -> None:
        """An offline technician's last position in the KPI checkpoint (where empty driving
        is measured from) goes with the rest of its position (compare-and-set: a worker's
        fold meanwhile started from the checkpoint that held it is refused)."""
        def forget(state: dict[str, Any]) -> bool:
            return (state.get("tech_pos") or {}).pop(tech, None) is not None
        await checkpoint.change(self.engine.store, region, forget)

    async def _run_events(self, region: str, actor: Actor, audit: str, ids: list[str]
                          ) -> dict[str, Any]:
        return await self.store.run("erase_events", region, self.engine.clock(), actor.subject,
                                    actor.via, audit, *ids)


def _redacted(found: Customer, answer: dict[str, Any]) -> dict[str, Any] | None:
    """A job creation's kept answer without the customer's data (None: not theirs, or
    nothing left to take out)."""
    new = redacted_copy(answer, None)
    return new if found.job(answer) and new != answer else None
