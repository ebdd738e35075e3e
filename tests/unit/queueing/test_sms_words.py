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
    ("join dentist", Parsed(Command.JOIN, None, "en", unknown=True)),
    ("Status?", Parsed(Command.STATUS, None, "en")),
    ("查询", Parsed(Command.STATUS, None, "zh")),
    ("还要多久？", Parsed(Command.STATUS, None, "zh")),
    ("Cancel.", Parsed(Command.CANCEL, None, "en")),
    ("取消！", Parsed(Command.CANCEL, None, "zh")),
    ("STOP", Parsed(Command.STOP, None, "en")),
    ("TD", Parsed(Command.STOP)),  # a Chinese carrier's unsubscribe: says no language
    ("退订", Parsed(Command.STOP, None, "zh")),
    ("START", Parsed(Command.START, None, "en")),
    ("订阅", Parsed(Command.START, None, "zh")),
    ("?", Parsed(Command.HELP)),
    ("？", Parsed(Command.HELP)),
    ("", Parsed(Command.HELP)),
    ("help", Parsed(Command.HELP, None, "en")),
    ("hello there", Parsed(Command.HELP, unknown=True)),
    ("你好", Parsed(Command.HELP, lang="zh")),  # only a greeting: the menu
    # What people really write (the text-to-join review's list).
    ("A please", Parsed(Command.JOIN, "internal")),
    ("B\n\nSent from my iPhone", Parsed(Command.JOIN, "paediatrics")),
    ("A 👍", Parsed(Command.JOIN, "internal")),
    ("A\u200f", Parsed(Command.JOIN, "internal")),  # a bidi mark from a phone
    ("How long?", Parsed(Command.STATUS, None, "en")),
    ("cancel my ticket", Parsed(Command.CANCEL, None, "en")),
    ("我要取号", Parsed(Command.JOIN, None, "zh")),
    ("还有几个人", Parsed(Command.STATUS, None, "zh")),
    ("到我了吗", Parsed(Command.STATUS, None, "zh")),
    ("内科挂号", Parsed(Command.JOIN, "internal", "zh")),
    ("我要看内科", Parsed(Command.JOIN, "internal", "zh")),
    ("取号 A 谢谢", Parsed(Command.JOIN, "internal", "zh")),
    ("麻烦取消", Parsed(Command.CANCEL, None, "zh")),
    ("CHECK IN", Parsed(Command.ARRIVED, None, "en")),  # an appointment's check-in by text
    ("a1", Parsed(Command.HELP, unknown=True)),  # a ticket number? not a service
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
     "1 person ahead, about 7 min (likely 3-15)."),
    ("en", 5, {"wait_s": 30, "low_s": 10, "high_s": 100}, True,
     "5 people ahead, any minute now."),
    # The range is rounded outwards and always holds the point estimate.
    ("en", 2, {"wait_s": 610, "low_s": 601, "high_s": 605}, True,
     "2 people ahead, about 10 min (likely 10-11)."),
    # A range from 0 minutes is "up to".
    ("en", 2, {"wait_s": 200, "low_s": 20, "high_s": 500}, True, "2 people ahead, up to 9 min."),
    ("en", 3, None, False,
     "3 people ahead. No wait estimate yet: no counter is serving this queue now."),
    ("zh", 3, {"wait_s": 1200, "low_s": 600, "high_s": 2400}, True,
     "前面还有 3 人，预计约 20 分钟（一般 10–40 分钟）。"),
    ("zh", 2, {"wait_s": 200, "low_s": 20, "high_s": 500}, True, "前面还有 2 人，最多约 9 分钟。"),
    ("zh", 0, None, True, "下一位就是您。"),
])
def test_wait_words(lang: str, ahead: int, est: dict[str, int] | None, open_: bool,
                    want: str) -> None:
    assert sms.wait_text(lang, ahead, est, open_) == want


def test_menu_lists_letters_and_names() -> None:
    assert sms.menu(CFG, "en") == (
        "Text a letter for a ticket: A Internal medicine, B Paediatrics, C Laboratory, "
        "D Pharmacy, E Cashier. Or STATUS, CANCEL, STOP.")
    assert len(sms.say("unknown", "en", menu=sms.menu(CFG, "en"), contact="")) <= 160  # one part
    assert "A 内科，B 儿科" in sms.menu(CFG, "zh")
    one = SiteConfig(name="x", timezone="UTC", languages=["en"],
                     services=[Service("id", "ID cards", "A")])
    assert sms.menu(one, "en").startswith("Text JOIN for a ticket (ID cards).")
    for kind, table in sms.TEXTS.items():  # every answer exists in both languages
        assert set(table) == {"en", "zh"}, kind
    assert len(sms.say("unknown", "zh", menu=sms.menu(CFG, "zh"), contact="")) <= 70  # UCS-2


def test_site_language() -> None:
    """A notification's ``lang`` is one of its text's keys (en-GB and zh-CN sites)."""
    assert sms.site_language("zh", ["zh-CN", "en"]) == "zh-CN"
    assert sms.site_language("en", ["en-GB"]) == "en-GB"
    assert sms.site_language("en-GB", ["zh", "en"]) == "en"
    assert sms.site_language("zh", ["en"]) is None
