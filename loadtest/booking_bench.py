"""Bookings per second under contention: a rush on a few hundred slots.

    python -m loadtest.booking_bench [--mode engine|http|both] [--seconds S] [--slots N]
                                     [--capacity C] [--processes P] [--concurrency C]
                                     [--workers W] [--json OUT]

``engine`` drives ``queueing.booking.engine.BookingEngine`` (with its arq job scheduling,
as the server does) from ``--processes`` processes of ``--concurrency`` coroutines each,
against one embedded Redis: the booking core. ``http`` starts ``switchboard serve`` and
posts ``/v1/sites/{site}/bookings`` from client processes. Every attempt is a different
person booking a random slot of the rush through a random channel; with ``--capacity``
small the slots sell out and the rest of the run measures refusals (``slot_full``,
``channel_quota``). At the end the inventory is checked: no slot over its capacity.
Only loopback and unix sockets are used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter as Tally
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from queueing.booking.model import (
    WEEKDAYS,
    BookingConfig,
    BookingPolicy,
    BookingRequest,
    Quota,
    Resource,
    Session,
    Template,
)
from queueing.model import Channel, Counter, Service, SiteConfig
from realtime.redisproc import EmbeddedRedis, _version, find_binary

SITE = "bench"
CHANNELS = [c for c in Channel]


def bench_site() -> SiteConfig:
    # One counter: GET/PUT /v1/sites of a site without counters fails (queueing.engine.site).
    return SiteConfig(name="Bench", timezone="UTC", languages=["en"],
                      services=[Service("s1", "Service 1", "A")],
                      counters=[Counter("c1", "Counter 1", ["s1"])])


def bench_schedule(slots: int, capacity: int) -> BookingConfig:
    """``slots`` ten-minute slots a day: 30 per resource, 08:00-13:00, every day."""
    every: Any = list(WEEKDAYS)
    n = max(1, slots // 30)
    return BookingConfig(
        resources=[Resource(f"r{i}", f"R{i}", ["s1"]) for i in range(n)],
        templates=[Template(f"r{i}", "s1", every, [Session("08:00", "13:00", capacity, 10)])
                   for i in range(n)],
        quotas=[Quota([Channel.PHONE, Channel.WINDOW], 0.2, 86400)],
        policy=BookingPolicy(max_open_bookings=3))


def rush_day() -> str:
    return (datetime.now(UTC).date() + timedelta(days=2)).isoformat()


# -- engine mode ---------------------------------------------------------------------------

async def _prepare(url: str, slots: int, capacity: int) -> list[str]:
    from redis.asyncio import Redis

    from queueing.booking.engine import BookingEngine
    from queueing.engine import Actor, Engine
    from queueing.store import Store
    redis = Redis.from_url(url)
    await redis.flushall()
    engine = Engine(Store(redis))
    await engine.put_site(SITE, bench_site(), Actor("bench", "bench"))
    bk = BookingEngine(engine)
    await bk.put_config(SITE, bench_schedule(slots, capacity), Actor("bench", "bench"))
    day = datetime.fromisoformat(rush_day()).date()
    ids = [r["slot"] for r in await bk.availability(SITE, "s1", day)]
    await redis.aclose()
    return ids


def _engine_proc(url: str, slot_ids: list[str], k: int, concurrency: int, start_at: float,
                 seconds: float, out: Any) -> None:
    async def main() -> dict[str, Any]:

        from queueing import redisconn
        from queueing.booking.engine import BookingEngine
        from queueing.booking.jobs import Jobs
        from queueing.engine import Actor, Engine
        from queueing.errors import Conflict
        from queueing.store import Store
        redis = redisconn.connect(url, max_connections=concurrency * 2)
        bk = BookingEngine(Engine(Store(redis), config_ttl_s=60), Jobs(redis))
        await bk.schedule(SITE)
        rng = random.Random(k)
        codes: Tally[str] = Tally()
        lat: list[float] = []
        await asyncio.sleep(max(0.0, start_at - time.time()))
        deadline = start_at + seconds
        cpu0 = time.process_time()
        last = [start_at]

        async def worker(w: int) -> None:
            i = 0
            while time.time() < deadline:
                i += 1
                req = BookingRequest(slot=rng.choice(slot_ids), customer=f"p{k}-{w}-{i}",
                                     channel=rng.choice(CHANNELS))
                t0 = time.perf_counter()
                try:
                    await bk.book(SITE, req, Actor("bench", req.channel.value))
                    codes["booked"] += 1
                    last[0] = time.time()
                except Conflict as exc:
                    codes[exc.code] += 1
                lat.append(time.perf_counter() - t0)

        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        if bk.jobs is not None:
            await bk.jobs.flush()
        cpu = time.process_time() - cpu0
        await redis.aclose()
        return {"codes": dict(codes), "lat": lat, "cpu_s": cpu, "last_booked_s": last[0] - start_at}

    out.put(_run_loop(main()))


def run_engine(seconds: float, slots: int, capacity: int, processes: int, concurrency: int,
               binary: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        redis = EmbeddedRedis(Path(tmp), binary)
        redis.start()
        try:
            slot_ids = _run_loop(_prepare(redis.url, slots, capacity))
            ctx = multiprocessing.get_context("spawn")
            q = ctx.Queue()
            start_at = time.time() + 2.0
            redis_cpu0 = _run_loop(_redis_cpu(redis.url, reset=True))
            procs = [ctx.Process(target=_engine_proc, args=(redis.url, slot_ids, k, concurrency,
                                                             start_at, seconds, q))
                     for k in range(processes)]
            for p in procs:
                p.start()
            results = [q.get(timeout=seconds + 120) for _ in procs]
            for p in procs:
                p.join()
            redis_cpu = _run_loop(_redis_cpu(redis.url)) - redis_cpu0
            top = _run_loop(_redis_commands(redis.url))
            check = _run_loop(_check(redis.url, capacity))
        finally:
            redis.stop()
    exe = find_binary(binary)
    out = _summary("engine", results, seconds, len(slot_ids), capacity, check)
    out["redis_cpu_us_per_attempt"] = round(redis_cpu * 1e6 / max(1, out["attempts"]), 1)
    out["redis_commands"] = _per_attempt(top, out["attempts"])
    out |= {"processes": processes, "concurrency": concurrency,
            "redis": f"{exe} {'.'.join(map(str, _version(exe)))}"}
    return out


async def _redis_cpu(url: str, reset: bool = False) -> float:
    """CPU seconds the Redis server has used (its single command thread does the work);
    ``reset`` also zeroes its per-command statistics (INFO commandstats)."""
    from redis.asyncio import Redis
    redis = Redis.from_url(url)
    if reset:
        await redis.config_resetstat()
    info = await redis.info("cpu")
    await redis.aclose()
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


async def _redis_commands(url: str) -> dict[str, dict[str, float]]:
    """INFO commandstats: calls and microseconds per command since the reset. A script's
    time includes the commands it calls, which are also listed on their own."""
    from redis.asyncio import Redis
    redis = Redis.from_url(url)
    stats = await redis.info("commandstats")
    await redis.aclose()
    return {k.removeprefix("cmdstat_"): {"calls": float(v["calls"]), "usec": float(v["usec"])}
            for k, v in stats.items()}


def _per_attempt(stats: dict[str, dict[str, float]], attempts: int,
                 top: int = 12) -> dict[str, dict[str, float]]:
    """The costliest commands: calls and Redis microseconds per booking attempt."""
    n = max(1, attempts)
    rows = sorted(stats.items(), key=lambda kv: -kv[1]["usec"])[:top]
    return {k: {"calls": round(v["calls"] / n, 2), "us": round(v["usec"] / n, 1),
                "us_per_call": round(v["usec"] / max(1.0, v["calls"]), 2)} for k, v in rows}


async def _check(url: str, capacity: int) -> dict[str, int]:
    """The inventory after the rush: places per slot never over capacity."""
    from redis.asyncio import Redis

    from queueing import keys
    redis = Redis.from_url(url)
    per_slot: Tally[str] = Tally()
    async for key in redis.scan_iter(match=keys.prefix(SITE) + "bk:sl:*", count=1000):
        slot = key.decode().split("bk:sl:")[1].rsplit(":", 1)[0]
        per_slot[slot] += int(await redis.zcard(key))
    await redis.aclose()
    worst = max(per_slot.values(), default=0)
    if worst > capacity:
        raise AssertionError(f"a slot holds {worst} bookings for {capacity} places")
    return {"booked_in_redis": sum(per_slot.values()), "fullest_slot": worst}


def _summary(mode: str, results: list[dict[str, Any]], seconds: float, slots: int,
             capacity: int, check: dict[str, int]) -> dict[str, Any]:
    codes: Tally[str] = Tally()
    for r in results:
        codes.update(r["codes"])
    lat = sorted(x for r in results for x in r["lat"])
    attempts = sum(codes.values())
    # With few places the rush sells out before the end: how fast did it sell?
    sold_in = max(r["last_booked_s"] for r in results)
    if codes["booked"] != check["booked_in_redis"]:
        raise AssertionError(f"{codes['booked']} answered booked, {check} in Redis")
    return {"mode": mode, "seconds": seconds, "slots": slots, "capacity": capacity,
            "attempts": attempts, "attempts_per_s": round(attempts / seconds),
            "booked": codes["booked"], "booked_per_s": round(codes["booked"] / seconds),
            "last_booking_after_s": round(sold_in, 2),
            "booked_per_s_until_last": round(codes["booked"] / max(sold_in, 1e-3)),
            "refused": {k: v for k, v in codes.items() if k != "booked"},
            "p50_ms": round(lat[len(lat) // 2] * 1000, 2) if lat else None,
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 2) if lat else None,
            "client_cpu_us_per_attempt": round(sum(r["cpu_s"] for r in results) * 1e6
                                               / max(1, attempts), 1), **check}


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop
        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


# -- HTTP mode: the server in its own processes, clients in others ---------------------------

class _Conn:
    """A minimal keep-alive HTTP/1.1 client connection: httpx costs more CPU per request
    than the server under test, which would measure the client instead."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 head: bytes) -> None:
        self.reader, self.writer, self.head = reader, writer, head

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        self.writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head
                          + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                          + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = 0
        for line in raw.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await self.reader.readexactly(length)


def _http_proc(base: str, token: str, slot_ids: list[str], k: int, concurrency: int,
               start_at: float, seconds: float, out: Any) -> None:
    async def main() -> dict[str, Any]:
        host, port = base.removeprefix("http://").split(":")
        head = (f"Host: {host}\r\nAuthorization: Bearer {token}\r\n"
                "Content-Type: application/json\r\n").encode()
        rng = random.Random(k)
        codes: Tally[str] = Tally()
        lat: list[float] = []
        conns = [_Conn(*await asyncio.open_connection(host, int(port)), head)
                 for _ in range(concurrency)]
        await asyncio.sleep(max(0.0, start_at - time.time()))
        deadline = start_at + seconds
        cpu0 = time.process_time()
        last = [start_at]
        path = f"/v1/sites/{SITE}/bookings"

        async def worker(w: int) -> None:
            i = 0
            while time.time() < deadline:
                i += 1
                body = msgspec.json.encode({"slot": rng.choice(slot_ids),
                                            "customer": f"p{k}-{w}-{i}",
                                            "channel": rng.choice(CHANNELS).value})
                t0 = time.perf_counter()
                status, answer = await conns[w].post(path, body)
                lat.append(time.perf_counter() - t0)
                if status == 201:
                    codes["booked"] += 1
                    last[0] = time.time()
                elif status == 409:
                    codes[msgspec.json.decode(answer)["code"]] += 1
                else:
                    raise RuntimeError(f"unexpected {status} {answer!r}")

        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        cpu = time.process_time() - cpu0
        for c in conns:
            c.writer.close()
        return {"codes": dict(codes), "lat": lat, "cpu_s": cpu, "last_booked_s": last[0] - start_at}

    out.put(_run_loop(main()))


def _server_cpu(pid: int) -> float:
    """CPU seconds of the server's Python processes (not its embedded Redis)."""
    import psutil
    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            if "redis-server" in " ".join(proc.cmdline()):
                continue
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            continue
    return total


def run_http(seconds: float, slots: int, capacity: int, processes: int, concurrency: int,
             workers: int, binary: str | None) -> dict[str, Any]:
    import httpx

    from loadtest.servers import free_port
    from realtime.auth import make_token
    port = free_port()
    secret = "bench-secret-0123456789abcdef0123"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SWITCHBOARD_SECRET": secret, "SWITCHBOARD_LOG_LEVEL": "warning"}
        if binary:
            env["SWITCHBOARD_REDIS_SERVER"] = binary
        server = subprocess.Popen([sys.executable, "-m", "realtime.cli", "serve", "--data-dir",
                                   tmp, "--port", str(port), "--workers", str(workers)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):
                try:
                    if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            h = {"Authorization": f"Bearer {make_token(secret, 'admin')}"}
            httpx.put(f"{base}/v1/sites/{SITE}", content=msgspec.json.encode(bench_site()),
                      headers=h).raise_for_status()
            httpx.put(f"{base}/v1/sites/{SITE}/booking", headers=h, content=msgspec.json.encode(
                bench_schedule(slots, capacity))).raise_for_status()
            rows = httpx.get(f"{base}/v1/sites/{SITE}/availability?service=s1&date={rush_day()}",
                             headers=h).raise_for_status().json()
            slot_ids = [r["slot"] for r in rows]
            token = make_token(secret, "admin")  # admin: every channel
            ctx = multiprocessing.get_context("spawn")
            q = ctx.Queue()
            start_at = time.time() + 3.0
            sock = f"unix://{tmp}/redis.sock"
            redis_cpu0 = _run_loop(_redis_cpu(sock, reset=True))
            server_cpu0 = _server_cpu(server.pid)
            procs = [ctx.Process(target=_http_proc, args=(base, token, slot_ids, k, concurrency,
                                                           start_at, seconds, q))
                     for k in range(processes)]
            for p in procs:
                p.start()
            results = [q.get(timeout=seconds + 120) for _ in procs]
            for p in procs:
                p.join()
            redis_cpu = _run_loop(_redis_cpu(sock)) - redis_cpu0
            top = _run_loop(_redis_commands(sock))
            server_cpu = _server_cpu(server.pid) - server_cpu0
            check = _run_loop(_check(sock, capacity))
        finally:
            server.terminate()
            server.wait(20)
    out = _summary("http", results, seconds, len(slot_ids), capacity, check)
    out["redis_cpu_us_per_attempt"] = round(redis_cpu * 1e6 / max(1, out["attempts"]), 1)
    out["redis_commands"] = _per_attempt(top, out["attempts"])
    out["server_cpu_us_per_attempt"] = round(server_cpu * 1e6 / max(1, out["attempts"]), 1)
    return out | {"client_processes": processes, "concurrency": concurrency,
                  "server_workers": workers}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtest.booking_bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["engine", "http", "both"], default="engine")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--slots", type=int, default=300, help="slots in the rush (multiple of 30)")
    ap.add_argument("--capacity", type=int, default=1000, help="places per slot")
    ap.add_argument("--processes", type=int, default=2, help="load processes")
    ap.add_argument("--concurrency", type=int, default=32, help="coroutines per process")
    ap.add_argument("--workers", type=int, default=1, help="server processes (http mode)")
    ap.add_argument("--redis-server", help="redis-server binary (default: as serve chooses)")
    ap.add_argument("--json", help="write results here")
    args = ap.parse_args(argv)
    if args.seconds > 600:
        ap.error("--seconds is capped at 600")
    results = []
    if args.mode in ("engine", "both"):
        results.append(run_engine(args.seconds, args.slots, args.capacity, args.processes,
                                  args.concurrency, args.redis_server))
    if args.mode in ("http", "both"):
        results.append(run_http(args.seconds, args.slots, args.capacity, args.processes,
                                args.concurrency, args.workers, args.redis_server))
    for r in results:
        print(json.dumps(r))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
