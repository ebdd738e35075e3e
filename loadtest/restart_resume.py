"""After ``kill -9`` of the server, do its clients resume or resync? Counts them, with why.

    python -m loadtest.restart_resume                       # a fresh server: by design only
    python -m loadtest.restart_resume --activity 150 --history-ttl-s 5 \\
        --history-min-entries 100 --trim-interval-s 3        # a history the trim has passed

Starts its own Redis (the embedded one's class, in a temporary folder) and ``switchboard
serve --redis-url`` on it with ``--log-level debug``, and connects the clients the pages
are: boards (``board:demo``), phones (``ticket:{id}``, tickets spread over the five
services), the six counter consoles (``counter:demo:{n}`` and a ``service:`` topic per
service served), floor overviews (``board:demo`` and every ``service:``). With
``--activity N`` the lab issues, completes and calls N times (the other topics stay quiet),
then ``--settle-s`` pass (trim rounds). The server is killed -9 (Redis keeps running),
the counters 1, 4 and 5 call while it is down, it is started again on the same port, and
the clients resubscribe ``since`` their last offsets (``clients.client.Client``, the same
rule as the pages' ``client.js``). Prints ``switchboard_resumes_total`` and
``switchboard_resyncs_total`` after the restart, the resync snapshots the clients got by
namespace, and the reasons the server logged (``resync TOPIC since ...: REASON``).
Loopback only; everything stops at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

from clients.client import Client
from loadtest.servers import free_port
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.store import Store
from realtime.auth import make_token
from realtime.redisproc import EmbeddedRedis

SECRET = "restart-resume-secret-0123456789abcdef0123"
WHO = Actor("loadtest:restart", "counter")
REASON = re.compile(r"resync (\w+):\S* since \S+: (.*?) \(feed")


def start(redis_url: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "realtime.cli", "serve", "--redis-url", redis_url,
             "--port", str(port), "--log-level", "debug"],
            env={**os.environ, "SWITCHBOARD_SECRET": SECRET, **env}, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not start; see " + str(log))


def counts(port: int) -> tuple[float, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    out = []
    for name in ("switchboard_resumes_total", "switchboard_resyncs_total"):
        m = re.search(rf"^{name} (\S+)$", text, re.M)
        out.append(float(m.group(1)) if m else 0.0)
    return out[0], out[1]


class Crowd:
    """The clients, and the resync snapshots they got (page kind and namespace)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.clients: list[Client] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.resyncs: Counter[str] = Counter()

    async def add(self, token: str, topics: list[str], page: str) -> None:
        c = Client(self.url, token, backoff_min_s=0.5, backoff_max_s=8)
        await c.start()
        for t in topics:
            await c.subscribe(t)
        self.clients.append(c)
        self.tasks.append(asyncio.create_task(self._count(c, page)))

    async def _count(self, c: Client, page: str) -> None:
        while True:
            msg = await c.queue.get()
            if msg.get("op") == "snapshot" and msg.get("resync"):
                self.resyncs[f"{page} {msg['topic'].split(':')[0]}"] += 1

    def subscriptions(self) -> int:
        return sum(len(c.positions) for c in self.clients)

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        for c in self.clients:
            await c.close()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="restart-resume-"))
    log = folder / "server.log"
    redis_server = EmbeddedRedis(folder / "redis")
    redis_server.start()
    redis = Redis.from_url(redis_server.url)
    engine = Engine(Store(redis), config_ttl_s=0)
    site = demo_site()
    await engine.put_site("demo", site, WHO)
    for c in site.counters:
        await engine.counter_op("demo", c.id, "open", WHO)
    env = {f"SWITCHBOARD_{k.upper()}": str(v) for k, v in (
        ("history_ttl_s", args.history_ttl_s), ("history_min_entries", args.history_min_entries),
        ("trim_interval_s", args.trim_interval_s)) if v}
    port = free_port()
    proc = start(redis_server.url, port, env, log)
    crowd = Crowd(f"ws://127.0.0.1:{port}/ws")
    services = [s.id for s in site.services]
    try:
        for _ in range(args.boards):
            await crowd.add(make_token(SECRET, "display", site="demo"), ["board:demo"], "board")
        for i in range(args.phones):
            t = (await engine.issue("demo", _request(services[i % len(services)]), WHO)).ticket
            await crowd.add(make_token(SECRET, "ticket", ticket=t["id"]), [f"ticket:{t['id']}"],
                            "phone")
        for c in site.counters:
            await crowd.add(make_token(SECRET, "agent", site="demo", counter=c.id),
                            [f"counter:demo:{c.id}", *(f"service:demo:{s}" for s in c.services)],
                            "console")
        for _ in range(args.overviews):
            await crowd.add(make_token(SECRET, "supervisor", site="demo"),
                            ["board:demo", *(f"service:demo:{s}" for s in services)], "overview")
        for _ in range(args.activity):  # the lab is busy; the other topics stay quiet
            await engine.issue("demo", _request("lab"), WHO)
            await _op(engine, "4", "complete")
            await _op(engine, "4", "call-next")
        await asyncio.sleep(args.settle_s + 1)
        subs = crowd.subscriptions()
        crowd.resyncs.clear()
        mark = log.stat().st_size
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        for cid in ("4", "5", "1"):  # calls while the server is down (Redis is up)
            await _op(engine, cid, "complete")
            await _op(engine, cid, "call-next")
        proc = start(redis_server.url, port, env, log)
        for _ in range(80):  # every subscription answered again (or 40 s)
            if sum(counts(port)) >= subs:
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1)
        resumes, resyncs = counts(port)
        reasons = Counter(f"{m.group(1)}: {m.group(2)}" for m in REASON.finditer(
            log.read_text(errors="replace")[mark:]))
        return {"clients": len(crowd.clients), "subscriptions": subs, "resumes": resumes,
                "resyncs": resyncs, "client_resyncs": dict(sorted(crowd.resyncs.items())),
                "reasons": dict(sorted(reasons.items())), "log": str(log)}
    finally:
        await crowd.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        await redis.aclose()
        redis_server.stop()
        shutil.rmtree(folder / "redis", ignore_errors=True)  # (the log stays, for reading)


def _request(service: str) -> TicketRequest:
    return TicketRequest(service, Channel.KIOSK)


async def _op(engine: Engine, counter: str, op: str) -> None:
    with contextlib.suppress(Exception):  # nothing to complete, nobody waiting: fine
        await engine.counter_op("demo", counter, op, WHO)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m loadtest.restart_resume",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--boards", type=int, default=20)
    p.add_argument("--phones", type=int, default=40)
    p.add_argument("--overviews", type=int, default=2)
    p.add_argument("--activity", type=int, default=0, help="lab issue+complete+call rounds")
    p.add_argument("--settle-s", type=float, default=0.0, help="wait after the activity")
    p.add_argument("--history-ttl-s", type=int, default=0, help="(0: the server's default)")
    p.add_argument("--history-min-entries", type=int, default=0)
    p.add_argument("--trim-interval-s", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    result = asyncio.run(run(parse(argv)))
    for k, v in result.items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
