"""A quiet topic resumes after its server is killed -9 and restarted, even once the stream's
trim has passed the last message it got.

A page follows a topic that nothing happens to for a while (a counter whose services are
quiet, a ticket in a quiet queue) while the site's stream moves on elsewhere; the trim
(entries older than ``history_ttl_s`` beyond the last ``history_min_entries``) passes that
page's last offset. It missed nothing, but a resume from an offset before the trim mark can
only be answered with a resync. The hub moves such topics on: when a trim passes the last
offset it sent them, it sends their current state at the feed's offset (the state message
a resume ends with), so the page's position stays inside the history. Real processes: the
hub is ``switchboard serve`` on its own Redis, killed -9 and started again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from clients.client import Client
from queueing import keys
from queueing.engine import Engine
from queueing.model import Channel, TicketRequest
from queueing.store import Store
from realtime.auth import make_token
from realtime.redisproc import EmbeddedRedis
from tests.conftest import free_port
from tests.integration.conftest import running_server
from tests.integration.test_hub_processes import (  # noqa: F401 - engine: the fixture
    AGENT,
    SECRET,
    engine,
    start_hub,
)

# The demo site, its counters open (test_hub_processes' fixture).
pytestmark = pytest.mark.usefixtures("engine")

# A short history, trimmed often: what a busy day does to a quiet topic in ten minutes.
HISTORY = {"SWITCHBOARD_HISTORY_TTL_S": "1", "SWITCHBOARD_HISTORY_MIN_ENTRIES": "5",
           "SWITCHBOARD_TRIM_INTERVAL_S": "1"}


def kill9(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def counters(port: int) -> tuple[float, float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
    values = {ln.split()[0]: float(ln.split()[1]) for ln in text.splitlines()
              if ln.startswith(("switchboard_resumes_total ", "switchboard_resyncs_total "))}
    return values["switchboard_resumes_total"], values["switchboard_resyncs_total"]


def before(a: str, b: str) -> bool:
    return tuple(map(int, a.split("-"))) < tuple(map(int, b.split("-")))


async def drain(c: Client, seconds: float) -> list[dict[str, Any]]:
    got = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                got.append(await c.next())
    return got


async def test_quiet_topics_resume_after_the_trim_passed_them(
        redis_server: EmbeddedRedis, redis: Redis, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in HISTORY.items():  # (the hub process takes them from its environment)
        monkeypatch.setenv(name, value)
    eng = Engine(Store(redis), config_ttl_s=0)
    port = free_port()
    proc = start_hub(redis_server.url, port)
    try:
        waiting = await eng.issue("demo", TicketRequest("paediatrics", Channel.KIOSK), AGENT)
        tid = waiting.ticket["id"]
        url = f"ws://127.0.0.1:{port}/ws"
        console = Client(url, make_token(SECRET, "agent", site="demo", counter="3"),
                         backoff_min_s=0.05, backoff_max_s=0.3)
        phone = Client(url, make_token(SECRET, "ticket", ticket=tid), backoff_min_s=0.05,
                       backoff_max_s=0.3)
        async with console, phone:
            await console.subscribe("counter:demo:3")  # paediatrics: nothing happens there
            await phone.subscribe(f"ticket:{tid}")  # waits, first in its queue, all along
            assert (await console.next(10))["op"] == "snapshot"
            assert (await phone.next(10))["op"] == "snapshot"
            quiet = {c: c.positions[t] for c, t in ((console, "counter:demo:3"),
                                                    (phone, f"ticket:{tid}"))}
            # The lab is busy: 40 entries the quiet topics have nothing to do with.
            for _ in range(10):
                await eng.issue("demo", TicketRequest("lab", Channel.KIOSK), AGENT)
                await eng.counter_op("demo", "4", "call-next", AGENT)
                await eng.counter_op("demo", "4", "complete", AGENT)
            mark = b"0-0"
            async with asyncio.timeout(15):
                while not all(before(p.offset, mark.decode()) for p in quiet.values()):
                    await asyncio.sleep(0.2)
                    mark = await redis.get(keys.prefix("demo") + "trimmed") or b"0-0"
            # The trim has passed both pages' last offsets; a trim round later, kill -9.
            for c in quiet:
                await drain(c, 2.5)
            kill9(proc)
            proc = start_hub(redis_server.url, port)
            for _ in range(150):  # both back and answered (a resume missing nothing
                if sum(counters(port)) >= 2:  # sends nothing)
                    break
                await asyncio.sleep(0.2)
            after = {c: await drain(c, 0.5) for c in quiet}
            resumes, resyncs = counters(port)
            for c, got in after.items():
                assert c.stats.connects == 2
                assert not [m for m in got if m.get("resync")], f"resynced: {got}"
            assert (resumes, resyncs) == (2, 0)
            # Still live: the console hears its service, the phone its call.
            await eng.counter_op("demo", "3", "call-next", AGENT)
            assert any(m.get("type") == "called" for m in await drain(phone, 3))
    finally:
        kill9(proc)


async def test_a_trim_moves_quiet_topics_on_once(redis: Redis, redis_server: EmbeddedRedis,
                                                 tmp_path: Path) -> None:
    # In one process: the state message comes once per trim mark that passes the topic,
    # a topic with no state message (service:, by design) gets none, and a connection that
    # drops afterwards resumes.
    settings = {k.removeprefix("SWITCHBOARD_").lower(): int(v) for k, v in HISTORY.items()}
    async with running_server(redis_server.url, tmp_path, **settings) as s:
        eng = Engine(Store(redis), config_ttl_s=0)
        url = s.base.replace("http", "ws") + "/ws"
        async with Client(url, s.token("agent", site="demo", counter="3"),
                          backoff_min_s=0.05, backoff_max_s=0.3) as console:
            await console.subscribe("counter:demo:3")
            await console.subscribe("service:demo:paediatrics")
            first = [await console.next(10), await console.next(10)]
            assert [m["op"] for m in first] == ["snapshot", "snapshot"]
            held = console.positions["counter:demo:3"]
            assert held is not None
            for _ in range(10):
                await eng.issue("demo", TicketRequest("lab", Channel.KIOSK), AGENT)
                await eng.counter_op("demo", "4", "call-next", AGENT)
                await eng.counter_op("demo", "4", "complete", AGENT)
            moved = await console.next(10)
            mark = (await redis.get(keys.prefix("demo") + "trimmed") or b"0-0").decode()
            assert moved["op"] == "event" and moved["topic"] == "counter:demo:3"
            assert moved["type"] == "waiting" and moved["data"]["counter"] == "3"
            assert before(held.offset, mark) and before(mark, moved["offset"])
            assert await drain(console, 2.5) == [], "once per mark, none for service:"
            assert console._ws is not None
            await console._ws.close()  # a network drop
            again = await drain(console, 2)
            assert console.stats.connects == 2
            counter_msgs = [m for m in again if m["topic"] == "counter:demo:3"]
            assert counter_msgs == [], f"resumed with nothing missed: {counter_msgs}"
            assert [m.get("resync") for m in again] == [True], "service: snapshots, by design"
