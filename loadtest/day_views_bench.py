"""How long the day views take on a busy site, and how long they stall everyone else.

Writes a realistic day log straight into a private Redis — ``--days`` local days (today and
the days before it) of ``--tickets`` tickets each (issued, called with the estimate
announced, completed or absent: three records a ticket) at ``--counters`` counters (opened,
paused, reopened, closed) — starts ``switchboard serve`` on it (one process, 127.0.0.1),
then times each request (``--repeat`` times; the median, and for a past day also the first
request after the computed views were dropped: ``cold``) while a second connection asks
``GET /healthz`` every 2 ms: the slowest of those answers during a request is how long the
server's event loop — every websocket of the process — was held up (``stall_ms``).

Then (``startup``) a hub's first contact with the site, as after a restart: the wait
estimator warms the site's rates with the last week of its day log (realtime/estimates.py),
here in this process with the server's code, while a loop-lag probe (a 1 ms sleep, again and
again) measures how late the event loop wakes: the worst and the 99th percentile of that
lateness is how long the warm-up held every websocket of a process up.

    python -m loadtest.day_views_bench [--tickets 20000] [--counters 40] [--days 8]
                                       [--repeat 5] [--startup-only] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from queueing import keys, redisconn
from queueing.daylog import KEEP_DAYS
from queueing.model import Counter, Service, SiteConfig
from queueing.numbering import local_day
from queueing.openings import local_ms
from realtime.redisproc import _version, find_binary

SITE = "bench"
TZ = "Asia/Shanghai"
SECRET = "bench-secret-0123456789abcdef0123"
SERVICES = ("s1", "s2", "s3", "s4", "s5")
STAFF = 60


def bench_site(counters: int) -> SiteConfig:
    svcs = [Service(s, f"Service {s}", chr(ord("A") + i)) for i, s in enumerate(SERVICES)]
    ctrs = [Counter(f"c{i}", f"Counter {i}", list(SERVICES[i % 3: i % 3 + 3]))
            for i in range(counters)]
    return SiteConfig(name="Bench", timezone=TZ, languages=["en"], services=svcs,
                      counters=ctrs)


def day_log(day: str, tickets: int, counters: int, rng: random.Random,
            until: int | None = None) -> list[bytes]:
    """One local day's records as the recorder writes them (queueing/daylog.py), in stream
    order: counters opened 07:30, paused for lunch and a break, closed 18:00; tickets issued
    08:00-17:30 (today: the 9.5 hours before ``until``), called after 0-40 minutes with the
    estimate announced at issue, then served 1-10 minutes or absent (one in twenty)."""
    hour = 3_600_000
    lo, hi = local_ms(day, 8, TZ), local_ms(day, 17, TZ) + hour // 2
    if until is not None:
        lo, hi = max(local_ms(day, 0, TZ), until - 19 * hour // 2), until - 60_000
    out: list[tuple[int, dict[str, Any]]] = []
    changes = [(7.5, "o", "closed"), (12, "p", "open"), (13, "o", "paused"),
               (15, "p", "open"), (15.25, "o", "paused"), (16.5, "p", "open"),
               (16.75, "o", "paused"), (18, "q", "open")]
    for c in range(counters):
        for h, k, f in changes:
            t = local_ms(day, 0, TZ) + round(h * hour) + c * 1000
            if until is None or t < until:
                out.append((t, {"s": "", "k": k, "ctr": f"c{c}", "t": t, "f": f,
                                "u": f"staff{c % STAFF}"}))
    for _ in range(tickets):
        svc, issued = rng.choice(SERVICES), rng.randrange(lo, max(lo + 1, hi))
        base = {"s": svc, "r": 0}
        out.append((issued, base | {"k": "i", "t": issued, "c": rng.choice(
            ("kiosk", "kiosk", "web", "sms")), "p": "normal"}))
        est = rng.uniform(60, 1800)
        called = issued + rng.randrange(1, 2_400_000)
        ctr, who = f"c{rng.randrange(counters)}", f"staff{rng.randrange(STAFF)}"
        out.append((called, base | {"k": "c", "i": issued, "t": called,
                                    "e": [round(est, 1), round(est * 0.6, 1),
                                          round(est * 1.5, 1), round(est, 3), 0.45],
                                    "ctr": ctr, "u": who}))
        ended = called + rng.randrange(60_000, 600_000)
        kind = "n" if rng.random() < 0.05 else "d"
        out.append((ended, base | {"k": kind, "ctr": ctr, "a": called, "b": ended, "u": who}))
    out.sort(key=lambda x: x[0])
    enc = msgspec.json.Encoder()
    return [enc.encode({"o": f"{t}-{i}"} | r) for i, (t, r) in enumerate(out)]


async def fill(url: str, days: list[str], tickets: int, counters: int, now: int) -> int:
    redis = redisconn.connect(url)
    rng, n = random.Random(1), 0
    for day in days:
        rows = day_log(day, tickets, counters, rng, now if day == days[-1] else None)
        key = keys.prefix(SITE) + "daylog:" + day
        for i in range(0, len(rows), 5000):
            await redis.rpush(key, *rows[i:i + 5000])  # type: ignore[misc]
        await redis.expire(key, KEEP_DAYS * 86400)  # as the recorder keeps it
        n += len(rows)
    await redis.aclose()
    return n


class Probe:
    """``GET /healthz`` every 2 ms on its own connection: (sent at, seconds to answer)."""

    def __init__(self, port: int) -> None:
        self.port, self.stop = port, False
        self.samples: list[tuple[float, float]] = []

    async def run(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        req = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n".encode()
        try:
            while not self.stop:
                t0 = time.perf_counter()
                writer.write(req)
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(h[15:]) for h in head.split(b"\r\n")
                              if h[:15].lower() == b"content-length:")
                await reader.readexactly(length)
                self.samples.append((t0, time.perf_counter() - t0))
                await asyncio.sleep(0.002)
        finally:
            writer.close()

    def worst(self, start: float, end: float) -> float:
        """The slowest answer to a probe sent while ``[start, end)`` ran (ms)."""
        return max((dt for t, dt in self.samples if start <= t < end or t < start < t + dt),
                   default=0.0) * 1000


async def measure(base: str, port: int, url: str, days: list[str], repeat: int
                  ) -> list[dict[str, Any]]:
    import httpx

    from realtime.auth import make_token
    h = {"Authorization": f"Bearer {make_token(SECRET, 'supervisor', site=SITE)}"}
    today, yesterday, week = days[-1], days[-2], days[-7:]
    asks = [(f"stats?by={by}&date={yesterday}", True) for by in ("hour", "counter", "staff")]
    asks += [(f"stats?date={yesterday}", True)]
    asks += [(f"stats?by={by}&date={today}", False) for by in ("hour", "counter")]
    asks += [(f"report.csv?from={week[0]}&to={week[-1]}{by}", True)
             for by in ("&by=hour", "&by=counter", "")]
    redis = redisconn.connect(url)
    probe = Probe(port)
    task = asyncio.create_task(probe.run())
    results = []
    async with httpx.AsyncClient(base_url=f"{base}/v1/sites/{SITE}/", headers=h,
                                 timeout=120) as http:

        async def timed(path: str) -> tuple[float, float]:
            t0 = time.perf_counter()
            r = await http.get(path)
            t1 = time.perf_counter()
            r.raise_for_status()
            await asyncio.sleep(0.02)  # the probe answer in flight at the end comes back
            return (t1 - t0) * 1000, probe.worst(t0, t1)

        async def drop_views() -> None:
            for k in await redis.keys(keys.prefix(SITE) + "dayview:*"):
                await redis.delete(k)

        await asyncio.sleep(0.5)
        t0 = time.perf_counter()
        await asyncio.sleep(1.0)
        idle = probe.worst(t0, time.perf_counter())
        for path, past in asks:
            row: dict[str, Any] = {"request": path.replace(yesterday, "<yesterday>")
                                   .replace(today, "<today>").replace(week[0], "<-6d>")}
            if past:
                cold = []
                for _ in range(repeat):
                    await drop_views()
                    cold.append(await timed(path))
                row["cold_ms"] = round(statistics.median(c[0] for c in cold), 1)
                row["cold_stall_ms"] = round(max(c[1] for c in cold), 1)
            warm = [await timed(path) for _ in range(repeat)]
            row["median_ms"] = round(statistics.median(w[0] for w in warm), 1)
            row["stall_ms"] = round(max(w[1] for w in warm), 1)
            results.append(row)
            print(json.dumps(row), flush=True)
        for path, _ in asks[:4]:  # yesterday's views, kept again (the reports dropped them)
            (await http.get(path)).raise_for_status()
    probe.stop = True
    await task
    results.append({"request": "(idle)", "stall_ms": round(idle, 1)})
    # What a past day's views take where they are kept (none: nothing is kept).
    kept = {}
    for by in ("hour", "counter", "staff", "day"):
        kept[by] = await redis.strlen(keys.prefix(SITE) + f"dayview:{yesterday}:{by}")
    results.append({"request": "(kept bytes, <yesterday>)"} | kept)
    await redis.aclose()
    return results


async def startup(url: str) -> dict[str, Any]:
    """The wait estimator's warm-up of ``SITE`` (the last ``WARM_DAYS`` days and today), in
    this process, under a loop-lag probe: lateness of a 1 ms sleep (worst, p99, ms), the
    probes taken, and how long the warm-up took (s)."""
    from queueing.engine import Engine
    from queueing.store import Store
    from realtime.estimates import LiveEstimator
    from realtime.hub.feed import SiteFeed
    from realtime.hub.hub import Hub
    from realtime.settings import Settings
    redis = redisconn.connect(url)
    engine = Engine(Store(redis))
    hub = Hub(Settings(redis_url=url, secret=SECRET), redis, engine)
    est = hub.estimator = LiveEstimator(engine)
    feed = SiteFeed(hub, SITE)
    await feed._load()  # the snapshot a hub's feed starts from
    lags: list[float] = []
    t_start = time.perf_counter()
    est.announce(feed, SERVICES[0], 0, 0)  # first contact: the warm-up starts
    s = est.sites[SITE]
    while s.pending is not None:
        t0 = time.perf_counter()
        await asyncio.sleep(0.001)
        lags.append(time.perf_counter() - t0 - 0.001)
    took = time.perf_counter() - t_start
    await hub.reader.aclose()
    await redis.aclose()
    lags.sort()
    return {"request": "(startup: estimator warm-up, in-process loop-lag probe)",
            "warm_s": round(took, 2), "worst_lag_ms": round(lags[-1] * 1000, 1),
            "p99_lag_ms": round(lags[int(len(lags) * 0.99)] * 1000, 1), "probes": len(lags)}


def run(tickets: int, counters: int, ndays: int, repeat: int, startup_only: bool = False
        ) -> dict[str, Any]:
    import httpx

    from loadtest.servers import Target
    from realtime.auth import make_token
    now = int(time.time() * 1000)
    today = Date.fromisoformat(local_day(now, TZ))
    days = [(today - timedelta(i)).isoformat() for i in range(ndays - 1, -1, -1)]
    server = Target("switchboard", workers=1, secret=SECRET)
    server.start()  # its own Redis; returns when ready
    try:
        admin = {"Authorization": f"Bearer {make_token(SECRET, 'admin')}"}
        httpx.put(f"{server.base}/v1/sites/{SITE}", content=msgspec.json.encode(
            bench_site(counters)), headers=admin).raise_for_status()
        records = asyncio.run(fill(server.redis_url, days, tickets, counters, now))
        rows = [] if startup_only else asyncio.run(
            measure(server.base, server.port, server.redis_url, days, repeat))
        rows.append(asyncio.run(startup(server.redis_url)))
        print(json.dumps(rows[-1]), flush=True)
    finally:
        server.stop()
    exe = find_binary(None)
    return {"tickets_per_day": tickets, "counters": counters, "days": ndays,
            "records": records, "repeat": repeat, "results": rows,
            "python": sys.version.split()[0], "msgspec": msgspec.__version__,
            "redis": f"{exe} {'.'.join(map(str, _version(exe)))}",
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtest.day_views_bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=20_000, help="tickets a day")
    ap.add_argument("--counters", type=int, default=40)
    ap.add_argument("--days", type=int, default=8, help="today and the days before (7-31)")
    ap.add_argument("--repeat", type=int, default=5, help="requests timed each (median)")
    ap.add_argument("--startup-only", action="store_true",
                    help="only the estimator's warm-up (no requests)")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    if not 7 <= args.days <= 31 or not 1 <= args.repeat <= 50:
        ap.error("--days is 7 to 31, --repeat 1 to 50")
    if not 1 <= args.counters <= 500 or not 0 <= args.tickets <= 200_000:
        ap.error("--counters is 1 to 500, --tickets 0 to 200000")
    result = run(args.tickets, args.counters, args.days, args.repeat, args.startup_only)
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
