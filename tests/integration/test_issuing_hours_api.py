"""``GET /v1/sites/{site}/hours`` (realtime/hours_api.py) on a running server."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from tests.integration.conftest import Server
from tests.integration.test_issuing_hours import with_hours


async def test_hours_read_by_a_kiosk(server: Server) -> None:
    s = server
    kiosk = s.auth("kiosk", site="demo")
    r = await s.client.get("/v1/sites/demo/hours", headers=kiosk)
    assert r.status_code == 200, r.text
    assert r.json()["configured"] is False and r.json()["open_now"] is True
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    name = {"en": "Spring Festival", "zh": "春节"}
    doc = msgspec.to_builtins(with_hours(
        closed=[{"date": today.isoformat(), "name": name}],
        services={"lab": {"mon": [["08:00", "09:00"]]}}))
    r = await s.client.put("/v1/sites/demo", json=doc, headers=s.auth("admin"))
    assert r.status_code == 200, r.text
    got = (await s.client.get("/v1/sites/demo/hours", headers=kiosk)).json()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert got["site"] == "demo" and got["configured"] is True and got["open_now"] is False
    assert (got["date"], got["today"], got["closed_note"]) == (today.isoformat(), [], name)
    assert got["next_open"] == f"{tomorrow}T00:00:00+08:00"
    assert got["next_open_local"]["date"] == tomorrow
    lab = got["services"]["lab"]
    monday = date.fromisoformat(lab["next_open_local"]["date"])
    assert lab["open_now"] is False and monday.weekday() == 0 and monday > today
    other = s.auth("kiosk", site="elsewhere")
    assert (await s.client.get("/v1/sites/demo/hours", headers=other)).status_code == 403
    missing = await s.client.get("/v1/sites/nosuch/hours", headers=s.auth("admin"))
    assert missing.status_code == 404 and missing.json()["code"] == "unknown_site"
