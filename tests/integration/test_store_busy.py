"""A real Redis made busy by a long script (BUSY to every other client until it ends): the
server answers 503 ``unavailable`` (``details.reason: busy``), /readyz too, and serves
again after it; the worker waits it out instead of exiting."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server
from tests.integration.test_worker_reconnect import _job_runs

# Spins for ARGV[1] seconds of Redis's own clock: as the reviewer's drill, shorter.
SPIN = ("local s = tonumber(redis.call('TIME')[1]) "
        "while tonumber(redis.call('TIME')[1]) - s < tonumber(ARGV[1]) do end return 1")


@contextlib.asynccontextmanager
async def busy(url: str, seconds: int) -> AsyncIterator[None]:
    """Redis refuses everyone with BUSY while a script of ``seconds`` runs: after 100 ms of
    it rather than the default 5 s (busy-reply-threshold, alias lua-time-limit)."""
    client = Redis.from_url(url)
    await client.config_set("lua-time-limit", 100)
    script = asyncio.create_task(client.eval(SPIN, 0, seconds))  # type: ignore[arg-type]
    try:
        await asyncio.sleep(0.5)
        yield
    finally:
        with contextlib.suppress(Exception):
            await script
        await client.config_set("lua-time-limit", 5000)
        await client.aclose()


async def test_busy_redis_is_503_and_unready_then_serves(server: Server, redis: Redis,
                                                         redis_server: EmbeddedRedis) -> None:
    c = server.client
    ticket = {"service": "internal", "channel": "kiosk"}
    kiosk = server.auth("kiosk", site="demo")
    async with busy(redis_server.url, 3):
        r = await c.post("/v1/sites/demo/tickets", json=ticket, headers=kiosk)
        assert r.status_code == 503, r.text  # was 500 internal, with a traceback
        assert r.headers["Retry-After"] == "1"
        body = r.json()
        assert body["code"] == "unavailable" and body["temporary"] is True
        assert body["details"] == {"reason": "busy"}
        ready = await c.get("/readyz")
        assert ready.status_code == 503, ready.text  # was 500: the error was re-raised
        assert ready.json()["details"] == {"reason": "busy"}
        assert ready.headers["Retry-After"] == "1"
    assert (await c.get("/readyz")).status_code == 200
    r = await c.post("/v1/sites/demo/tickets", json=ticket, headers=kiosk)
    assert r.status_code == 201, r.text


@contextlib.contextmanager
def worker_process(data: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`switchboard worker` on ``data``'s Redis, a process of its own as in production;
    stopped as systemd does (SIGTERM) when the block ends."""
    with log_path.open("w") as log:
        worker = subprocess.Popen([sys.executable, "-m", "realtime.cli", "worker",
                                   "--data-dir", str(data)], stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            yield worker
        finally:
            worker.terminate()
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()


@pytest.mark.slow
async def test_worker_waits_out_a_busy_redis(tmp_path: Path) -> None:
    """arq's poll met BUSY, then its close() met BUSY again at its first command and that
    ended the process for good (BUSY is no ConnectionError)."""
    data = tmp_path / "data"
    data.mkdir()
    redis = EmbeddedRedis(data)
    redis.start()
    log_path = tmp_path / "worker.log"
    try:
        with worker_process(data, log_path) as worker:
            assert await _job_runs(data / "redis.sock", 30)
            async with busy(redis.url, 4):
                await asyncio.sleep(3)
            await asyncio.sleep(1)
            assert worker.poll() is None, log_path.read_text()[-3000:]
            assert await _job_runs(data / "redis.sock", 40), log_path.read_text()[-3000:]
            assert worker.poll() is None
    finally:
        redis.stop()
    text = log_path.read_text()
    assert worker.returncode == 0, text[-3000:]
    assert "answers busy" in text and "retrying in" in text, text[-3000:]
    # No traceback through the worker's loop (a job BUSY caught mid-run fails, and arq
    # logs that one with its traceback: the cron runs it again).
    assert "realtime/cli.py" not in text, text[-3000:]


async def test_a_websocket_frame_meeting_a_busy_redis_is_told_unavailable(
        server: Server, redis_server: EmbeddedRedis) -> None:
    """A frame whose work met BUSY was answered ``internal`` ("it has been logged", with a
    traceback per frame): it now gets what HTTP says, ``unavailable`` with the reason."""
    import json

    import websockets
    url = server.base.replace("http", "ws") + "/ws?token=" + server.token("admin")
    async with websockets.connect(url) as ws:
        async with busy(redis_server.url, 3):
            await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 4}))
            got = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert got["op"] == "error" and got["code"] == "unavailable", got
        assert got["temporary"] is True and got["details"] == {"reason": "busy"}
        assert got["id"] == 4
        await ws.send(json.dumps({"op": "subscribe", "topic": "board:demo", "id": 5}))
        got = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert got["op"] == "snapshot", got
