"""A 405 names every method the path serves (Starlette's named only its first route's:
``DELETE /v1/sites/demo`` said ``Allow: PUT``, though GET works too)."""

from __future__ import annotations

from tests.integration.conftest import Server


async def test_405_allow_lists_every_method_of_the_path(server: Server) -> None:
    admin = server.auth("admin")
    for method, path, allow in [
        ("POST", "/v1/sites/demo", "DELETE, GET, HEAD, PUT"),
        ("DELETE", "/v1/sites/demo/tickets", "GET, HEAD, POST"),
        ("PUT", "/v1/regions/city/jobs", "GET, HEAD, POST"),
        ("GET", "/v1/tickets/demo.x/cancel", "POST"),
    ]:
        r = await server.client.request(method, path, headers=admin)
        assert r.status_code == 405, (method, path)
        assert r.json()["code"] == "method_not_allowed"
        assert r.headers["allow"] == allow, (method, path, r.headers["allow"])


async def test_a_site_read_can_be_put_back(server: Server) -> None:
    """GET adds the id and each counter's live state and ticket; PUT takes the document as
    read (it answered unknown_field), and ignores those."""
    admin = server.auth("admin")
    await server.client.post("/v1/sites/demo/tickets", headers=admin,
                             json={"service": "lab", "channel": "kiosk"})
    await server.client.post("/v1/sites/demo/counters/4/call-next", headers=admin)
    doc = (await server.client.get("/v1/sites/demo", headers=admin)).json()
    assert doc["id"] == "demo" and any(c["ticket"] for c in doc["counters"])
    doc["services"][0]["name"] = {"zh": "内科门诊", "en": "Internal medicine"}
    r = await server.client.put("/v1/sites/demo", json=doc, headers=admin)
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["services"][0]["name"]["zh"] == "内科门诊"
    # The live state is the server's, not the document's.
    assert [(c["id"], c["state"], c["ticket"]) for c in after["counters"]] == [
        (c["id"], c["state"], c["ticket"]) for c in doc["counters"]]
    # Someone else saves in between: putting the old document back is refused, not a
    # silent undo of their change; without its version it replaces theirs on purpose.
    assert after["version"] != doc["version"]
    stale = dict(doc)
    r = await server.client.put("/v1/sites/demo", json=stale, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "site_changed")
    assert r.json()["details"]["current"] == after["version"]
    assert (await server.client.get("/v1/sites/demo", headers=admin)).json()[
        "services"][0]["name"]["zh"] == "内科门诊"
    doc["id"] = "elsewhere"
    r = await server.client.put("/v1/sites/demo", json=doc, headers=admin)
    assert (r.status_code, r.json()["code"]) == (400, "bad_request")
    doc.pop("id")
    doc.pop("version")
    doc["counters"][0]["colour"] = "red"  # other unknown fields are still refused
    r = await server.client.put("/v1/sites/demo", json=doc, headers=admin)
    assert (r.status_code, r.json()["code"]) == (400, "unknown_field")


async def test_static_files_are_compressed_for_phones(server: Server) -> None:
    """The tracker's scripts were sent plain (~100 KB before anything showed, 4 s on a poor
    signal); gzip when the browser asks, plain when it does not, nosniff either way."""
    r = await server.client.get("/static/js/i18n.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert int(r.headers["content-length"]) < len(r.content) / 2  # decoded by httpx
    plain = await server.client.get("/static/js/i18n.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == r.content


async def test_a_405_under_static_says_no_empty_allow(server: Server) -> None:
    r = await server.client.delete("/static/js/ticket.js")
    assert r.status_code == 405 and r.headers.get("allow", "GET") != ""
