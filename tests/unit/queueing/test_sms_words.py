"""Text to join: what a person's SMS is understood to ask, and how waits are worded."""

from __future__ import annotations

import pytest

from queueing import sms
from queueing.demo import demo_site
from queueing.model import Service, SiteConfig
from queueing.sms import Command, Parsed, parse

CFG = demo_site()  # A internal (内科), B paediatrics (儿科), C lab, D pharmacy, E cashier


@pytest.mark.parametrize(("text", "want"), [
    ("A", Parsed(Command.JOIN, "internal")),
    (" a. ", Parsed(Command.JOIN, "internal")),
    ("Ｂ", Parsed(Command.JOIN, "paediatrics")),  # full-width, from a Chinese keyboard
    ("join c", Parsed(Command.JOIN, "lab", "en")),
    ("JOIN Pharmacy", Parsed(Command.JOIN, "pharmacy", "en")),
    ("Join internal medicine", Parsed(Command.JOIN, "internal", "en")),
    ("Laboratory", Parsed(Command.JOIN, "lab", "en")),
    ("取号", Parsed(Command.JOIN, None, "zh")),
    ("取号A", Parsed(Command.JOIN, "internal", "zh")),
    ("取号 儿科", Parsed(Command.JOIN, "paediatrics", "zh")),
    ("儿科", Parsed(Command.JOIN, "paediatrics", "zh")),
    ("join", Parsed(Command.JOIN, None, "en")),
    ("join dentist", Parsed(Command.JOIN, None, "en", unknown="dentist")),
    ("Status?", Parsed(Command.STATUS, None, "en")),
    ("查询", Parsed(Command.STATUS, None, "zh")),
    ("还要多久？", Parsed(Command.STATUS, None, "zh")),
    ("Cancel.", Parsed(Command.CANCEL, None, "en")),
    ("取消！", Parsed(Command.CANCEL, None, "zh")),
    ("STOP", Parsed(Command.STOP, None, "en")),
    ("TD", Parsed(Command.STOP)),  # a Chinese carrier's unsubscribe: says no language
    ("退订", Parsed(Command.STOP, None, "zh")),
    ("?", Parsed(Command.HELP)),
    ("？", Parsed(Command.HELP)),
    ("", Parsed(Command.HELP)),
    ("help", Parsed(Command.HELP, None, "en")),
    ("hello there", Parsed(Command.HELP, unknown="hello there")),
    ("你好", Parsed(Command.HELP, lang="zh", unknown="你好")),
])
def test_what_a_text_asks(text: str, want: Parsed) -> None:
    assert parse(text, CFG) == want


def test_a_service_letters_come_before_commands() -> None:
    """A site whose service has the letters "TD" takes a ticket for it from "TD"."""
    cfg = SiteConfig(name="x", timezone="UTC", languages=["en"], services=[
        Service("tax", "Tax desk", "TD"), Service("id", "ID cards", "A")])
    assert parse("td", cfg) == Parsed(Command.JOIN, "tax")
    assert parse("STOP", cfg).command is Command.STOP
    assert parse("Tax desk", cfg) == Parsed(Command.JOIN, "tax")


def test_reply_language() -> None:
    en_first = SiteConfig(name="x", timezone="UTC", languages=["en", "zh"],
                          services=CFG.services)
    assert sms.reply_language("zh", "en", CFG) == "zh"  # what the text was written in
    assert sms.reply_language(None, "en", CFG) == "en"  # else what the number used before
    assert sms.reply_language(None, None, CFG) == "zh"  # else the site's first language
    assert sms.reply_language(None, None, en_first) == "en"
    fr = SiteConfig(name="x", timezone="UTC", languages=["fr"], services=CFG.services)
    assert sms.reply_language(None, None, fr) == "en"  # no texts in French: English


@pytest.mark.parametrize(("lang", "ahead", "est", "open_", "want"), [
    ("en", 0, None, True, "You are next."),
    ("en", 1, {"wait_s": 400, "low_s": 200, "high_s": 900}, True,
     "1 person is ahead of you, about 7 min (likely 3 to 15 min)."),
    ("en", 5, {"wait_s": 30, "low_s": 10, "high_s": 100}, True,
     "5 people are ahead of you, any minute now."),
    # The range is rounded outwards and always holds the point estimate.
    ("en", 2, {"wait_s": 610, "low_s": 601, "high_s": 605}, True,
     "2 people are ahead of you, about 10 min (likely 10 to 11 min)."),
    ("en", 3, None, False,
     "3 people are ahead of you. No wait estimate yet: no counter is serving this queue right "
     "now."),
    ("zh", 3, {"wait_s": 1200, "low_s": 600, "high_s": 2400}, True,
     "您前面还有 3 人，预计约 20 分钟（大概 10–40 分钟）。"),
    ("zh", 0, None, True, "下一位就是您。"),
])
def test_wait_words(lang: str, ahead: int, est: dict[str, int] | None, open_: bool,
                    want: str) -> None:
    assert sms.wait_text(lang, ahead, est, open_) == want


def test_menu_lists_letters_and_names() -> None:
    assert sms.menu(CFG, "en").startswith(
        "Reply with a letter to take a ticket: A Internal medicine, B Paediatrics, "
        "C Laboratory, D Pharmacy, E Cashier.")
    assert "A 内科，B 儿科" in sms.menu(CFG, "zh")
    one = SiteConfig(name="x", timezone="UTC", languages=["en"],
                     services=[Service("id", "ID cards", "A")])
    assert sms.menu(one, "en").startswith("Reply JOIN to take a ticket for ID cards.")
    for kind, table in sms.TEXTS.items():  # every answer exists in both languages
        assert set(table) == {"en", "zh"}, kind
