"""Text to join names a service the way people text: forgiving case, spaces, punctuation and
accents, a unique start or word of the name, its id, or its place in the menu; several fit:
the reply asks which, in the person's language, short enough for two SMS parts."""

from __future__ import annotations

import pytest

from queueing import sms
from queueing.model import Service, SiteConfig
from queueing.sms import Command, Match, Parsed, match_service, parse

CFG = SiteConfig(name="Civic centre", timezone="UTC", languages=["en", "zh"], services=[
    Service("passports", {"en": "Passports & ID", "zh": "护照和身份证"}, "P"),
    Service("photos", {"en": "Passport photos", "zh": "证件照"}, "F"),
    Service("tax", {"en": "Council tax", "zh": "市政税"}, "T"),
    Service("cafe", "Café permits", "C"),
    Service("births", {"en": "Births, deaths & marriages", "zh": "出生死亡婚姻登记"}, "B"),
])


@pytest.mark.parametrize(("text", "want"), [
    ("p", Match("passports")),  # its letters
    ("TAX", Match("tax")),  # its id
    ("2", Match("photos")),  # its place in the menu
    ("passports & id", Match("passports")),  # its name, as typed
    ("PASSPORTS AND ID", Match("passports")),  # "and" for "&": a word of the name
    ("passports&id", Match("passports")),
    ("  council   TAX!! ", Match("tax")),
    ("cafe permits", Match("cafe")),  # no accent on a phone's keyboard
    ("CAFÉ", Match("cafe")),
    ("coun", Match("tax")),  # the start of a name
    ("ID", Match("passports")),  # a word of one name
    ("marriage", Match("births")),  # a word, plural as singular
    ("photo", Match("photos")),
    ("护照", Match("passports")),  # the start of the Chinese name
    ("市政税", Match("tax")),
    ("passport", Match(choices=("passports", "photos"))),  # two names have it: which?
    ("pass", Match(choices=("passports", "photos"))),
    ("dentist", Match()),
    ("9", Match()),  # no ninth service
    ("the", Match()),  # filler names nothing
    ("in", Match()),  # too short to be the start of a word
])
def test_match_service(text: str, want: Match) -> None:
    assert match_service(text, CFG) == want


def test_parse_asks_which_or_takes_the_one() -> None:
    assert parse("passport please", CFG) == Parsed(Command.JOIN, None, "en", unknown=True,
                                                   choices=("passports", "photos"))
    assert parse("join passport", CFG) == Parsed(Command.JOIN, None, "en", unknown=True,
                                                 choices=("passports", "photos"))
    assert parse("join council tax", CFG) == Parsed(Command.JOIN, "tax", "en")
    assert parse("取号 护照", CFG) == Parsed(Command.JOIN, "passports", "zh")
    assert parse("marriages", CFG).service == "births"
    # Commands still come first, and a greeting is still no service.
    assert parse("status", CFG).command is Command.STATUS
    assert parse("hello there", CFG) == Parsed(Command.HELP, unknown=True)


def test_which_lists_the_choices_in_the_person_s_language() -> None:
    choices = ("passports", "photos")
    assert which(CFG, choices, "en") == (
        "Which one? P Passports & ID, F Passport photos. Reply with its letter.")
    assert which(CFG, choices, "zh") == "请问办理哪一项？P 护照和身份证，F 证件照。请回复字母。"


def which(cfg: SiteConfig, choices: tuple[str, ...], lang: str) -> str:
    return sms.say("which", lang, choices=sms.listing(cfg, list(choices), lang))


def _long_site(n: int) -> SiteConfig:
    return SiteConfig(name="x", timezone="UTC", languages=["en", "zh"], services=[
        Service(f"s{i}", {"en": f"Department of long service names number {i}",
                          "zh": f"很长名字的第{i}号业务办理窗口"}, chr(65 + i))
        for i in range(n)])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_long_menu_fits_two_sms_parts(lang: str) -> None:
    """Two parts: 306 GSM-7 characters (English), 134 UCS-2 ones (Chinese)."""
    cfg = _long_site(20)
    reply = sms.say("unknown_service", lang, site="Civic centre", menu=sms.menu(cfg, lang))
    assert len(reply) <= (306 if lang == "en" else 134), reply
    assert sms.gsm7(reply) == (lang == "en")  # an English reply stays GSM-7
    assert ("..." if lang == "en" else "等") in reply  # said to be cut short
    assert ("A Department" if lang == "en" else "A 很长") in reply  # the first ones kept
    every = which(cfg, tuple(s.id for s in cfg.services), lang)
    assert len(every) <= (306 if lang == "en" else 134), every


def test_a_short_menu_is_not_cut() -> None:
    assert "..." not in sms.menu(CFG, "en") and "E" not in sms.listing(CFG, ["tax"], "en")
    assert sms.listing(CFG, ["tax", "cafe"], "en") == "T Council tax, C Café permits"


def test_a_menu_with_nothing_to_offer_says_so() -> None:
    """No counter serves any service yet (a site being set up): no empty list of letters."""
    empty = SiteConfig(name="x", timezone="UTC", languages=["en"], services=[])
    assert sms.menu(empty, "en") == (
        "No service takes tickets here now. Reply STATUS, CANCEL or STOP.")
    assert sms.menu(empty, "zh").startswith("目前没有可取号的业务。")


def test_a_text_naming_a_service_by_english_words_is_english() -> None:
    """Part of an English name is English too (before, only a whole name was: "exit" for
    Exit-entry permits was answered in the number's language, Chinese for a +86 phone)."""
    assert parse("coun", CFG) == Parsed(Command.JOIN, "tax", "en")
    assert parse("marriages", CFG) == Parsed(Command.JOIN, "births", "en")
    assert parse("TAX", CFG) == Parsed(Command.JOIN, "tax", "en")  # its id, an English word
    # Letters of a prefix, a menu number, a name with no English: no language told.
    assert parse("P", CFG).lang is None and parse("2", CFG).lang is None
    assert parse("cafe permits", CFG).lang is None  # "Café permits": one name, no language
    assert parse("护照", CFG).lang == "zh"
