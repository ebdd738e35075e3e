"""The HTTP API over a real socket: happy paths, scopes, and bad input that changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from queueing import keys
from realtime.redisproc import EmbeddedRedis
from tests.integration.conftest import Server, running_server


async def state(redis: Redis) -> tuple[int, list[bytes]]:
    """What a failed request must not change: the event count and the queues."""
    n = int(await redis.xlen(keys.events("demo")))
    qs = [await redis.zrange(keys.prefix("demo") + f"q:{s}", 0, -1)
          for s in ("internal", "lab")]
    return n, [b",".join(q) for q in qs]


async def test_ticket_round_trip_with_its_own_token(server: Server) -> None:
    c = server.client
    r = await c.post("/v1/sites/demo/tickets", json={"service": "internal", "channel": "kiosk"},
                     headers=server.auth("kiosk", site="demo"))
    assert r.status_code == 201, r.text
    t = r.json()
    assert {"id", "number", "status", "position", "token"} <= set(t)
    assert t["number"] == "A001" and t["position"] == 1
    own = {"Authorization": f"Bearer {t['token']}"}
    got = await c.get(f"/v1/tickets/{t['id']}", headers=own)
    assert got.status_code == 200 and got.json()["status"] == "waiting"
    # The ticket's token is scoped to that ticket alone.
    r2 = await c.post("/v1/sites/demo/tickets", json={"service": "lab", "channel": "app"},
                      headers=server.auth("kiosk", site="demo"))
    other = await c.get(f"/v1/tickets/{r2.json()['id']}", headers=own)
    assert other.status_code == 403 and other.json()["code"] == "forbidden"
    assert (await c.post("/v1/sites/demo/counters/1/call-next", headers=own)).status_code == 403
    # Query-string token works too (QR links).
    q = await c.get(f"/v1/tickets/{t['id']}?token={t['token']}")
    assert q.status_code == 200
    cancel = await c.post(f"/v1/tickets/{t['id']}/cancel", headers=own)
    assert cancel.json()["status"] == "cancelled"


async def test_counter_ops_over_http(server: Server) -> None:
    c = server.client
    agent = server.auth("agent", site="demo", counter="1")
    empty = await c.post("/v1/sites/demo/counters/1/call-next", headers=agent)
    assert empty.status_code == 404 and empty.json()["code"] == "queue_empty"
    await c.post("/v1/sites/demo/tickets", json={"service": "internal", "channel": "window"},
                 headers=agent)
    called = await c.post("/v1/sites/demo/counters/1/call-next", headers=agent)
    assert called.status_code == 200 and called.json()["status"] == "called"
    for op, status in (("recall", "called"), ("start", "serving"), ("complete", "done")):
        r = await c.post(f"/v1/sites/demo/counters/1/{op}", headers=agent)
        assert r.status_code == 200 and r.json()["status"] == status
    wrong = await c.post("/v1/sites/demo/counters/2/call-next", headers=agent)
    assert wrong.status_code == 403
    site = await c.get("/v1/sites/demo", headers=agent)
    assert site.json()["counters"][0]["state"] == "open"
    # A counter's state op answers like the site document: no current ticket is null.
    assert (await c.post("/v1/sites/demo/counters/1/pause", headers=agent)).json()["ticket"] \
        is None
    assert site.json()["counters"][0]["ticket"] is None
    # A ticket id with no site in it is no ticket (404), not "not for site ''" (403).
    r = await c.get("/v1/tickets/%00%ff", headers=agent)
    assert r.status_code == 404 and r.json()["code"] == "unknown_ticket"


@pytest.mark.parametrize("body, code", [
    (b'{"service": 5, "channel": "kiosk"}', "bad_request"),
    (b'{"service": "internal", "channel": "fax"}', "bad_request"),
    (b'{"service": "internal", "channel": "kiosk", "vip": true}', "unknown_field"),
    (b'{"service": "internal"', "bad_request"),
    (b'[1, 2]', "bad_request"),
    (b'', "bad_request"),
    (b'{"service": "ghost", "channel": "kiosk"}', "unknown_service"),
    (b'{"service": "internal", "channel": "kiosk", "priority": "vip"}', "unknown_priority"),
    # A name that would reorder a screen (right-to-left override) or break its line.
    (b'{"service": "internal", "channel": "kiosk", "customer": "Ann\\u202egnp.exe"}',
     "bad_request"),
    (b'{"service": "internal", "channel": "kiosk", "customer": "Ann\\nCALLED A001"}',
     "bad_request"),
    (b'{"service": "internal", "channel": "kiosk", "customer": "Ann\\u001b[2J"}',
     "bad_request"),
])
async def test_bad_ticket_requests_change_nothing(server: Server, redis: Redis, body: bytes,
                                                  code: str) -> None:
    before = await state(redis)
    r = await server.client.post("/v1/sites/demo/tickets", content=body,
                                 headers=server.auth("kiosk", site="demo"))
    assert 400 <= r.status_code < 500
    assert r.json()["code"] == code and r.json()["message"]
    assert await state(redis) == before


@pytest.mark.parametrize("extra, field", [
    ({"priority": "emergency"}, "priority"),
    ({"priority": "priority"}, "priority"),
    ({"appointment_ms": 1}, "appointment_ms"),
])
async def test_kiosk_cannot_jump_the_queue(server: Server, redis: Redis, extra: dict[str, object],
                                           field: str) -> None:
    """A kiosk token is in a public page: it may not pick a priority class the site has not
    marked self-service, nor backdate itself with an appointment time. An agent may."""
    c = server.client
    kiosk, agent = server.auth("kiosk", site="demo"), server.auth("agent", site="demo",
                                                                  counter="1")
    body = {"service": "internal", "channel": "kiosk"}
    walk_in = await c.post("/v1/sites/demo/tickets", json=body, headers=kiosk)
    assert walk_in.status_code == 201
    before = await state(redis)
    r = await c.post("/v1/sites/demo/tickets", json=body | extra, headers=kiosk)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden" and r.json()["details"]["field"] == field
    assert await state(redis) == before
    # The default class by name is fine; an agent at the window may set either.
    own = await c.post("/v1/sites/demo/tickets", json=body | {"priority": "walk_in"},
                       headers=kiosk)
    assert own.status_code == 201 and own.json()["position"] == 2
    by_agent = await c.post("/v1/sites/demo/tickets", json=body | extra, headers=agent)
    assert by_agent.status_code == 201 and by_agent.json()["position"] == 1


async def test_oversize_body_refused(server: Server, redis: Redis) -> None:
    before = await state(redis)
    big = b'{"service": "internal", "channel": "kiosk", "customer": "' + b"x" * 70_000 + b'"}'
    r = await server.client.post("/v1/sites/demo/tickets", content=big,
                                 headers=server.auth("kiosk", site="demo"))
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    assert await state(redis) == before


async def test_a_large_hospital_s_site_document_fits(server: Server) -> None:
    """40 services and 250 rooms, pretty-printed, is ~90 KB: over the 64 KiB request limit,
    under the document limit an admin's site, schedule, region or batch gets. A kiosk's
    body stays at 64 KiB, and a document past its own limit is refused unread."""
    services = [{"id": f"s{i}", "name": {"en": f"Clinic {i}", "zh": f"门诊{i}"},
                 "prefix": chr(65 + i % 26) + chr(65 + i // 26)} for i in range(40)]
    counters = [{"id": f"r{i}", "name": {"en": f"Room {i}", "zh": f"{i}号诊室"},
                 "services": [f"s{i % 40}", f"s{(i + 1) % 40}"]} for i in range(250)]
    doc = json.dumps({"name": "General Hospital", "timezone": "Asia/Shanghai",
                      "languages": ["zh", "en"], "services": services,
                      "counters": counters}, indent=4, ensure_ascii=False).encode()
    assert len(doc) > 65536
    r = await server.client.put("/v1/sites/big", content=doc, headers=server.auth("admin"))
    assert r.status_code == 200, r.text
    assert len(r.json()["counters"]) == 250
    huge = b" " * (server.settings.max_document_bytes + 1) + doc
    r = await server.client.put("/v1/sites/big", content=huge, headers=server.auth("admin"))
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    # Not without the admin's token: refused before the body is read.
    r = await server.client.put("/v1/sites/big", content=doc,
                                headers=server.auth("kiosk", site="big"))
    assert r.status_code == 403


@pytest.mark.parametrize("headers, status, code", [
    ({}, 401, "unauthorized"),
    ({"Authorization": "Bearer not-a-jwt"}, 401, "unauthorized"),
    ("display", 403, "forbidden"),
    ("other-site-kiosk", 403, "forbidden"),
])
async def test_tokens_missing_or_out_of_scope(server: Server, redis: Redis, headers: object,
                                              status: int, code: str) -> None:
    if headers == "display":
        headers = server.auth("display", site="demo")
    elif headers == "other-site-kiosk":
        headers = server.auth("kiosk", site="elsewhere")
    before = await state(redis)
    r = await server.client.post("/v1/sites/demo/tickets", json={"service": "internal",
                                 "channel": "kiosk"}, headers=headers)  # type: ignore[arg-type]
    assert r.status_code == status and r.json()["code"] == code
    assert await state(redis) == before


async def test_expired_token(server: Server) -> None:
    from realtime.auth import make_token
    from tests.integration.conftest import SECRET
    old = make_token(SECRET, "admin", ttl_s=1, now=1_000_000)
    r = await server.client.get("/v1/sites", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired" in r.json()["message"]


async def test_bad_site_documents_change_nothing(server: Server, redis: Redis) -> None:
    admin = server.auth("admin")
    before = await server.client.get("/v1/sites/demo", headers=admin)
    for body in (b'{"name": "x"}', b'{"name": "x", "timezone": "Mars/Base", "languages": ["en"],'
                 b' "services": [{"id": "a", "name": "A", "prefix": "A"}]}',
                 b'{"name": "x", "timezone": "UTC", "languages": ["en"], "services": '
                 b'[{"id": "a", "name": "A", "prefix": "lower"}]}'):
        r = await server.client.put("/v1/sites/demo", content=body, headers=admin)
        assert r.status_code == 400, r.text
    # Removing a service that still has people waiting is refused.
    await server.client.post("/v1/sites/demo/tickets", json={"service": "lab",
                             "channel": "kiosk"}, headers=admin)
    doc = before.json()
    doc = {k: doc[k] for k in ("name", "timezone", "languages", "priority_classes", "policy")} | {
        "services": [s for s in doc["services"] if s["id"] != "lab"],
        "counters": [{k: c[k] for k in ("id", "name", "services") if k in c}
                     for c in doc["counters"] if "lab" not in c["services"]]}
    r = await server.client.put("/v1/sites/demo", json=doc, headers=admin)
    assert r.status_code == 409 and r.json()["code"] == "service_in_use"
    after = await server.client.get("/v1/sites/demo", headers=admin)
    assert after.json()["services"] == before.json()["services"]


async def test_unknown_ids_and_routes(server: Server) -> None:
    admin = server.auth("admin")
    c = server.client
    assert (await c.get("/v1/tickets/demo.nope", headers=admin)).json()["code"] == \
        "unknown_ticket"
    assert (await c.get("/v1/sites/nowhere", headers=admin)).json()["code"] == "unknown_site"
    r = await c.post("/v1/sites/demo/counters/99/open", headers=admin)
    assert r.status_code == 404 and r.json()["code"] == "unknown_counter"
    r = await c.post("/v1/sites/demo/counters/1/dance", headers=admin)
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    r = await c.get("/no/such/route")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await c.get("/v1/sites/demo/services/ghost/queue", headers=admin)
    assert r.json()["code"] == "unknown_service"
    for limit in ("99999999999999999999", "-1", "ten", "１"):  # the first was a 500
        r = await c.get(f"/v1/sites/demo/services/internal/queue?limit={limit}", headers=admin)
        assert r.status_code == 400 and r.json()["details"]["field"] == "limit", r.text
    r = await c.get("/v1/sites/demo/services/internal/queue?limit=100000", headers=admin)
    assert r.status_code == 200 and r.json()["total"] == 0


async def test_health_openapi_docs(server: Server) -> None:
    c = server.client
    assert (await c.get("/healthz")).json() == {"status": "ok"}
    assert (await c.get("/readyz")).json() == {"status": "ready"}
    got = await c.get("/openapi.json")
    spec = got.json()
    assert "/v1/sites/{site}/tickets" in spec["paths"]
    assert "SiteConfig" in spec["components"]["schemas"]
    assert {"get", "post"} <= set(spec["paths"]["/v1/revocations"])
    assert "RevokeBody" in spec["components"]["schemas"]
    # Built once, then the same bytes (and cacheable by a proxy).
    again = await c.get("/openapi.json")
    assert again.content == got.content and "max-age" in again.headers["cache-control"]
    assert (await c.get("/docs")).status_code == 200


async def test_cors_only_for_the_allowed_origins(redis_server: EmbeddedRedis,
                                                 tmp_path: Path) -> None:
    """A browser app on another origin may call the API only where /ws would accept it."""
    app_origin = "https://app.example.org"
    preflight = {"Origin": app_origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"}
    async with running_server(redis_server.url, tmp_path / "a",
                              allowed_origins=[app_origin]) as s:
        r = await s.client.options("/v1/sites/demo/tickets", headers=preflight)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == app_origin
        assert "idempotency-key" in r.headers["access-control-allow-headers"].lower()
        got = await s.client.get("/healthz", headers={"Origin": app_origin})
        assert got.headers["access-control-allow-origin"] == app_origin
        other = await s.client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    async with running_server(redis_server.url, tmp_path / "b") as s:  # the default: none
        r = await s.client.options("/v1/sites/demo/tickets", headers=preflight)
        assert r.status_code == 405 and "access-control-allow-origin" not in r.headers


async def test_metrics_count_http_responses_by_status_class(server: Server) -> None:
    """The deployment guide's alerts need API errors on /metrics."""
    import re

    async def counts() -> dict[str, float]:
        text = (await server.client.get("/metrics")).text
        return {m[1]: float(m[2]) for m in re.finditer(
            r'^switchboard_http_responses_total\{status="(\dxx)"\} (\S+)$', text, re.M)}

    before = await counts()
    c = server.client
    assert (await c.get("/v1/sites/demo", headers=server.auth("display", site="demo"))
            ).status_code == 200
    assert (await c.get("/v1/sites/demo")).status_code == 401
    assert (await c.get("/v1/tickets/demo.nothere", headers=server.auth("admin"))
            ).status_code == 404
    after = await counts()
    # The /metrics read between them is a 2xx too.
    assert after["2xx"] - before.get("2xx", 0) == 2
    assert after["4xx"] - before.get("4xx", 0) == 2
    assert "switchboard_http_request_seconds_bucket" in (await c.get("/metrics")).text
