"""A first text without words (a bare "A") from a new number: the country of the number
decides the reply's language where the site speaks the one it suggests (an English tourist
at a Chinese clinic used to get Chinese)."""

from __future__ import annotations

import pytest

from queueing import sms
from queueing.demo import demo_site
from queueing.model import SiteConfig

CFG = demo_site()  # zh first, en too


@pytest.mark.parametrize(("number", "want"), [
    ("+447700900123", "en"), ("+14155550123", "en"), ("+61412345678", "en"),
    ("+8613800138000", "zh"), ("+85291234567", "zh"), ("+886912345678", "zh"),
    ("+6591234567", None), ("+33612345678", None),  # either language, or neither
    ("13800138000", None),  # no +: a Chinese mobile without +86 would read as +1
    ("447700900123", None),
])
def test_number_language(number: str, want: str | None) -> None:
    assert sms.number_language(number) == want


def test_the_country_comes_after_the_words_and_the_number_s_history() -> None:
    assert CFG.languages[0] == "zh"
    assert sms.reply_language(None, None, CFG, "en") == "en"  # a bare "A" from +44
    assert sms.reply_language("zh", None, CFG, "en") == "zh"  # words tell: they win
    assert sms.reply_language(None, "zh", CFG, "en") == "zh"  # so does what it wrote before
    assert sms.reply_language(None, None, CFG, None) == "zh"  # no hint: the site's first
    zh_only = SiteConfig(name="x", timezone="UTC", languages=["zh-CN"], services=CFG.services)
    assert sms.reply_language(None, None, zh_only, "en") == "zh"  # only what the site speaks
