"""Queue operations per second: issue + call-next + complete, against a real embedded Redis.

    python -m loadtest.queue_bench [--mode engine|http|both] [--seconds S] [--concurrency C]
                                   [--redis-server PATH] [--json OUT]

``engine`` drives queueing.Engine directly (one process, asyncio); ``http`` starts
``switchboard serve`` as a separate process and drives the HTTP API from client processes.
Each cycle is three operations on one counter: take a ticket, call next, complete. Loops
stop at the time limit. Only loopback and unix sockets are used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec
from rich.progress import Progress

from queueing.engine import Actor, Engine
from queueing.model import Channel, Counter, Service, SiteConfig, TicketRequest
from queueing.store import Store
from realtime.redisproc import EmbeddedRedis, _version, find_binary

SITE = "bench"


def bench_site(counters: int) -> SiteConfig:
    svcs = [Service("s1", "Service 1", "A"), Service("s2", "Service 2", "B")]
    ctrs = [Counter(f"c{i}", f"Counter {i}", ["s1", "s2"]) for i in range(counters)]
    return SiteConfig(name="Bench", timezone="UTC", languages=["en"], services=svcs,
                      counters=ctrs)


async def _engine_run(url: str, seconds: float, concurrency: int) -> dict[str, Any]:
    from queueing import redisconn
    redis = redisconn.connect(url, max_connections=concurrency * 2)
    await redis.flushall()
    engine = Engine(Store(redis), config_ttl_s=60)
    admin = Actor("bench", "bench")
    await engine.put_site(SITE, bench_site(concurrency), admin)
    for i in range(concurrency):
        await engine.counter_op(SITE, f"c{i}", "open", admin)
    ops = 0
    lat: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(i: int) -> None:
        nonlocal ops
        who = Actor(f"agent{i}", "bench")
        req = TicketRequest(service="s1" if i % 2 else "s2", channel=Channel.KIOSK)
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            await engine.issue(SITE, req, who)
            await engine.counter_op(SITE, f"c{i}", "call-next", who)
            await engine.counter_op(SITE, f"c{i}", "complete", who)
            lat.append((time.perf_counter() - t0) / 3)
            ops += 3

    start = time.monotonic()
    with Progress(transient=True) as bar:
        task = bar.add_task("engine", total=seconds)

        async def tick() -> None:
            while time.monotonic() < deadline:
                bar.update(task, completed=time.monotonic() - start)
                await asyncio.sleep(0.2)

        await asyncio.gather(tick(), *(worker(i) for i in range(concurrency)))
    elapsed = time.monotonic() - start
    await redis.aclose()
    lat.sort()
    return {"mode": "engine", "ops": ops, "seconds": round(elapsed, 2),
            "ops_per_s": round(ops / elapsed), "concurrency": concurrency,
            "p50_ms": round(lat[len(lat) // 2] * 1000, 3),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 3)}


def run_engine(seconds: float, concurrency: int, binary: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        redis = EmbeddedRedis(Path(tmp), binary)
        redis.start()
        try:
            result: dict[str, Any] = _run_loop(_engine_run(redis.url, seconds, concurrency))
        finally:
            redis.stop()
    exe = find_binary(binary)
    result["redis"] = f"{exe} {'.'.join(map(str, _version(exe)))}"
    return result


def _run_loop(coro: Any) -> Any:
    try:
        import uvloop
        return uvloop.run(coro)
    except ImportError:  # pragma: no cover
        return asyncio.run(coro)


# -- HTTP mode: server in its own process, clients in others ---------------------------------

def _http_client(base: str, token: str, first: int, n: int, seconds: float,
                 out: Any) -> None:
    from loadtest.rush import HttpConn

    async def main() -> tuple[int, list[float], float]:
        ops = 0
        lat: list[float] = []
        host, port = base.removeprefix("http://").split(":")
        deadline = time.monotonic() + seconds
        cpu0 = time.process_time()

        async def worker(i: int) -> None:
            nonlocal ops
            # A bare keep-alive connection: httpx would spend more CPU per request than the
            # server does answering it, and measure the client.
            conn = await HttpConn.open(host, int(port), token)
            body = msgspec.json.encode({"service": "s1" if i % 2 else "s2",
                                        "channel": "kiosk"})
            try:
                while time.monotonic() < deadline:
                    t0 = time.perf_counter()
                    r1 = await conn.post(f"/v1/sites/{SITE}/tickets", body)
                    r2 = await conn.post(f"/v1/sites/{SITE}/counters/c{i}/call-next", b"")
                    r3 = await conn.post(f"/v1/sites/{SITE}/counters/c{i}/complete", b"")
                    if (r1[0], r2[0], r3[0]) != (201, 200, 200):
                        raise RuntimeError(f"unexpected {r1} {r2} {r3}")
                    lat.append((time.perf_counter() - t0) / 3)
                    ops += 3
            finally:
                conn.close()
        await asyncio.gather(*(worker(i) for i in range(first, first + n)))
        return ops, lat, time.process_time() - cpu0

    out.put(_run_loop(main()))


def _cpu_of_tree(pid: int) -> float:
    """CPU seconds used so far by a process and its children (server workers and Redis)."""
    import psutil
    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run_http(seconds: float, concurrency: int, clients: int, binary: str | None,
             workers: int) -> dict[str, Any]:
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
            admin = make_token(secret, "admin")
            h = {"Authorization": f"Bearer {admin}"}
            import msgspec
            httpx.put(f"{base}/v1/sites/{SITE}", content=msgspec.json.encode(
                bench_site(concurrency)), headers=h).raise_for_status()
            for i in range(concurrency):
                httpx.post(f"{base}/v1/sites/{SITE}/counters/c{i}/open",
                           headers=h).raise_for_status()
            ctx = multiprocessing.get_context("spawn")
            q = ctx.Queue()
            per = concurrency // clients
            procs = [ctx.Process(target=_http_client, args=(base, admin, k * per, per, seconds,
                                                             q)) for k in range(clients)]
            cpu_before = _cpu_of_tree(server.pid)
            start = time.monotonic()
            for p in procs:
                p.start()
            results = [q.get(timeout=seconds + 60) for _ in procs]
            for p in procs:
                p.join()
            elapsed = time.monotonic() - start
            server_cpu_s = _cpu_of_tree(server.pid) - cpu_before
        finally:
            server.terminate()
            server.wait(20)
    ops = sum(r[0] for r in results)
    lat = sorted(x for r in results for x in r[1])
    client_cpu_s = sum(r[2] for r in results)
    return {"mode": "http", "ops": ops, "seconds": round(elapsed, 2),
            "server_cpu_us_per_op": round(server_cpu_s / max(ops, 1) * 1e6),
            "client_cpu_us_per_op": round(client_cpu_s / max(ops, 1) * 1e6),
            "ops_per_s": round(ops / elapsed), "concurrency": concurrency,
            "client_processes": clients, "server_workers": workers,
            "p50_ms": round(lat[len(lat) // 2] * 1000, 3),
            "p99_ms": round(lat[int(len(lat) * 0.99)] * 1000, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loadtest.queue_bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["engine", "http", "both"], default="both")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=32, help="concurrent counters")
    ap.add_argument("--clients", type=int, default=2, help="client processes (http mode)")
    ap.add_argument("--workers", type=int, default=1, help="server processes (http mode)")
    ap.add_argument("--redis-server", help="redis-server binary (default: as serve chooses)")
    ap.add_argument("--json", help="write results here")
    args = ap.parse_args(argv)
    if args.seconds > 600:
        ap.error("--seconds is capped at 600")
    results = []
    if args.mode in ("engine", "both"):
        results.append(run_engine(args.seconds, args.concurrency, args.redis_server))
    if args.mode in ("http", "both"):
        results.append(run_http(args.seconds, args.concurrency, args.clients, args.redis_server,
                                args.workers))
    for r in results:
        print(json.dumps(r))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
