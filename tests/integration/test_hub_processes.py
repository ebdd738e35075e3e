"""Hub processes sharing one Redis: killed -9 and restarted, two side by side, --workers."""

from __future__ import annotations

import asyncio
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


def start_hub(redis_url: str, port: int, workers: int = 1, data_dir: Path | None = None,
              log: Path | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SWITCHBOARD_SECRET": SECRET,
           "SWITCHBOARD_LOG_LEVEL": "info" if log else "warning"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    extra = ["--data-dir", str(data_dir)] if data_dir else []
    with log.open("wb") if log else contextlib.nullcontext() as f:
        out = f if log else subprocess.DEVNULL
        proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "serve", "--redis-url",
                                 redis_url, "--port", str(port), "--workers", str(workers),
                                 *extra], env=env, stdout=out, stderr=out,
                                start_new_session=True)
    deadline = time.monotonic() + 60  # a loaded machine starts two processes slowly
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        time.sleep(0.1)
    stop(proc)
    raise AssertionError("hub did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(15)
    # Whatever of the group outlived the parent (a --workers child still closing its
    # sockets: orphans kept running, and logging, after the test).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def hub(redis_url: str, port: int | None = None, workers: int = 1,
        data_dir: Path | None = None, log: Path | None = None
        ) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = port or free_port()
    proc = start_hub(redis_url, port, workers, data_dir, log)
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


async def _boards(port: int, n: int) -> list[Client]:
    """``n`` display clients on ``board:demo``, each past its snapshot."""
    display = make_token(SECRET, "display", site="demo")
    clients = [Client(f"ws://127.0.0.1:{port}/ws", display) for _ in range(n)]
    for c in clients:
        await c.start()
        await c.subscribe("board:demo")
        await c.next(10)
    return clients


async def test_workers_serve_one_port(redis_server: EmbeddedRedis, engine: Engine,
                                     tmp_path: Path) -> None:
    with hub(redis_server.url, workers=2, data_dir=tmp_path) as (proc, port):
        children = _children(proc.pid)
        assert len(children) >= 2, "two worker processes"
        clients = await _boards(port, 6)
        await engine.issue("demo", TicketRequest("lab", Channel.KIOSK), AGENT)
        await engine.counter_op("demo", "4", "call-next", AGENT)
        for c in clients:
            while (m := await c.next(10)).get("type") != "called":
                pass
            assert m["data"]["number"] == "C001"
            await c.close()


def _series(text: str, prefix: str) -> float:
    """The sum of the samples whose line starts with ``prefix``."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(prefix))


async def test_workers_metrics_and_logs_cover_every_process(redis_server: EmbeddedRedis,
                                                            tmp_path: Path) -> None:
    """/metrics with --workers 2 counts both processes on every scrape (it answered from one
    picked at random: 219, 220, 221, 23, 222), a dead process's connections leave the
    gauge, and each process logs as the parent does (its INFO lines vanished)."""
    log = tmp_path / "serve.log"
    with hub(redis_server.url, workers=2, data_dir=tmp_path, log=log) as (proc, port):
        base = f"http://127.0.0.1:{port}"
        clients = await _boards(port, 6)
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            for _ in range(40):
                assert (await http.get("/healthz")).status_code == 200
            seen = []
            for _ in range(6):
                text = (await http.get("/metrics")).text
                seen.append((_series(text, 'switchboard_http_responses_total{status="2xx"'),
                             _series(text, "switchboard_connections ")))
            # Every scrape: at least the 40 answers, and no scrape fewer than the one before.
            oks = [s for s, _ in seen]
            assert oks[0] >= 40 and oks == sorted(oks), seen
            assert {c for _, c in seen} == {6.0}, seen
            assert (tmp_path / "prometheus").is_dir()
            # A hub process killed: its clients reconnect to the other, and its own count
            # leaves the sum (it stayed: 6 connections read as 6 + the dead one's).
            victim = int(_children(proc.pid)[0].name)
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 30
            count = -1.0
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    count = _series((await http.get("/metrics")).text,
                                    "switchboard_connections ")
                    stale = list((tmp_path / "prometheus").glob(f"gauge_live*_{victim}.db"))
                    if count == 6 and not stale:
                        break
                assert time.monotonic() < deadline, f"the dead process's count stayed: {count}"
                await asyncio.sleep(0.2)
            # Something each process logs: a revocation (WARNING switchboard.revocation_api).
            admin = make_token(SECRET, "admin")
            r = await http.post("/v1/revocations", json={"subject": "nobody-in-particular"},
                                headers={"Authorization": f"Bearer {admin}"})
            assert r.status_code in (200, 201), r.text
        for c in clients:
            await c.close()
    lines = log.read_text(errors="replace").splitlines()
    # A child's own line: time, level and logger (it printed bare, or nothing at all).
    own = [x for x in lines if " WARNING switchboard" in x and "revoked" in x]
    assert own, lines[-20:]
