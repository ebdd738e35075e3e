"""arq tasks of dispatch: recomputes, offer timers and the periodic sweep.

``realtime/worker.py`` adds ``FUNCTIONS`` and ``CRON_JOBS`` to the worker and calls
``startup`` / ``shutdown``. ``ArqEnqueuer`` is what engines use to ask for work:

- ``dispatch_recompute(region)`` with ``_job_id=f"recompute:{region}"``: while one is queued
  or running, asking again is a no-op — the running one loops while work is queued, so a
  burst of triggers is one recompute (and the lock makes it one per region anywhere);
- ``dispatch_offer_timeout(region, job, n)`` deferred to the offer's deadline
  (``_job_id=f"offer:{job}:{n}"``);
- ``dispatch_sweep`` every 10 s: regions due a periodic recompute, work left queued (a
  trigger that raced a finishing recompute), open offers past their deadline (a lost timer),
  the KPI checkpoint (compare-and-set: dispatch/checkpoint.py), and trimming the region
  streams (never past the checkpoint).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from arq import cron, func
from arq.connections import ArqRedis
from arq.worker import Retry

from dispatch import keys
from dispatch.engine import DispatchEngine
from dispatch.errors import RegionBusy
from dispatch.recompute import WHOLE, Recomputer
from dispatch.store import Store

log = logging.getLogger("switchboard.dispatch")
CTX_KEY = "dispatch"
# A settle's pass runs this long after its end (so clocks a few ms apart do not make it
# find the settle still on and retry again).
SETTLE_LATE_S = 0.05


class ArqEnqueuer:
    def __init__(self, arq: ArqRedis) -> None:
        self.arq = arq

    async def recompute(self, region: str, reason: str, defer_s: float = 0.0) -> None:
        # One job id per region: while it is queued (deferred too) or running, asking again
        # is a no-op, so the triggers of a start-of-shift settle all go into its one pass.
        await self.arq.enqueue_job("dispatch_recompute", region, reason,
                                   _job_id=f"recompute:{region}",
                                   _defer_by=defer_s if defer_s > 0 else None)

    async def offer_timeout(self, region: str, job: str, n: int, deadline_ms: int) -> None:
        at = datetime.fromtimestamp(deadline_ms / 1000, UTC)
        await self.arq.enqueue_job("dispatch_offer_timeout", region, job, n,
                                   _job_id=f"offer:{job}:{n}", _defer_until=at)


def arq_redis(redis: Any) -> ArqRedis:
    """An ArqRedis sharing ``redis``'s connection pool (the web process enqueues with it)."""
    if isinstance(redis, ArqRedis):
        return redis
    return ArqRedis(connection_pool=redis.connection_pool)


@dataclass
class Services:
    engine: DispatchEngine
    recomputer: Recomputer
    history_ttl_s: int = 600
    history_min_entries: int = 1000


def services(redis: Any, history_ttl_s: int = 600, history_min_entries: int = 1000,
             **engine_kw: Any) -> Services:
    arq = arq_redis(redis)
    engine = DispatchEngine(Store(arq), enqueuer=ArqEnqueuer(arq), **engine_kw)
    return Services(engine, Recomputer(engine), history_ttl_s, history_min_entries)


async def recompute(svc: Services, region: str, reason: str = "event") -> dict[str, Any]:
    rc = svc.recomputer
    reports = await rc.run(region, reason)
    wait = await rc.settling(region)
    if wait > 0 and await rc.has_work(region):
        # A start-of-shift settle began while this job was queued or running (same job id:
        # the settle's deferred job was a no-op). Run again when it ends, as that job would.
        raise Retry(defer=wait + SETTLE_LATE_S)
    for r in reports:
        log.info("recompute %s %s %s: %d techs, %d jobs, %d inserted, %d offers, churn "
                 "%d/%d%s %s", region, r.mode, r.reason, r.techs, r.jobs, r.inserted,
                 r.offers, r.moved, r.planned, " STALE" if r.stale else "", r.ms)
    return {"passes": len(reports), "offers": sum(r.offers for r in reports),
            "stale": any(r.stale for r in reports)}


async def offer_timeout(svc: Services, region: str, job: str, n: int) -> bool:
    return await svc.engine.expire_offer(region, job, n)


async def sweep(svc: Services) -> dict[str, int]:
    eng = svc.engine
    now = eng.clock()
    out = {"regions": 0, "recomputes": 0, "expired": 0}
    for region in await eng.regions():
        out["regions"] += 1
        try:
            cfg = await eng.config(region)
        except Exception:  # a region being deleted or broken must not stop the sweep
            log.exception("sweep: region %s", region)
            continue
        p = keys.prefix(region)
        for jid, _ in await eng.redis.zrangebyscore(p + "offers", "-inf", now, withscores=True):
            n = await eng.redis.hget(p + "job:" + jid.decode(), "offer_n")  # type: ignore[misc]
            if n is not None and await eng.expire_offer(region, jid.decode(), int(n)):
                out["expired"] += 1
        at = await eng.redis.hget(p + "plan", "full_at")  # type: ignore[misc]
        if at is None or now - int(at) >= cfg.policy.recompute_every_s * 1000:
            await eng.redis.sadd(p + "dirty", WHOLE)  # type: ignore[misc]
        if await svc.recomputer.has_work(region):
            await eng.enqueuer.recompute(region, "sweep")
            out["recomputes"] += 1
        try:
            k = await eng.kpis(region, fold=True)
        except RegionBusy:  # other folds kept winning: theirs stands, trim next round
            log.warning("sweep: the KPI checkpoint of %s kept changing", region)
            continue
        await eng.trim(region, svc.history_ttl_s * 1000, svc.history_min_entries, k.offset)
    return out


# -- the arq functions (ctx[CTX_KEY] is set by startup) -------------------------------------

async def dispatch_recompute(ctx: dict[str, Any], region: str, reason: str = "event"
                             ) -> dict[str, Any]:
    return await recompute(ctx[CTX_KEY], region, reason)


async def dispatch_offer_timeout(ctx: dict[str, Any], region: str, job: str, n: int) -> bool:
    return await offer_timeout(ctx[CTX_KEY], region, job, n)


async def dispatch_sweep(ctx: dict[str, Any]) -> dict[str, int]:
    return await sweep(ctx[CTX_KEY])


async def startup(ctx: dict[str, Any], history_ttl_s: int = 600,
                  history_min_entries: int = 1000, clock: Callable[[], int] | None = None
                  ) -> None:
    """``clock``: the process's time, epoch ms (the worker passes realtime/clock.py's,
    Redis's while its host's clock is off, as its queue engine goes by); None: the host's."""
    kw: dict[str, Any] = {} if clock is None else {"clock": clock}
    ctx[CTX_KEY] = services(ctx["redis"], history_ttl_s, history_min_entries, **kw)


async def shutdown(ctx: dict[str, Any]) -> None:
    ctx.pop(CTX_KEY, None)


FUNCTIONS: list[Any] = [
    func(dispatch_recompute, keep_result=0, timeout=3600, max_tries=3),
    func(dispatch_offer_timeout, keep_result=0, max_tries=5),
    func(dispatch_sweep, keep_result=0),
]
CRON_JOBS: list[Any] = [
    cron(dispatch_sweep, second=set(range(0, 60, 10)), run_at_startup=True, keep_result=0,
         unique=True),
]
