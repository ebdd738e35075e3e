"""Where the event loop waits while a big past day's view is computed the first time.

In this process: a private Redis holding a busy day (``--tickets`` tickets, 40 counters:
three records a ticket) and the day before it, a heap of ``--heap`` small objects (a
server's is ~1 million: the garbage collector's passes cost with its size), and a loop-lag
probe (a 1 ms sleep, again and again). Each phase of ``realtime.day_views.view`` — the
reads, the day before's closing states, the computation in the worker thread, keeping it —
and the JSON encoding of the answer is timed, with the worst lateness of the loop within it.
For the three latest wake-ups the probe also tells what ran meanwhile: the loop thread's own
CPU time, the process's (both threads), and how often the OS took the CPU from the loop
thread: lateness with the loop's CPU near zero and the process's close to it is the worker
thread holding the GIL; with both near zero, the machine not running the process.

    python -m loadtest.day_views_phases [--tickets 20000] [--heap 300000] [--repeat 3]
                                        [--by hour,counter,staff] [--json OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import sys
import tempfile
import time
from datetime import date as Date
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from loadtest.day_views_bench import TZ, bench_site, day_log
from queueing import keys, redisconn
from queueing.engine import Actor, Engine
from queueing.numbering import local_day
from queueing.store import Store
from realtime import day_views
from realtime.redisproc import EmbeddedRedis
from realtime.stats import DayLog

SITE = "big"
Phase = tuple[str, float, float]


class Timed(DayLog):
    """The day log, each read and write timed into ``phases``."""

    phases: list[Phase]

    async def _t(self, name: str, coro: Any) -> Any:
        t0 = time.perf_counter()
        out = await coro
        self.phases.append((name, t0, time.perf_counter()))
        return out

    async def rows(self, day: str, n: int) -> list[bytes]:
        return await self._t("rows (LRANGE, 5,000 a read)", super().rows(day, n))  # type: ignore[no-any-return]

    async def end_states(self, day: str) -> dict[str, str]:
        return await self._t("end_states (the day before)", super().end_states(day))  # type: ignore[no-any-return]

    async def live(self) -> dict[str, tuple[str, int]]:
        return await self._t("live", super().live())  # type: ignore[no-any-return]

    async def kept(self, day: str, by: str) -> Any:
        return await self._t("kept (GET)", super().kept(day, by))

    async def keep(self, day: str, by: str, value: Any) -> None:
        await self._t("keep (SET)", super().keep(day, by, value))


class Probe:
    """A 1 ms sleep again and again: (sent at, lateness, loop CPU, process CPU, preempted)."""

    def __init__(self) -> None:
        self.stop = False
        self.samples: list[tuple[float, float, float, float, int]] = []

    async def run(self) -> None:
        while not self.stop:
            t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
            v0 = resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw
            await asyncio.sleep(0.001)
            self.samples.append((t0, time.perf_counter() - t0 - 0.001,
                                 time.thread_time() - c0, time.process_time() - p0,
                                 resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw - v0))

    def worst(self, a: float, b: float) -> float:
        return max((s[1] for s in self.samples if a <= s[0] + s[1] and s[0] <= b), default=0.0)


async def fill(redis: Any, engine: Engine, tickets: int, now: int) -> str:
    await engine.put_site(SITE, bench_site(40), Actor("bench", "admin"))
    today = Date.fromisoformat(local_day(now, TZ))
    rng = random.Random(1)
    for back in (2, 1):
        day = (today - timedelta(back)).isoformat()
        rows = day_log(day, tickets, 40, rng)
        for i in range(0, len(rows), 5000):
            await redis.rpush(keys.prefix(SITE) + "daylog:" + day, *rows[i:i + 5000])
    return (today - timedelta(1)).isoformat()


async def once(engine: Engine, redis: Any, day: str, by: str, now: int) -> dict[str, Any]:
    """One first computation (nothing kept, not even the day before's states), probed."""
    for pattern in ("dayview:*", "dayend:*"):
        for k in await redis.keys(keys.prefix(SITE) + pattern):
            await redis.delete(k)
    src = Timed(engine, SITE)
    src.phases = []
    probe = Probe()
    task = asyncio.create_task(probe.run())
    await asyncio.sleep(0.05)
    probe.samples.clear()
    t0 = time.perf_counter()
    v = await day_views.view(src, await engine.config(SITE), day, by, now)
    t1 = time.perf_counter()
    body = msgspec.json.encode({"site": SITE, "by": by} | v)
    t2 = time.perf_counter()
    src.phases.append(("JSON encoding of the answer", t1, t2))
    await asyncio.sleep(0.02)
    probe.stop = True
    await task
    top = sorted(probe.samples, key=lambda s: -s[1])[:3]
    return {"by": by, "total_ms": round((t2 - t0) * 1000, 1), "body_bytes": len(body),
            "worst_lag_ms": round(probe.worst(t0, t2) * 1000, 1), "probes": len(probe.samples),
            "phases": [{"phase": n, "ms": round((b - a) * 1000, 1),
                        "worst_lag_ms": round(probe.worst(a, b) * 1000, 1)}
                       for n, a, b in src.phases],
            "latest": [{"late_ms": round(s[1] * 1000, 1), "loop_cpu_ms": round(s[2] * 1000, 1),
                        "process_cpu_ms": round(s[3] * 1000, 1), "loop_preempted": s[4]}
                       for s in top]}


async def main_async(tickets: int, heap_n: int, repeat: int, views: list[str]
                     ) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="sb-day-views-phases-") as tmp:
        server = EmbeddedRedis(Path(tmp))
        server.start()
        try:
            redis = redisconn.connect(server.url)
            engine = Engine(Store(redis))
            now = int(time.time() * 1000)
            day = await fill(redis, engine, tickets, now)
            heap = [{"i": i, "x": [i]} for i in range(heap_n)]  # a server-sized heap
            gc.collect()
            out = []
            for by in views:
                for _ in range(repeat):
                    row = await once(engine, redis, day, by, now)
                    print(json.dumps(row), flush=True)
                    out.append(row)
            del heap
            await redis.aclose()
            return out
        finally:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtest.day_views_phases",
                                 description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=20_000, help="tickets a day")
    ap.add_argument("--heap", type=int, default=300_000, help="small objects kept alive")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--by", default="hour,counter,staff")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args(argv)
    views = args.by.split(",")
    if not set(views) <= set(day_views.VIEWS) or not 1 <= args.repeat <= 50:
        ap.error("--by is hour, counter and/or staff; --repeat 1 to 50")
    import uvloop  # as the server runs

    rows = uvloop.run(main_async(args.tickets, args.heap, args.repeat, views))
    result = {"tickets_per_day": args.tickets, "heap": args.heap, "results": rows,
              "python": sys.version.split()[0], "msgspec": msgspec.__version__,
              "switch_interval_s": sys.getswitchinterval(),
              "load_average": [round(x, 2) for x in os.getloadavg()]}
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
