"""The reply to a first bare letter from a new number: its country's language where the site
speaks it (docs/sms.md), not always the site's first."""

from __future__ import annotations

from tests.integration.conftest import Server
from tests.integration.test_sms_join import text


async def test_a_bare_letter_is_answered_in_the_number_s_language(server: Server) -> None:
    uk = await text(server, "A", sender="+447700900601")
    assert uk["lang"] == "en" and uk["reply"].startswith("Demo Community Clinic: your ticket ")
    assert (await text(server, "A", sender="+8613800138601"))["lang"] == "zh"
    # Without its +, a number's country is not known: the site's first language (zh).
    assert (await text(server, "A", sender="447700900602"))["lang"] == "zh"
    # Words tell more than the country; then the number keeps the language it wrote in.
    assert (await text(server, "取消", sender="+447700900601"))["lang"] == "zh"
    assert (await text(server, "B", sender="+447700900601"))["lang"] == "zh"
    assert (await text(server, "status", sender="+8613800138601"))["lang"] == "en"
