"""A 405 names every method the path serves (Starlette's named only its first route's:
``DELETE /v1/sites/demo`` said ``Allow: PUT``, though GET works too)."""

from __future__ import annotations

from tests.integration.conftest import Server


async def test_405_allow_lists_every_method_of_the_path(server: Server) -> None:
    admin = server.auth("admin")
    for method, path, allow in [
        ("DELETE", "/v1/sites/demo", "GET, HEAD, PUT"),
        ("DELETE", "/v1/sites/demo/tickets", "GET, HEAD, POST"),
        ("PUT", "/v1/regions/city/jobs", "GET, HEAD, POST"),
        ("GET", "/v1/tickets/demo.x/cancel", "POST"),
    ]:
        r = await server.client.request(method, path, headers=admin)
        assert r.status_code == 405, (method, path)
        assert r.json()["code"] == "method_not_allowed"
        assert r.headers["allow"] == allow, (method, path, r.headers["allow"])
