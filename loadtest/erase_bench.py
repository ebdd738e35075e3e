"""How long erasing one person takes on a busy site (docs/privacy.md).

Fills a private Redis with one site's week of tickets (``--tickets``, each with its own
number, most of them ended), gives one number to three of them, and times the erasure of
that number: the scans of the site's tickets and bookings (no index by number), the
short links and the event stream, then the changes. Twice: with the stream as long as the
tickets made it (no hub trimmed it), and as a hub keeps it on a quiet site (1,000 entries).

    python -m loadtest.erase_bench --tickets 50000

``--jobs N`` does the same for a dispatch region (dispatch/erase.py): N jobs, each with
its own customer and number in its ``customer`` text, most of them ended (cancelled), one
number on three of them (in three spellings, in ``customer`` or ``note``).

    python -m loadtest.erase_bench --jobs 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from dispatch.engine import Actor as DispatchActor
from dispatch.engine import DispatchEngine
from dispatch.erase import RegionEraser
from dispatch.erase import Request as RegionRequest
from dispatch.model import BatchRequest, JobRequest, OrgSpec, Point, RegionConfig
from dispatch.store import Store as DispatchStore
from queueing import redisconn
from queueing.booking.engine import BookingEngine
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.erase import Eraser, Request
from queueing.model import Channel, TicketRequest
from queueing.store import Store
from realtime.redisproc import EmbeddedRedis, _version, find_binary

ACTOR = Actor("bench", "bench")
SITE = "bench"


async def _fill(engine: Engine, n: int, person: str, concurrency: int = 32) -> None:
    await engine.put_site(SITE, demo_site(), ACTOR)
    rng = random.Random(1)
    numbers = [f"+86139{rng.randrange(10**8):08d}" for _ in range(n)]
    for i in (n // 4, n // 2, n - 1):  # three of their tickets: two ended, one open
        numbers[i] = person
    todo = iter(range(n))

    async def one() -> None:
        for i in todo:
            t = (await engine.issue(SITE, TicketRequest(
                service="internal", channel=Channel.KIOSK, notify=numbers[i]), ACTOR)).ticket
            if i < n - n // 50:  # most of a week's tickets have ended
                await engine.cancel(t["id"], ACTOR, reason="by_staff")

    await asyncio.gather(*(one() for _ in range(concurrency)))


async def _run(url: str, n: int) -> dict[str, Any]:
    redis = redisconn.connect(url)
    engine = Engine(Store(redis), config_ttl_s=0)
    eraser = Eraser(engine, BookingEngine(engine), "bench-secret-0123456789abcdef0123")
    person = "+8613800138000"
    t0 = time.perf_counter()
    await _fill(engine, n, person)
    out: dict[str, Any] = {"tickets": n, "fill_s": round(time.perf_counter() - t0, 1),
                           "keys": await redis.dbsize(),
                           "stream": await redis.xlen(f"sb:{{site:{SITE}}}:events")}
    t0 = time.perf_counter()
    r = await eraser.erase(Request(SITE, person), ACTOR)
    out["erase_untrimmed_s"] = round(time.perf_counter() - t0, 2)
    out["erased"] = r["erased"]
    # As a hub leaves it ten minutes later: the last 1,000 entries (the trim's own rule
    # keeps every entry of the last ten minutes, and these are all from the last minute).
    await redis.xtrim(f"sb:{{site:{SITE}}}:events", maxlen=1000)
    t0 = time.perf_counter()
    await eraser.erase(Request(SITE, "+8613900000000"), ACTOR)
    out["erase_trimmed_s"] = round(time.perf_counter() - t0, 2)
    await redis.aclose()
    return out


async def _fill_region(eng: DispatchEngine, n: int, concurrency: int = 32) -> None:
    who = DispatchActor("bench", "bench")
    await eng.put_region(SITE, RegionConfig(timezone="Europe/Amsterdam"), who)
    await eng.put_org(f"{SITE}.acme", OrgSpec("ACME"), who)
    rng = random.Random(1)
    texts = [(f"Klant {i} 06{rng.randrange(10**8):08d}", "") for i in range(n)]
    for i, t in zip((n // 4, n // 2, n - 1), (("Anna", "bel 06-12345678"),
                                              ("Anna Smit 0612345678", ""),
                                              ("Anna", "+31 6 1234 5678")), strict=True):
        texts[i] = t
    ids: list[str] = []
    for start in range(0, n, 1000):
        jobs = [JobRequest(location=Point(52.3 + rng.random() / 10, 4.8 + rng.random() / 10),
                           customer=c, note=note, address=f"Straat {i}")
                for i, (c, note) in enumerate(texts[start:start + 1000], start)]
        ids += (await eng.create_batch(f"{SITE}.acme", BatchRequest(jobs), who))["jobs"]
    ended = iter(ids[: n - n // 50])  # most of a week's jobs have ended

    async def one() -> None:
        for jid in ended:
            await eng.cancel_job(jid, "bench", who)

    await asyncio.gather(*(one() for _ in range(concurrency)))


async def _run_region(url: str, n: int) -> dict[str, Any]:
    redis = redisconn.connect(url)
    eng = DispatchEngine(DispatchStore(redis), config_ttl_s=0)
    eraser = RegionEraser(eng, "bench-secret-0123456789abcdef0123")
    who = DispatchActor("bench", "bench")
    t0 = time.perf_counter()
    await _fill_region(eng, n)
    stream = f"sb:{{region:{SITE}}}:events"
    out: dict[str, Any] = {"jobs": n, "fill_s": round(time.perf_counter() - t0, 1),
                           "keys": await redis.dbsize(), "stream": await redis.xlen(stream)}
    t0 = time.perf_counter()
    r = await eraser.erase(RegionRequest(SITE, "+31612345678"), who)
    out["erase_untrimmed_s"] = round(time.perf_counter() - t0, 2)
    out["erased"] = r["erased"]
    await redis.xtrim(stream, maxlen=1000)
    t0 = time.perf_counter()
    await eraser.erase(RegionRequest(SITE, "+31600000000"), who)
    out["erase_trimmed_s"] = round(time.perf_counter() - t0, 2)
    await redis.aclose()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtest.erase_bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=50_000)
    ap.add_argument("--jobs", type=int, default=0, help="a dispatch region's jobs instead")
    ap.add_argument("--redis-server", default=None, help="redis-server binary")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="h2-erase-") as tmp:
        redis = EmbeddedRedis(Path(tmp), args.redis_server)
        redis.start()
        try:
            result = asyncio.run(_run_region(redis.url, args.jobs) if args.jobs
                                 else _run(redis.url, args.tickets))
        finally:
            redis.stop()
    exe = find_binary(args.redis_server)
    result["redis"] = f"{exe} {'.'.join(map(str, _version(exe)))}"
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
