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
    assert worker.startswith(f"switchboard worker --data-dir '{data.resolve()}'")
    assert "--base http://127.0.0.1:41873 " in sim and "--region city" in sim
    shared = Settings(data_dir=str(data), redis_url="redis://10.0.0.5:6380/2")
    worker, _ = next_commands(shared, "http://127.0.0.1:8000")
    assert worker.startswith("switchboard worker --redis-url redis://10.0.0.5:6380/2")
