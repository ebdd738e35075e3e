"""Fixtures for integration tests: engine on real Redis, and a real uvicorn server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis

from queueing import keys
from queueing.demo import demo_site
from queueing.engine import Actor, Engine
from queueing.store import Store
from realtime.app import create_app
from realtime.auth import make_token
from realtime.cli import uvicorn_options
from realtime.hub.entry import id_lt
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings
from tests.conftest import free_port

SECRET = "test-secret-0123456789abcdef0123456789"
ADMIN = Actor("test-admin", "test")


class Clock:
    """A settable clock for the engine: time is an argument."""

    def __init__(self, start_ms: int = 1_795_000_000_000) -> None:
        self.now = start_ms

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def engine(redis: Redis, clock: Clock) -> Engine:
    return Engine(Store(redis), clock=clock, config_ttl_s=0)


@pytest.fixture
async def demo(engine: Engine) -> Engine:
    await engine.put_site("demo", demo_site(), ADMIN)
    for c in demo_site().counters:
        await engine.counter_op("demo", c.id, "open", ADMIN)
    return engine


@dataclass
class Server:
    base: str
    settings: Settings
    client: httpx.AsyncClient
    app: Any = None

    async def caught_up(self, site: str = "demo", timeout_s: float = 10.0) -> None:
        """Until this server's hub has applied every event of ``site`` written so far (what
        reads its live view, as text-to-join does, then sees them): not a fixed sleep."""
        c = self.app.state.sb
        info = await c.redis.xinfo_stream(keys.events(site))
        last = info["last-generated-id"]
        last = last.decode() if isinstance(last, bytes) else last
        feed = await c.hub.feed(site)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while id_lt(feed.offset, last):
            assert asyncio.get_running_loop().time() < deadline, (feed.offset, last)
            await asyncio.sleep(0.01)

    def token(self, role: str, **kw: str) -> str:
        return make_token(SECRET, role, **kw)

    def auth(self, role: str, **kw: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, **kw)}"}


@contextlib.asynccontextmanager
async def running_server(redis_url: str, data_dir: Path, log_level: str = "warning",
                         **overrides: object) -> AsyncIterator[Server]:
    port = free_port()
    settings = Settings(port=port, redis_url=redis_url, secret=SECRET, data_dir=str(data_dir),
                        **overrides)  # type: ignore[arg-type]
    # The same uvicorn set-up as `switchboard serve` (protocol, limits, keepalive).
    options = {**uvicorn_options(settings), "log_level": log_level, "lifespan": "on"}
    app = create_app(settings)
    config = uvicorn.Config(app, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    base = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        try:
            yield Server(base, settings, client, app)
        finally:
            server.should_exit = True
            await task


@pytest.fixture
async def server(redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path
                 ) -> AsyncIterator[Server]:
    async with running_server(redis_server.url, tmp_path) as s:
        r = await s.client.put("/v1/sites/demo", content=_demo_json(), headers=s.auth("admin"))
        assert r.status_code == 200, r.text
        for c in demo_site().counters:
            r = await s.client.post(f"/v1/sites/demo/counters/{c.id}/open",
                                    headers=s.auth("admin"))
            assert r.status_code == 200, r.text
        yield s


def _demo_json() -> bytes:
    import msgspec
    return msgspec.json.encode(demo_site())
