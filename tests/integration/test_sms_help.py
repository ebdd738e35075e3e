"""HELP by text names the site and, when the site gives one (``help_phone``), a number to
call; so does the "not understood" reply's last line. A help number is validated."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Server
from tests.integration.test_sms_join import text


async def put_site(s: Server, **fields: Any) -> int:
    doc = (await s.client.get("/v1/sites/demo", headers=s.auth("admin"))).json()
    doc = doc.get("config", doc)
    r = await s.client.put("/v1/sites/demo", json={**doc, **fields}, headers=s.auth("admin"))
    return r.status_code


async def test_help_names_the_site_and_its_help_number(server: Server) -> None:
    s = server
    plain = await text(s, "HELP", sender="+447700900123")
    assert plain["kind"] == "menu"
    assert plain["reply"].startswith("Demo Community Clinic: Text a letter for a ticket")
    assert "call" not in plain["reply"]
    assert await put_site(s, help_phone="+86 10 8888 6666") == 200
    en = await text(s, "HELP", sender="+447700900123")
    assert en["reply"].endswith("Or STATUS, CANCEL, STOP. Help: call +86 10 8888 6666.")
    zh = await text(s, "帮助")
    assert zh["reply"].startswith("【示范社区诊所】回复字母取号")
    assert zh["reply"].endswith("咨询电话：+86 10 8888 6666。")
    huh = await text(s, "blorp", sender="+447700900124")
    assert huh["reply"].startswith("Sorry, we didn't understand.")
    assert huh["reply"].endswith(" Help: call +86 10 8888 6666.")
    # Not a phone number: refused, the site unchanged.
    assert await put_site(s, help_phone="call Mrs Li") == 400
    assert await put_site(s, help_phone="1" * 40) == 400
