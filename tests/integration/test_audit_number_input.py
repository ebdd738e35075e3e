"""``GET /v1/sites/{site}/audit?number=``: a value that is no ticket number ("hello", a phone
number) is a 400 naming the field with a stable reason, as docs/audit.md says of bad input; it
answered 200 with no records, which the supervisor read as "nothing happened to it"."""

from __future__ import annotations

from tests.integration.conftest import Server


async def test_a_number_that_is_no_ticket_number_is_refused(server: Server) -> None:
    sup = server.auth("supervisor", site="demo")
    for bad in ("hello", "13800138000", "+8613800138000", "A", "ABCD12", "12A"):
        r = await server.client.get("/v1/sites/demo/audit", params={"number": bad}, headers=sup)
        assert r.status_code == 400, (bad, r.text)
        body = r.json()
        assert body["code"] == "bad_request", bad
        assert body["details"] == {"field": "number", "reason": "not_a_ticket_number"}, bad
    # As staff type a real one, it is still a search (nothing recorded: 200, empty).
    for good in ("A023", "a23", "Ａ０２３", "A 023", "ab7"):
        r = await server.client.get("/v1/sites/demo/audit", params={"number": good}, headers=sup)
        assert r.status_code == 200, (good, r.text)
        assert r.json()["records"] == []
