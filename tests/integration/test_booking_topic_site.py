"""The ``booking:{id}`` topic as the booking page needs it: a live event's booking view
carries ``promote_at`` as a read of the booking does (until now only GET and the snapshot had
it), and a change of the site comes as a ``site`` message with the site document, its words
(``vocabulary``) too, live and in a replay, so an open booking page follows new words."""

from __future__ import annotations

import json
from typing import Any

import websockets

from tests.integration.conftest import Server
from tests.integration.test_booking_http import bserver, slot  # noqa: F401
from tests.integration.test_protocol_conformance import JSON, ask, ws_url
from tests.integration.test_site_updated_topics import is_site, until
from tests.integration.test_site_words_live import _set_words


def _is(kind: str) -> Any:
    return lambda m: m.get("op") == "event" and m.get("type") == kind


async def test_a_booking_page_hears_promote_at_and_the_new_words(
        bserver: Server) -> None:  # noqa: F811
    c = bserver.client
    r = await c.post("/v1/sites/demo/bookings", json={"slot": slot("r2", 2, "11:00"),
                     "customer": "kim", "channel": "app", "hold": True},
                     headers=bserver.auth("partner", site="demo"))
    assert r.status_code == 201, r.text
    b: dict[str, Any] = r.json()
    topic = f"booking:{b['id']}"
    own = {"Authorization": f"Bearer {b['token']}"}
    async with websockets.connect(ws_url(bserver, b["token"]), subprotocols=[JSON]) as ws:
        snap = await ask(ws, {"op": "subscribe", "topic": topic, "id": 1})
        assert snap["op"] == "snapshot" and snap["data"]["status"] == "held"
        r = await c.post(f"/v1/bookings/{b['id']}/confirm", headers=own)
        assert r.status_code == 200, r.text
        confirmed = await until(ws, _is("confirmed"))
        read_at = (await c.get(f"/v1/bookings/{b['id']}", headers=own)).json()["promote_at"]
        # The live event says what a read says: 10 minutes (the default) before 11:00.
        assert confirmed["data"]["promote_at"] == read_at
        assert read_at.startswith(confirmed["data"]["start"][:11] + "10:50")
        await _set_words(bserver, "government")
        got = await until(ws, is_site)
        assert got["topic"] == topic
        assert got["data"]["site"]["vocabulary"] == "government"
        assert got["data"]["site"]["id"] == "demo"
        since = {"epoch": confirmed["epoch"], "offset": confirmed["offset"]}
    # Back after the change (a phone that slept): the replay brings it.
    async with websockets.connect(ws_url(bserver, b["token"]), subprotocols=[JSON]) as ws:
        await ws.send(json.dumps({"op": "subscribe", "topic": topic, "id": 1, "since": since}))
        again = await until(ws, is_site)
        assert again["data"]["site"]["vocabulary"] == "government"
