"""Hub processes sharing one Redis: killed -9 and restarted, two side by side, --workers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from clients.client import Client
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.model import Channel, TicketRequest
from queueing.store import Store
from realtime.auth import make_token
from realtime.redisproc import EmbeddedRedis
from tests.conftest import free_port

SECRET = "hub-process-secret-0123456789abcdef"
AGENT = Actor("agent:demo:1", "counter")


def start_hub(redis_url: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SWITCHBOARD_SECRET": SECRET, "SWITCHBOARD_LOG_LEVEL": "warning"}
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "serve", "--redis-url",
                             redis_url, "--port", str(port), "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError("hub did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def hub(redis_url: str, port: int | None = None, workers: int = 1
        ) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = port or free_port()
    proc = start_hub(redis_url, port, workers)
    try:
        yield proc, port
    finally:
        stop(proc)


def _children(pid: int) -> list[Path]:
    return [p for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == pid]


def _ppid(proc_dir: Path) -> int:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


@pytest.fixture
async def engine(redis: Redis) -> Engine:
    eng = Engine(Store(redis), config_ttl_s=0)
    await eng.put_site("demo", demo_site(), AGENT)
    for c in demo_site().counters:
        await eng.counter_op("demo", c.id, "open", AGENT)
    return eng


async def test_resume_across_hub_killed_9_and_restarted(redis_server: EmbeddedRedis,
                                                        engine: Engine) -> None:
    port = free_port()
    display = make_token(SECRET, "display", site="demo")
    proc = start_hub(redis_server.url, port)
    try:
        async with Client(f"ws://127.0.0.1:{port}/ws", display, backoff_min_s=0.05,
                          backoff_max_s=0.3) as board:
            await board.subscribe("board:demo")
            await board.next(10)
            await engine.issue("demo", TicketRequest("internal", Channel.KIOSK), AGENT)
            await board.next(10)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            # While the hub is dead, calls happen (through the engine, on Redis).
            for svc, cid in (("lab", "4"), ("pharmacy", "5"), ("internal", "1")):
                await engine.issue("demo", TicketRequest(svc, Channel.KIOSK), AGENT)
                await engine.counter_op("demo", cid, "call-next", AGENT)
            proc = start_hub(redis_server.url, port)
            got = []
            while len([m for m in got if m.get("type") == "called"]) < 3:
                got.append(await board.next(15))
            assert [m["data"]["number"] for m in got if m.get("type") == "called"] == \
                ["C001", "D001", "A001"]
            assert all(m["op"] == "event" for m in got), "resumed, not resynced"
            assert board.stats.connects >= 2 and board.stats.resyncs == 0
            await engine.counter_op("demo", "4", "recall", AGENT)
            live = await board.next(10)
            assert live["type"] == "recalled" and live["data"]["number"] == "C001"
    finally:
        stop(proc)


async def test_two_hub_processes_share_through_redis(redis_server: EmbeddedRedis,
                                                     engine: Engine) -> None:
    with hub(redis_server.url) as (_, port_a), hub(redis_server.url) as (_, port_b):
        display = make_token(SECRET, "display", site="demo")
        agent = make_token(SECRET, "agent", site="demo", counter="1")
        kiosk = make_token(SECRET, "kiosk", site="demo")
        async with Client(f"ws://127.0.0.1:{port_b}/ws", display) as board_b:
            await board_b.subscribe("board:demo")
            await board_b.next(10)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port_a}") as a:
                r = await a.post("/v1/sites/demo/tickets", json={"service": "internal",
                                 "channel": "kiosk"}, headers={"Authorization": f"Bearer {kiosk}"})
                t = r.json()
                async with Client(f"ws://127.0.0.1:{port_a}/ws", t["token"]) as phone_a:
                    await phone_a.subscribe(f"ticket:{t['id']}")
                    await phone_a.next(10)
                    await a.post("/v1/sites/demo/counters/1/call-next",
                                 headers={"Authorization": f"Bearer {agent}"})
                    assert (await phone_a.next(10))["type"] == "called"
            msgs = [await board_b.next(10), await board_b.next(10)]
            assert msgs[-1]["type"] == "called" and msgs[-1]["data"]["number"] == "A001"


async def test_workers_serve_one_port(redis_server: EmbeddedRedis, engine: Engine) -> None:
    with hub(redis_server.url, workers=2) as (proc, port):
        children = _children(proc.pid)
        assert len(children) >= 2, "two worker processes"
        display = make_token(SECRET, "display", site="demo")
        clients = [Client(f"ws://127.0.0.1:{port}/ws", display) for _ in range(6)]
        for c in clients:
            await c.start()
            await c.subscribe("board:demo")
            await c.next(10)
        await engine.issue("demo", TicketRequest("lab", Channel.KIOSK), AGENT)
        await engine.counter_op("demo", "4", "call-next", AGENT)
        for c in clients:
            while (m := await c.next(10)).get("type") != "called":
                pass
            assert m["data"]["number"] == "C001"
            await c.close()
