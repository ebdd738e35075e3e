"""The booking page's code (notification ``verify``) says its time as every other text does:
the site's local time to the second (it was UTC cut short, "2026-12-07T03:29:00+00:00"),
and until when the code is good (``valid_until``, the code's 10 minutes)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import msgspec
from redis.asyncio import Redis

from queueing import keys
from realtime.redisproc import EmbeddedRedis
from realtime.verify import CODE_TTL_S
from tests.integration.test_security_review import demo_server

LOCAL = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00"  # the demo is in Asia/Shanghai


async def test_the_code_text_is_dated_in_site_time(
        redis: Redis, redis_server: EmbeddedRedis, tmp_path: Path) -> None:
    async with demo_server(redis_server, tmp_path, booking=True, demo=True) as s:
        web = s.auth("partner", site="demo", channels=["web"])  # type: ignore[arg-type]
        before = datetime.now().astimezone()
        r = await s.client.post("/v1/sites/demo/verify", headers=web,
                                json={"phone": "13800138991"})
        assert r.status_code == 202, r.text
        raw = await redis.lrange(keys.sms_outbox("demo", "+8613800138991"), -1, -1)
        n = msgspec.json.decode(raw[0])
        assert n["kind"] == "verify"
        assert re.fullmatch(LOCAL, n["at"]) and re.fullmatch(LOCAL, n["valid_until"]), n
        at, until = datetime.fromisoformat(n["at"]), datetime.fromisoformat(n["valid_until"])
        assert abs((at - before).total_seconds()) < 5
        assert (until - at).total_seconds() == CODE_TTL_S
