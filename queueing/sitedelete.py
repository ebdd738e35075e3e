"""A mistyped site id, found and undone: which existing ids are close to one, the refusal
of a new id that differs only by case from an existing one, and the deletion of a site that
was never used (``DELETE /v1/sites/{site}``).

A site is *never used* when its keys (``keys.prefix(site)``: one Cluster slot) are only
its set-up — the document, the lookups ``put_site`` derives from it, each counter's state
while closed and serving nobody, a booking schedule — and its event stream holds only
set-up events (and its audit trail holds only who saved its set-up). A ticket, a booking,
an audit record of anything else, a day log, an opened counter, a text:
any of these is history, and the site stays (``409 site_in_use``, nothing changed).

Every change to a site appends to its event stream in the same step (queueing/store.py),
so the deletion watches the stream and the document: a change between the check and the
deletion aborts it (``409 site_changed``), and nothing is deleted.
"""

from __future__ import annotations

import difflib
import json
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import WatchError

from queueing import keys
from queueing.errors import Conflict, SiteChanged, UnknownSite

# Keys a set-up-only site has (the part after its prefix). ``cs:*`` are checked apart.
SETUP_KEYS = frozenset({"config", "svc", "ctr", "cls", "policy", "epoch", "events",
                        "bk:config", "bk:ver", "nt:cursor", "trimmed"})
# Keys whose name goes on (a day's): the day close's mark, the day views' end states.
SETUP_KINDS = ("dayclose:", "dayend:")
# A day close at a site with no ticket ends nothing: a typo found the next day still goes.
# The stream is trimmed after minutes ("trimmed"), but the audit trail keeps every other
# change for weeks, and is read too.
SETUP_EVENTS = frozenset({"site_updated", "booking_schedule", "day_closed"})
BATCH = 500
AUDIT_SETUP_MAX = 1000  # more set-up records than this in one day: not a typo's site


class SiteInUse(Conflict):
    """``DELETE /v1/sites/{site}`` of a site with history (``details.found``: what)."""

    code = "site_in_use"


class SiteIdCase(Conflict):
    """A new site whose id differs only by case from an existing one (``details.existing``):
    Main-Hospital next to main-hospital is a typo far more often than a second site."""

    code = "site_id_case"


def close_ids(wanted: str, existing: list[str], n: int = 3) -> list[str]:
    """The existing ids ``wanted`` is probably a typo of: the same but for case first, then
    the closest by ``difflib`` (case-insensitive), at most ``n``."""
    low = {s.lower(): s for s in existing}
    same = [s for s in existing if s.lower() == wanted.lower() and s != wanted]
    near = [low[m] for m in difflib.get_close_matches(wanted.lower(), list(low), n, 0.75)]
    return list(dict.fromkeys([*same, *(s for s in near if s != wanted)]))[:n]


def refuse_case_twin(site: str, existing: list[str]) -> None:
    """A new ``site`` next to an existing id equal but for case: refused (``site_id_case``)."""
    if site in existing:
        return
    twins = [s for s in existing if s.lower() == site.lower()]
    if twins:
        raise SiteIdCase(f"site {twins[0]!r} already exists: {site!r} differs from it only "
                         "by case, which is most often a typo; use that site, or choose an "
                         "id that differs by more than case", site=site, existing=twins[0],
                         field="site")


async def _setup_audit(redis: Redis, key: bytes) -> bool:
    """Whether a day's audit records (queueing/audit.py) are only of the site's set-up
    (who saved it when): a few, each ``{"k": "site_updated", …}``."""
    if await redis.zcard(key) > AUDIT_SETUP_MAX:
        return False
    for raw in await redis.zrange(key, 0, -1):
        try:
            kind = json.loads(raw).get("k")
        except (ValueError, AttributeError):
            return False
        if kind not in SETUP_EVENTS:
            return False
    return True


async def history(redis: Redis, site: str) -> tuple[list[bytes], list[str]]:
    """The site's keys, and what of them is history (empty: a set-up-only site)."""
    p = keys.prefix(site)
    found: list[bytes] = []
    used: set[str] = set()
    async for key in redis.scan_iter(match=p + "*", count=BATCH):
        found.append(key)
        rest = key[len(p):].decode(errors="replace")
        if rest in SETUP_KEYS or rest.startswith(SETUP_KINDS):
            continue
        if rest.startswith("cs:"):
            state = await redis.hgetall(key)  # type: ignore[misc]
            if state.get(b"state", b"closed") == b"closed" and not state.get(b"ticket"):
                continue
            used.add("counter_opened")
            continue
        if rest.startswith("audit:") and await _setup_audit(redis, key):
            continue
        used.add(rest.split(":", 1)[0])
        if len(used) >= 20:  # a busy site: enough said (no need to list its every ticket)
            break
    async for _ in redis.scan_iter(match=f"{keys.ROOT}:booking:{site}:*", count=BATCH):
        used.add("booking")
        break
    start = "-"
    while not used:  # the stream, until its first event that is not set-up
        batch = await redis.xrange(p + "events", min=start, count=100)
        for _id, fields in batch:
            kind = fields.get(b"t", b"").decode()
            if kind not in SETUP_EVENTS:
                used.add(f"event:{kind}")
        if len(batch) < 100:
            break
        start = "(" + batch[-1][0].decode()
    return found, sorted(used)


async def delete_site(redis: Redis, site: str) -> dict[str, Any]:
    """Remove a never-used site and every key of it: ``UnknownSite`` if there is none,
    ``SiteInUse`` if it has history, ``SiteChanged`` if it changed meanwhile."""
    p = keys.prefix(site)
    if not await redis.exists(p + "config"):
        raise UnknownSite(f"unknown site {site}", site=site)
    found, used = await history(redis, site)
    if used:
        raise SiteInUse(f"site {site!r} has history ({', '.join(used[:8])}): only a site "
                        "that never had a ticket, booking, opened counter or other record "
                        "can be deleted", site=site, found=used[:20])
    changed = SiteChanged(f"site {site!r} changed while it was being deleted: read it "
                          "again", site=site)
    async with redis.pipeline(transaction=True) as pipe:
        try:
            await pipe.watch(p + "events", p + "config")
            again, used = await history(redis, site)
            if used or set(again) != set(found):
                raise changed
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.delete(*found)
            await pipe.execute()
        except WatchError:
            raise changed from None
    # Outside the site's slot, so apart (as put_site adds to it): the index of sites, and
    # the rate-limit buckets (they expire anyway).
    await redis.srem(keys.SITES, site)  # type: ignore[misc]
    limits = [k async for k in redis.scan_iter(match=f"{keys.ROOT}:rl:*:{{site:{site}}}:*",
                                               count=BATCH)]
    for key in limits:
        await redis.delete(key)
    return {"deleted": site, "keys": len(found) + len(limits)}
