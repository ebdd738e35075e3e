"""Text to join through ``POST /v1/sites/{site}/sms``: a service named as people text it,
a question when the name fits several, and no service that no counter serves."""

from __future__ import annotations

import msgspec

from queueing.demo import demo_site
from queueing.model import Service
from tests.integration.conftest import Server
from tests.integration.test_sms_join import text


async def test_names_as_people_text_them(server: Server) -> None:
    s = server
    cfg = demo_site()
    # Pharmacy returns, served at counter 5; X-ray, which no counter serves.
    services = [*cfg.services, Service("returns", {"en": "Pharmacy returns", "zh": "退药"}, "R"),
                Service("xray", {"en": "X-ray", "zh": "放射科"}, "X")]
    counters = [msgspec.structs.replace(c, services=[*c.services, "returns"])
                if c.id == "5" else c for c in cfg.counters]
    r = await s.client.put("/v1/sites/demo", headers=s.auth("admin"),
                           content=msgspec.json.encode(msgspec.structs.replace(
                               cfg, services=services, counters=counters)))
    assert r.status_code == 200, r.text

    which = await text(s, "pharm", sender="+447700900301")  # Pharmacy, or its returns?
    assert which["command"] == "help" and which["kind"] == "which" and which["ticket"] is None
    assert which["reply"] == ("Which one? D Pharmacy, R Pharmacy returns. "
                              "Reply with its letter.")
    assert which["choices"] == [  # for a gateway that sends templates only
        {"service": "pharmacy", "prefix": "D", "name": "Pharmacy"},
        {"service": "returns", "prefix": "R", "name": "Pharmacy returns"}]
    zh = await text(s, "取号 药", sender="+8613800138301")  # the start of no name: the menu
    assert zh["lang"] == "zh" and zh["kind"] == "unknown_service"
    assert "X 放射科" not in zh["reply"] and "R 退药" in zh["reply"]
    # X-ray is served by no counter: not in the menu, and named, not taken.
    xray = await text(s, "join x-ray", sender="+447700900302")
    assert xray["kind"] == "unknown_service" and xray["ticket"] is None
    assert "X-ray" not in xray["reply"] and "R Pharmacy returns" in xray["reply"]
    assert (await text(s, "X", sender="+447700900302"))["ticket"] is None
    # Forgiving: case, punctuation, a word of the name.
    joined = await text(s, "PAEDIATRICS!!", sender="+447700900303")
    assert joined["command"] == "join" and joined["ticket"]["service"] == "paediatrics"
    returns = await text(s, "returns please", sender="+447700900304")
    assert returns["ticket"]["service"] == "returns"
    assert returns["reply"].startswith("Demo Community Clinic: your ticket R001 "
                                       "(Pharmacy returns)")
