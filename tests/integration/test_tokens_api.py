"""``POST /v1/tokens``: an admin mints device and staff tokens over HTTP (the set-up page's
links). Minted tokens open exactly their scope; only admins mint; bad bodies are refused
with stable codes and mint nothing; an admin cannot mint an admin token that outlives it."""

from __future__ import annotations

import calendar
import logging
import time
from typing import Any

import jwt
import pytest

from tests.integration.conftest import SECRET, Server

MINTED = "minted a"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def mint(server: Server, body: dict[str, Any], token: str | None = None) -> Any:
    r = await server.client.post("/v1/tokens", json=body,
                                 headers=bearer(token or server.token("admin")))
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"  # it holds a token
    return r.json()


def claims(token: str) -> dict[str, Any]:
    out: dict[str, Any] = jwt.decode(token, SECRET, algorithms=["HS256"])
    return out


async def test_minted_tokens_open_exactly_their_scope(server: Server) -> None:
    c = server.client
    agent = await mint(server, {"role": "agent", "site": "demo", "counter": "1",
                                "subject": "console-1"})
    assert agent["role"] == "agent" and agent["subject"] == "console-1"
    assert agent["link"] == f"/counter/demo/1?token={agent['token']}"
    got = claims(agent["token"])
    assert (got["sub"], got["site"], got["counter"]) == ("console-1", "demo", "1")
    assert "ticket" not in got and "region" not in got
    a = bearer(agent["token"])
    assert (await c.get(agent["link"])).status_code == 200
    assert (await c.post("/v1/sites/demo/counters/1/pause", headers=a)).status_code == 200
    r = await c.post("/v1/sites/demo/counters/2/pause", headers=a)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert (await c.get("/counter/demo/2", headers=a)).status_code == 403
    assert (await c.put("/v1/sites/demo", content=b"{}", headers=a)).status_code == 403
    assert (await c.post("/v1/tokens", json={"role": "kiosk", "site": "demo",
                                             "subject": "k"}, headers=a)).status_code == 403

    board = await mint(server, {"role": "display", "site": "demo", "subject": "board-1"})
    assert board["link"] == f"/board/demo?token={board['token']}"
    assert (await c.get(board["link"])).status_code == 200
    assert (await c.get(f"/kiosk/demo?token={board['token']}")).status_code == 403
    r = await c.post("/v1/sites/demo/tickets", json={"service": "internal", "channel": "kiosk"},
                     headers=bearer(board["token"]))
    assert r.status_code == 403

    kiosk = await mint(server, {"role": "kiosk", "site": "demo", "subject": "kiosk-1"})
    assert kiosk["link"] == f"/kiosk/demo?token={kiosk['token']}"
    assert (await c.get(kiosk["link"])).status_code == 200
    r = await c.post("/v1/sites/demo/tickets", json={"service": "internal", "channel": "kiosk"},
                     headers=bearer(kiosk["token"]))
    assert r.status_code == 201, r.text
    assert (await c.post("/v1/sites/demo/counters/1/open",
                         headers=bearer(kiosk["token"]))).status_code == 403

    sup = await mint(server, {"role": "supervisor", "site": "demo", "subject": "head-nurse"})
    assert sup["link"] == f"/supervise/demo?token={sup['token']}"
    assert (await c.get(sup["link"])).status_code == 200
    assert (await c.post("/v1/sites/demo/counters/1/open",
                         headers=bearer(sup["token"]))).status_code == 403

    partner = await mint(server, {"role": "partner", "site": "demo", "subject": "app-backend",
                                  "channels": ["app", "app", "phone"]})
    assert partner["link"] is None
    assert claims(partner["token"])["channels"] == ["app", "phone"]
    # Web only: the site's public booking page, which it opens (the site need not take
    # bookings yet: the page says so).
    web = await mint(server, {"role": "partner", "site": "demo", "subject": "demo-web-1",
                              "channels": ["web"]})
    assert web["link"] == f"/book/demo?token={web['token']}"
    # Each subject can be revoked alone: the console goes, the kiosk stays.
    r = await c.post("/v1/revocations", json={"subject": "console-1"},
                     headers=server.auth("admin"))
    assert r.status_code == 200, r.text
    assert (await c.get(agent["link"])).status_code == 401
    assert (await c.get(kiosk["link"])).status_code == 200


@pytest.mark.parametrize("role, kw", [
    ("agent", {"site": "demo", "counter": "1"}), ("kiosk", {"site": "demo"}),
    ("display", {"site": "demo"}), ("supervisor", {"site": "demo"}),
    ("partner", {"site": "demo"}), ("ticket", {"ticket": "demo.000000000000"}),
    ("dispatcher", {"region": "city"}), ("tech", {"tech": "city.t1"}),
])
async def test_only_admins_mint(server: Server, role: str, kw: dict[str, str],
                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "switchboard.auth")
    body = {"role": "admin", "subject": "me"}
    r = await server.client.post("/v1/tokens", json=body,
                                 headers=server.auth(role, subject="me", **kw))
    assert r.status_code == 403 and r.json()["code"] == "forbidden", r.text
    r = await server.client.post("/v1/tokens", json=body)
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"
    assert MINTED not in caplog.text


BAD = [
    ({"role": "agent", "site": "demo", "subject": "c"}, 400, "bad_request", "counter"),
    ({"role": "kiosk", "subject": "k"}, 400, "bad_request", "site"),
    ({"role": "wizard", "site": "demo", "subject": "w"}, 400, "bad_request", "role"),
    ({"role": "kiosk", "site": "demo"}, 400, "bad_request", "subject"),
    ({"role": "kiosk", "site": "demo", "subject": ""}, 400, "bad_request", "subject"),
    ({"role": "kiosk", "site": "demo", "subject": "a\nb"}, 400, "bad_request", "subject"),
    ({"role": "kiosk", "site": "demo", "subject": "k", "counter": "1"}, 400, "bad_request",
     "counter"),
    ({"role": "display", "site": "demo", "subject": "d", "channels": ["app"]}, 400,
     "bad_request", "channels"),
    ({"role": "partner", "site": "demo", "subject": "p", "channels": ["fax"]}, 400,
     "bad_request", "channels[0]"),
    ({"role": "kiosk", "site": "demo", "subject": "k", "ttl_s": 0}, 400, "bad_request",
     "ttl_s"),
    ({"role": "kiosk", "site": "demo", "subject": "k", "ttl_s": "1y"}, 400, "bad_request",
     "ttl_s"),
    ({"role": "kiosk", "site": "demo", "subject": "k", "scope": "all"}, 400, "unknown_field",
     "scope"),
    ({"role": "kiosk", "site": "nowhere", "subject": "k"}, 404, "unknown_site", None),
    ({"role": "kiosk", "site": "bad site", "subject": "k"}, 400, "bad_request", "site"),
    ({"role": "agent", "site": "demo", "counter": "99", "subject": "c"}, 404,
     "unknown_counter", "counter"),
    ({"role": "admin", "subject": "someone-else"}, 403, "forbidden", "role"),
]


@pytest.mark.parametrize("body, status, code, field", BAD)
async def test_bad_bodies_are_refused_with_stable_codes_and_mint_nothing(
        server: Server, body: dict[str, Any], status: int, code: str, field: str | None,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "switchboard.auth")
    r = await server.client.post("/v1/tokens", json=body,
                                 headers=server.auth("admin", subject="it-setup"))
    assert r.status_code == status, r.text
    err = r.json()
    assert err["code"] == code and "token" not in err, err
    assert err.get("details", {}).get("field") == field, err
    assert MINTED not in caplog.text


async def test_not_json_mints_nothing(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "switchboard.auth")
    for raw in (b"", b"{", b"[]"):
        r = await server.client.post("/v1/tokens", content=raw, headers=server.auth("admin"))
        assert r.status_code == 400 and r.json()["code"] == "bad_request", r.text
    assert MINTED not in caplog.text


async def test_the_mint_is_logged_without_the_token(server: Server,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "switchboard.auth")
    got = await mint(server, {"role": "kiosk", "site": "demo", "subject": "kiosk-hall"},
                     server.token("admin", subject="it-setup"))
    assert "it-setup minted a kiosk token for kiosk-hall (site=demo" in caplog.text
    assert got["token"] not in caplog.text


async def test_lifetimes_default_as_the_cli_and_can_be_given(server: Server) -> None:
    s = server.settings
    # A ticket token is for a ticket that exists (test_tokens_holders.py).
    r = await server.client.post("/v1/sites/demo/tickets",
                                 headers=server.auth("kiosk", site="demo"),
                                 json={"service": "internal", "channel": "kiosk"})
    assert r.status_code == 201, r.text
    for role, kw, ttl in (("kiosk", {"site": "demo"}, s.device_token_ttl_s),
                          ("display", {"site": "demo"}, s.device_token_ttl_s),
                          ("agent", {"site": "demo", "counter": "2"}, s.staff_token_ttl_s),
                          ("supervisor", {"site": "demo"}, s.staff_token_ttl_s),
                          ("ticket", {"ticket": r.json()["id"]}, s.token_ttl_s)):
        got = await mint(server, {"role": role, "subject": f"x-{role}", **kw})
        c = claims(got["token"])
        assert got["ttl_s"] == ttl and round(c["exp"] - c["iat"]) == ttl, role
        assert got["capped"] is False
        expires = calendar.timegm(time.strptime(got["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
        assert abs(expires - c["exp"]) < 1, (got["expires_at"], c["exp"])
    got = await mint(server, {"role": "kiosk", "site": "demo", "subject": "k", "ttl_s": 3600})
    c = claims(got["token"])
    assert got["ttl_s"] == 3600 and round(c["exp"] - c["iat"]) == 3600


async def test_no_admin_tokens_over_http(server: Server) -> None:
    """A copy of an admin token has its own id: revoking the leaked token that made it left
    the copy working (review). Admin tokens are made on the server's machine only; device
    tokens are what the set-up page hands out, and they outlive the admin's hour."""
    short = server.token("admin", subject="it-setup", ttl_s=600)
    for ask in ({}, {"ttl_s": 120}):
        r = await server.client.post("/v1/tokens", headers=bearer(short),
                                     json={"role": "admin", "subject": "it-setup", **ask})
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")
        assert r.json()["details"]["field"] == "role"
    kiosk = await mint(server, {"role": "kiosk", "site": "demo", "subject": "k"}, short)
    assert kiosk["ttl_s"] == server.settings.device_token_ttl_s and kiosk["capped"] is False
    # A revoked admin mints nothing.
    r = await server.client.post("/v1/revocations", json={"subject": "it-setup"},
                                 headers=server.auth("admin", subject="boss"))
    assert r.status_code == 200, r.text
    r = await server.client.post("/v1/tokens", json={"role": "kiosk", "site": "demo",
                                                      "subject": "k2"}, headers=bearer(short))
    assert r.status_code == 401 and r.json()["details"] == {"reason": "revoked"}


async def test_documented_in_openapi(server: Server) -> None:
    spec = (await server.client.get("/openapi.json")).json()
    op = spec["paths"]["/v1/tokens"]["post"]
    assert "201" in op["responses"] and "unknown_counter" in op["responses"]["4XX"]["description"]
    schema = spec["components"]["schemas"]["TokenRequest"]
    assert set(schema["required"]) == {"role", "subject"}
    assert {"site", "counter", "ttl_s", "channels"} <= set(schema["properties"])


async def test_no_token_longer_than_the_servers_accept(redis_server: Any, tmp_path: Any) -> None:
    """An operator who lowered SWITCHBOARD_MAX_TOKEN_TTL_S must not be handed links the
    servers then refuse (reason "lifetime")."""
    from realtime.settings import MAX_TOKEN_TTL_S
    from tests.integration.conftest import _demo_json, running_server
    two_years = 2 * 366 * 86400
    assert two_years < MAX_TOKEN_TTL_S
    async with running_server(redis_server.url, tmp_path, max_token_ttl_s=two_years) as s:
        await s.client.put("/v1/sites/demo", content=_demo_json(), headers=s.auth("admin"))
        r = await s.client.post("/v1/tokens", headers=s.auth("admin"), json={
            "role": "kiosk", "site": "demo", "subject": "k", "ttl_s": two_years + 1})
        assert (r.status_code, r.json()["code"]) == (400, "bad_request")
        assert r.json()["details"]["field"] == "ttl_s"
        ok = await mint(s, {"role": "kiosk", "site": "demo", "subject": "k",
                            "ttl_s": two_years})
        r = await s.client.get("/v1/sites/demo", headers=bearer(ok["token"]))
        assert r.status_code == 200  # at the maximum: accepted
