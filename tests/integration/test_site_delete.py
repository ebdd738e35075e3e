"""A mistyped site id (review: an IT admin setting up three sites): ``PUT
/v1/sites/Main-Hospital`` next to main-hospital is refused (``site_id_case``); ``GET
/v1/sites?near=ID`` names the existing ids ID is probably a typo of; and ``DELETE
/v1/sites/{site}`` removes a site that was never used — every key of it — while one with
history (a ticket, an opened counter, a booking) is ``409 site_in_use`` and stays as it was."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from redis.asyncio import Redis

from loadtest.rush import schedule
from queueing import keys
from queueing.demo import demo_site
from tests.integration.conftest import Server

TYPO = {"name": "typo", "timezone": "Asia/Shanghai", "languages": ["zh", "en"],
        "services": [{"id": "a", "name": "A", "prefix": "A"}],
        "counters": [{"id": "1", "name": "1", "services": ["a"]}]}


async def _keys(redis: Redis, site: str) -> list[bytes]:
    return [k async for k in redis.scan_iter(match=keys.prefix(site) + "*")]


async def _put(server: Server, site: str, body: Any) -> Any:
    return await server.client.put(f"/v1/sites/{site}", headers=server.auth("admin"),
                                   content=msgspec.json.encode(body))


async def test_a_new_id_equal_but_for_case_is_refused(server: Server, redis: Redis) -> None:
    r = await _put(server, "Demo", TYPO)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "site_id_case"
    assert r.json()["details"]["existing"] == "demo"
    assert await _keys(redis, "Demo") == []
    assert b"Demo" not in await redis.smembers(keys.SITES)  # type: ignore[misc]
    # The existing site itself is still saved as before (same id: no refusal).
    assert (await _put(server, "demo", demo_site())).status_code == 200


async def test_near_names_the_ids_a_typo_is_close_to(server: Server) -> None:
    admin = server.auth("admin")
    r = await server.client.get("/v1/sites", params={"near": "DEMO"}, headers=admin)
    assert r.json() == {"sites": ["demo"], "near": ["demo"]}
    r = await server.client.get("/v1/sites", params={"near": "dmeo"}, headers=admin)
    assert r.json()["near"] == ["demo"]
    r = await server.client.get("/v1/sites", params={"near": "pharmacy"}, headers=admin)
    assert r.json()["near"] == []
    assert (await server.client.get("/v1/sites", headers=admin)).json() == {"sites": ["demo"]}


async def test_a_never_used_site_is_deleted_with_every_key(server: Server,
                                                           redis: Redis) -> None:
    admin = server.auth("admin")
    assert (await _put(server, "mian", TYPO)).status_code == 200
    # Saved twice and given a booking schedule: still set-up only.
    assert (await _put(server, "mian", {**TYPO, "name": "typo 2"})).status_code == 200
    r = await server.client.put("/v1/sites/mian/booking", headers=admin, json={
        **schedule(30), "templates": [{**t, "service": "a"} for t in schedule(30)["templates"]],
        "resources": [{**x, "services": ["a"]} for x in schedule(30)["resources"]]})
    assert r.status_code == 200, r.text
    # Its day closed (overnight, before the typo was seen): nothing was ended, no history.
    r = await server.client.post("/v1/sites/mian/close-day", headers=admin, json={})
    assert r.status_code == 200, r.text
    for _ in range(200):  # until the audit trail has recorded the set-up and the close
        if any(b":audit:" in k for k in await _keys(redis, "mian")):
            break
        await asyncio.sleep(0.05)
    assert any(b":audit:" in k for k in await _keys(redis, "mian"))
    for role in ("kiosk", "supervisor"):  # only an admin deletes
        r = await server.client.delete("/v1/sites/mian", headers=server.auth(role, site="mian"))
        assert r.status_code == 403, r.text
    r = await server.client.delete("/v1/sites/mian", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["deleted"] == "mian"
    assert await _keys(redis, "mian") == []
    assert b"mian" not in await redis.smembers(keys.SITES)  # type: ignore[misc]
    r = await server.client.get("/v1/sites/mian", headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "unknown_site"
    r = await server.client.delete("/v1/sites/mian", headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "unknown_site"
    # The id is free again: created anew, it starts empty.
    assert (await _put(server, "mian", TYPO)).status_code == 200


async def test_a_site_with_history_is_not_deleted(server: Server, redis: Redis) -> None:
    admin = server.auth("admin")
    before = sorted(await _keys(redis, "demo"))  # counters opened: history already
    r = await server.client.delete("/v1/sites/demo", headers=admin)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "site_in_use"
    assert sorted(await _keys(redis, "demo")) == before
    # A site whose only history is one ticket.
    assert (await _put(server, "ward", TYPO)).status_code == 200
    r = await server.client.post("/v1/sites/ward/tickets", headers=admin,
                                 json={"service": "a", "channel": "kiosk"})
    assert r.status_code == 201, r.text
    kept = sorted(await _keys(redis, "ward"))
    r = await server.client.delete("/v1/sites/ward", headers=admin)
    assert r.status_code == 409 and r.json()["code"] == "site_in_use", r.text
    assert "t" in r.json()["details"]["found"]
    assert sorted(await _keys(redis, "ward")) == kept
    assert (await server.client.get("/v1/sites/ward", headers=admin)).status_code == 200


async def test_zone_country_says_the_country_a_zone_implies(server: Server) -> None:
    async def ask(zone: str) -> Any:
        r = await server.client.get("/v1/zone-country", params={"zone": zone},
                                    headers=server.auth("admin"))
        assert r.status_code == 200, r.text
        return r.json()
    assert await ask("Europe/London") == {"zone": "Europe/London", "known": True,
                                          "country": "GB"}
    assert await ask("UTC") == {"zone": "UTC", "known": True, "country": None}
    for bad in ("Europe", "Mars/Base", "../etc", ""):
        assert (await ask(bad))["known"] is False, bad
    r = await server.client.get("/v1/zone-country", params={"zone": "UTC"},
                                headers=server.auth("kiosk", site="demo"))
    assert r.status_code == 403
