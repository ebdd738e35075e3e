"""The demo's flag (the worker keeps texts in an outbox for the demo's phone page) does not
outlive the demo: ``switchboard serve`` without ``--demo`` on data that once ran it clears
it, so a real deployment's texts are not kept in an outbox nobody reads."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from redis.asyncio import Redis

from queueing import keys
from realtime.redisproc import EmbeddedRedis
from tests.conftest import free_port


def _serve(redis_url: str, data: Path, *flags: str) -> subprocess.Popen[bytes]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "realtime.cli", "serve", "--port", str(port),
                             "--redis-url", redis_url, "--data-dir", str(data),
                             "--log-level", "warning", *flags],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(400):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not start")


def _stop(proc: subprocess.Popen[bytes]) -> bytes:
    proc.terminate()
    _, err = proc.communicate(timeout=30)
    return err


async def test_serve_without_demo_clears_the_demo_flag(redis: Redis, redis_server: EmbeddedRedis,
                                                      tmp_path: Path) -> None:
    demo = _serve(redis_server.url, tmp_path / "data", "--demo")
    try:
        assert await redis.get(keys.DEMO) == b"1"
    finally:
        _stop(demo)
    assert await redis.get(keys.DEMO) == b"1"  # stopping is not enough: it stayed for ever
    plain = _serve(redis_server.url, tmp_path / "data")
    try:
        assert await redis.exists(keys.DEMO) == 0
    finally:
        err = _stop(plain)
    assert b"once ran the demo" in err
    again = _serve(redis_server.url, tmp_path / "data")  # nothing to clear: nothing said
    assert b"once ran the demo" not in _stop(again)
