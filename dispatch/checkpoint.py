"""The region's KPI checkpoint (``…:kpi``): the KPI state (dispatch/kpi.py) folded up to a
stream offset, so that a reader continues from it with the entries after the offset, and
the stream can be trimmed (or entries erased) up to it without changing a KPI.

Several processes fold at once — the worker's sweep every 10 s, an erasure before it deletes
entries, anyone calling ``DispatchEngine.kpis(region, fold=True)`` — and a fold is a read,
a computation and a write. So the write is a compare-and-set (lua/kpi_put.lua): it happens
only if the stored checkpoint is still, byte for byte (its SHA-1), the one the fold started
from; otherwise the fold starts again from the newer one. Without it a fold from an older
checkpoint could overwrite a newer one: the checkpoint moved back behind entries trimmed or
erased since (their steps lost for good), or, worse, computed from a stream read after an
erasure deleted entries it had not counted yet. A read compares too (without writing), so
it never answers from such a stream either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import msgspec

from dispatch import keys
from dispatch.errors import RegionBusy
from dispatch.kpi import Kpis
from dispatch.store import Store

# Each try reads only what was appended since the newer checkpoint: a few tries is plenty.
TRIES = 8
PAGE = 5000


def _sha(raw: bytes | None) -> str:
    return "" if raw is None else hashlib.sha1(raw, usedforsecurity=False).hexdigest()


async def _put(store: Store, region: str, read: bytes | None, new: bytes) -> bool:
    """Write ``new`` ('' : only compare) if the checkpoint is still ``read``."""
    r = await store.run("kpi_put", region, 0, "", "", _sha(read), new.decode())
    return bool(r["same"])


async def _follow(store: Store, region: str, k: Kpis) -> int:
    """Apply every entry after ``k.offset``; how many."""
    stream, n = keys.events(region), 0
    while True:
        rows = await store.redis.xrange(stream, "(" + k.offset, "+", count=PAGE)
        for eid, f in rows:
            k.apply(f[b"t"].decode(), int(f[b"ts"]), msgspec.json.decode(f[b"d"]),
                    eid.decode())
        n += len(rows)
        if len(rows) < PAGE:
            return n


async def fold(store: Store, region: str, write: bool, tz: str = "UTC") -> Kpis:
    """The region's KPIs now: the checkpoint plus every entry after it, per local day of
    ``tz`` (the region's time zone); with ``write``, the checkpoint moved up to them (days
    older than ``kpi.KEEP_DAYS`` dropped). Raises ``RegionBusy`` (temporary) if the
    checkpoint kept changing under it."""
    key = keys.prefix(region) + "kpi"
    for _ in range(TRIES):
        raw = await store.redis.get(key)
        k = Kpis.from_builtins(msgspec.json.decode(raw), tz) if raw else Kpis(tz=tz)
        moved = await _follow(store, region, k)
        new = msgspec.json.encode(k.to_builtins()) if write and (moved or raw is None) else b""
        if await _put(store, region, raw, new):
            return k
    raise RegionBusy(f"the KPI checkpoint of region {region} kept changing; try again")


async def change(store: Store, region: str,
                 edit: Callable[[dict[str, Any]], bool]) -> bool:
    """Edit the stored checkpoint in place (``edit`` changes the decoded state and says
    whether it did), compare-and-set as a fold; False: no checkpoint, or nothing to do."""
    key = keys.prefix(region) + "kpi"
    for _ in range(TRIES):
        raw = await store.redis.get(key)
        if raw is None:
            return False
        state = msgspec.json.decode(raw)
        if not edit(state):
            return False
        if await _put(store, region, raw, msgspec.json.encode(state)):
            return True
    raise RegionBusy(f"the KPI checkpoint of region {region} kept changing; try again")
