"""The links `serve --demo` prints are what a site sets its screens up from."""

from __future__ import annotations

from pathlib import Path

import jwt

from realtime.demo import load_demo
from realtime.redisproc import EmbeddedRedis
from realtime.settings import Settings
from tests.integration.conftest import SECRET


def _claims(link: str) -> dict[str, object]:
    token = link.split("token=", 1)[1].split("&", 1)[0]
    return jwt.decode(token, SECRET, algorithms=["HS256"])  # type: ignore[no-any-return]


async def test_screen_and_kiosk_links_last_as_long_as_device_tokens(
        redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    settings = Settings(redis_url=redis_server.url, secret=SECRET, data_dir=str(tmp_path))
    pages = await load_demo(settings)
    for name in ("Display board / 叫号屏", "Kiosk / 取号机"):
        claims = _claims(pages[name])
        # A board set up from the printed link must not go dark after a week.
        assert claims["exp"] - claims["iat"] == settings.device_token_ttl_s  # type: ignore[operator]
    counter = _claims(pages["Counter 1 console / 1号窗口"])
    assert counter["role"] == "agent"


def test_printed_commands_point_at_this_server_and_its_redis(tmp_path: Path) -> None:
    from realtime.demo import next_commands
    data = tmp_path / "my data"
    embedded = Settings(port=41873, data_dir=str(data), redis_url=f"unix://{data}/redis.sock")
    worker, sim = next_commands(embedded, "http://127.0.0.1:41873")
    # The demo's texts link to its pages: the worker is told where they are. (The programs'
    # full paths: tests/integration/test_demo_banner_commands.py.)
    assert worker.startswith("SWITCHBOARD_PUBLIC_URL=http://127.0.0.1:41873 ")
    assert f" worker --data-dir '{data.resolve()}'" in worker
    assert "--base http://127.0.0.1:41873 " in sim and "--region city" in sim
    shared = Settings(data_dir=str(data), redis_url="redis://10.0.0.5:6380/2",
                      public_url="https://q.example.org")
    worker, _ = next_commands(shared, "http://127.0.0.1:8000")
    assert " worker --redis-url redis://10.0.0.5:6380/2" in worker
    assert not worker.startswith("SWITCHBOARD_PUBLIC_URL")


async def test_a_restart_keeps_what_the_operators_changed(redis_server: EmbeddedRedis,
                                                          tmp_path: Path) -> None:
    from redis.asyncio import Redis

    from queueing.booking.engine import BookingEngine
    from queueing.demo import DEMO_SITE, demo_booking
    from queueing.engine import Actor, Engine
    from queueing.store import Store
    settings = Settings(redis_url=redis_server.url, secret=SECRET, data_dir=str(tmp_path))
    await load_demo(settings)
    redis = Redis.from_url(redis_server.url)
    try:
        engine = Engine(Store(redis), config_ttl_s=0)
        who = Actor("admin", "test")
        cfg = await engine.config(DEMO_SITE)
        cfg.services[0].name = "Renamed"
        await engine.put_site(DEMO_SITE, cfg, who)
        await engine.counter_op(DEMO_SITE, cfg.counters[0].id, "close", who)
        schedule = demo_booking()
        schedule.policy.hold_ttl_s = 60
        await BookingEngine(engine).put_config(DEMO_SITE, schedule, who)
        await load_demo(settings)  # a restart of `serve --demo`
        again = await engine.config(DEMO_SITE)
        assert again.services[0].name == "Renamed"
        site = await engine.site(DEMO_SITE)
        assert site["counters"][0]["state"] == "closed"
        kept = await BookingEngine(engine).schedule(DEMO_SITE, fresh=True)
        assert kept.policy.hold_ttl_s == 60
    finally:
        await redis.aclose()
