"""A site's words (``vocabulary``: clinic, government, branch, general) are part of the
public site document, so an open page follows a change of them live: the board's ``site``
message carries them, and so does the ticket topic's, with the ticket as it now is (the
holder's page used to keep "doctor" until reloaded). A resume replays the change."""

from __future__ import annotations

import json
from typing import Any

import websockets

from tests.integration.conftest import Server
from tests.integration.test_protocol_conformance import JSON, ask, ws_url
from tests.integration.test_site_updated_topics import is_site, until


async def _set_words(s: Server, vocabulary: str) -> None:
    admin = s.auth("admin")
    doc = (await s.client.get("/v1/sites/demo", headers=admin)).json()
    doc["vocabulary"] = vocabulary
    r = await s.client.put("/v1/sites/demo", json=doc, headers=admin)
    assert r.status_code == 200, r.text


async def test_a_ticket_page_and_the_board_hear_the_new_words_live(server: Server) -> None:
    r = await server.client.post("/v1/sites/demo/tickets", headers=server.auth("kiosk",
                                 site="demo"), json={"service": "internal", "channel": "kiosk"})
    assert r.status_code == 201, r.text
    t: dict[str, Any] = r.json()
    topic = f"ticket:{t['id']}"
    display = server.token("display", site="demo")
    async with websockets.connect(ws_url(server, t["token"]), subprotocols=[JSON]) as wt, \
            websockets.connect(ws_url(server, display), subprotocols=[JSON]) as wb:
        snap = await ask(wt, {"op": "subscribe", "topic": topic, "id": 1})
        assert snap["data"]["position"] == 1
        board = await ask(wb, {"op": "subscribe", "topic": "board:demo", "id": 1})
        assert board["op"] == "snapshot"
        await _set_words(server, "government")
        got = await until(wt, is_site)
        # The ticket view as it is, and the site with its new words.
        assert got["topic"] == topic and got["data"]["id"] == t["id"]
        assert got["data"]["position"] == 1 and got["data"]["number"] == t["number"]
        assert got["data"]["site"]["vocabulary"] == "government"
        assert (await until(wb, is_site))["data"]["site"]["vocabulary"] == "government"
        since = {"epoch": got["epoch"], "offset": snap["offset"]}
    # Back after the change (a phone that slept): the replay brings it.
    async with websockets.connect(ws_url(server, t["token"]), subprotocols=[JSON]) as wt:
        await wt.send(json.dumps({"op": "subscribe", "topic": topic, "id": 1, "since": since}))
        again = await until(wt, is_site)  # no snapshot: what was missed
        assert again["data"]["site"]["vocabulary"] == "government"
