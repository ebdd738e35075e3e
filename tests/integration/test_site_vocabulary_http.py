"""The site's ``vocabulary`` over HTTP: PUT keeps it, GET and the pages' boot block say it,
and an unknown one is refused (400 ``bad_request``, ``details.field``) with the site left as
it was: same document, same version, same events."""

from __future__ import annotations

import json
import re

from redis.asyncio import Redis

from queueing import keys
from tests.integration.conftest import Server

BOOT = re.compile(r'<script id="boot" type="application/json">(.*?)</script>', re.S)


def boot_of(html: str) -> dict[str, object]:
    m = BOOT.search(html)
    assert m, html[:400]
    return dict(json.loads(m.group(1)))


async def test_put_get_and_boot_carry_the_vocabulary(server: Server) -> None:
    c, admin = server.client, server.auth("admin")
    site = (await c.get("/v1/sites/demo", headers=admin)).json()
    assert site["vocabulary"] == "clinic"  # the demo is a clinic
    kiosk = server.token("kiosk", site="demo")
    page = await c.get(f"/kiosk/demo?token={kiosk}")
    assert boot_of(page.text)["vocabulary"] == "clinic"
    doc = {k: v for k, v in site.items() if k not in ("id", "version")}
    doc["counters"] = [{k: v for k, v in ctr.items() if k not in ("state", "ticket")}
                       for ctr in doc["counters"]]
    r = await c.put("/v1/sites/demo", json={**doc, "vocabulary": "government"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["vocabulary"] == "government"
    page = await c.get(f"/kiosk/demo?token={kiosk}")
    assert boot_of(page.text)["vocabulary"] == "government"
    # The default (general) is what a site without the field has, and is left out.
    del doc["vocabulary"]
    r = await c.put("/v1/sites/demo", json=doc, headers=admin)
    assert r.status_code == 200 and "vocabulary" not in r.json()
    page = await c.get(f"/board/demo?token={server.token('display', site='demo')}")
    assert boot_of(page.text)["vocabulary"] == "general"


async def test_an_unknown_vocabulary_changes_nothing(server: Server) -> None:
    c, admin = server.client, server.auth("admin")
    before = (await c.get("/v1/sites/demo", headers=admin)).json()
    async with Redis.from_url(server.settings.redis_url) as r:
        events = await r.xlen(keys.events("demo"))
        doc = {k: v for k, v in before.items() if k not in ("id", "version")}
        doc["counters"] = [{k: v for k, v in ctr.items() if k not in ("state", "ticket")}
                           for ctr in doc["counters"]]
        for bad in ("hospital", "", 7):
            refused = await c.put("/v1/sites/demo", json={**doc, "vocabulary": bad},
                                  headers=admin)
            assert refused.status_code == 400, refused.text
            body = refused.json()
            assert body["code"] == "bad_request"
            assert body["details"]["field"] == "vocabulary"
        assert await r.xlen(keys.events("demo")) == events
    after = (await c.get("/v1/sites/demo", headers=admin)).json()
    assert after == before  # same document, same version
