"""`switchboard worker` outlives its Redis: `serve` stops its embedded Redis on every restart,
and a worker that died with it would leave the site without reminders, offers and
recomputes until someone noticed."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from arq.connections import RedisSettings, create_pool
from redis.asyncio import Redis

from queueing import keys
from realtime.redisproc import EmbeddedRedis

pytestmark = pytest.mark.slow


async def _job_runs(sock: Path, timeout_s: float) -> bool:
    """A job enqueued now is run (heartbeat: the one job whose result is kept)."""
    pool = await create_pool(RedisSettings(unix_socket_path=str(sock)))
    try:
        job = await pool.enqueue_job("heartbeat")
        assert job is not None
        await job.result(timeout=timeout_s)
        return True
    finally:
        await pool.aclose()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
async def test_worker_waits_for_redis_and_carries_on(tmp_path: Path, stop: signal.Signals
                                                     ) -> None:
    """…and stopped afterwards (Ctrl-C, or systemd's SIGTERM) logs nothing at ERROR: the
    tasks of the run Redis's restart ended (notifications, notify-retry, heap-trim,
    nt:<site>) were cancelled then, not left for "Task was destroyed but it is pending!"."""
    data = tmp_path / "data"
    data.mkdir()
    redis = EmbeddedRedis(data)
    redis.start()
    client = Redis.from_url(redis.url)
    await client.sadd(keys.SITES, "opd")  # a site: the notifications watch it (nt:opd)
    await client.aclose()
    log = (tmp_path / "worker.log").open("w")
    # Popen returns at once; the worker is a process of its own, as in production.
    worker = subprocess.Popen([sys.executable, "-m", "realtime.cli", "worker",  # noqa: ASYNC220
                               "--data-dir", str(data)], stdout=log, stderr=subprocess.STDOUT)
    try:
        assert await _job_runs(data / "redis.sock", 20)
        redis.stop()  # what Ctrl-C on `serve` does to its embedded Redis
        await asyncio.sleep(3)
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        redis = EmbeddedRedis(data)
        redis.start()
        assert await _job_runs(data / "redis.sock", 30)
        assert worker.poll() is None
    finally:
        worker.send_signal(stop)
        try:
            rc = worker.wait(20)
        finally:
            if worker.poll() is None:
                worker.kill()
            redis.stop()
            log.close()
    text = (tmp_path / "worker.log").read_text()
    assert rc == 0, text
    assert "is unreachable" in text and "Traceback" not in text
    assert " ERROR " not in text and "Task was destroyed" not in text, text


def test_burst_worker_without_redis_says_so(tmp_path: Path) -> None:
    started = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "realtime.cli", "worker", "--burst", "--data-dir",
                        str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "is unreachable" in r.stderr, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    assert time.monotonic() - started < 30
