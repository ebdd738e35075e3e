"""Text to join: what a person's SMS asks for, and what Switchboard answers. Pure.

Someone without the app (or without a smartphone) texts the site's number: a service's
letter ("A") or its name takes a ticket; ``STATUS`` says how many are ahead and how long it
may take; ``CANCEL`` gives the ticket up; ``STOP`` ends the texts about it; anything else is
answered with the menu. Chinese works as well as English (取号, 查询, 取消, 退订, 帮助), and
full-width letters from a Chinese keyboard count as their plain forms.

Commands are whole words, and a text that is exactly a service's letters (its prefix, "A",
"TD") takes a ticket for it before any command is looked at: the letters are the
services'. ``realtime/sms_api.py`` wires this to the queue.
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from dataclasses import dataclass

from queueing.model import SiteConfig, display_name


class Command(enum.StrEnum):
    JOIN = "join"
    STATUS = "status"
    CANCEL = "cancel"
    STOP = "stop"
    HELP = "help"


# What people text, in capitals (English) or as written (Chinese): the command and the
# language the word tells. "TD" and 退订 are how Chinese carriers' users unsubscribe.
KEYWORDS: dict[str, tuple[Command, str]] = {
    **{w: (Command.JOIN, "en") for w in ("JOIN", "TICKET", "QUEUE", "NEW")},
    **{w: (Command.STATUS, "en") for w in ("STATUS", "WHERE", "POSITION", "WAIT", "CHECK")},
    **{w: (Command.CANCEL, "en") for w in ("CANCEL", "LEAVE", "QUIT")},
    **{w: (Command.STOP, "en") for w in ("STOP", "UNSUBSCRIBE", "STOPALL", "OPTOUT")},
    **{w: (Command.HELP, "en") for w in ("HELP", "INFO", "MENU")},
    **{w: (Command.JOIN, "zh") for w in ("取号", "拿号", "排队", "挂号")},
    **{w: (Command.STATUS, "zh") for w in ("查询", "进度", "状态", "排到哪", "还要多久")},
    **{w: (Command.CANCEL, "zh") for w in ("取消", "退号", "不排了")},
    **{w: (Command.STOP, "zh") for w in ("退订", "TD")},
    **{w: (Command.HELP, "zh") for w in ("帮助", "菜单", "说明")},
}
# Chinese keywords run straight into what follows ("取号A", "取号 内科").
_ZH_WORDS = sorted((w for w, (_, lang) in KEYWORDS.items() if not w.isascii()), key=len,
                   reverse=True)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command
    service: str | None = None  # the service the text names
    lang: str | None = None  # the language the words were in, when they tell
    # What was not understood: the whole text (HELP) or the service asked for (JOIN).
    unknown: str | None = None


def normalise(text: str) -> str:
    """Full-width forms to plain ones (Ａ → A, ？ → ?), spaces collapsed, punctuation at the
    ends dropped ("Cancel." "取消！")."""
    text = unicodedata.normalize("NFKC", text)
    text = " ".join(text.split())
    return text.strip(" .,!?;:。，！？；：、\"'“”‘’")


def parse(text: str, cfg: SiteConfig) -> Parsed:
    """What a text asks for at the site ``cfg``."""
    t = normalise(text)
    lang = "zh" if _CJK.search(t) else None
    if not t:  # nothing, or only "?"
        return Parsed(Command.HELP, lang=lang)
    prefix = next((s.id for s in cfg.services if s.prefix.casefold() == t.casefold()), None)
    if prefix is not None:  # a service's letters come first: "TD" may be a service here
        return Parsed(Command.JOIN, prefix, lang)
    word, rest = _split(t)
    hit = KEYWORDS.get(word.upper())
    if hit is not None:
        command, word_lang = hit
        if lang is None and word_lang == "en":
            lang = "en"
        service = None
        if command is Command.JOIN and rest:
            service = find_service(rest, cfg)
            if service is None:  # the service is not known: JOIN with ``unknown``
                return Parsed(Command.JOIN, None, lang, unknown=rest[:40])
        return Parsed(command, service, lang)
    service = find_service(t, cfg)
    if service is not None:
        return Parsed(Command.JOIN, service, lang or _name_lang(t, cfg))
    return Parsed(Command.HELP, lang=lang, unknown=t[:40])


def _split(t: str) -> tuple[str, str]:
    for w in _ZH_WORDS:
        if t.startswith(w):
            return w, t[len(w):].strip()
    word, _, rest = t.partition(" ")
    return word, rest.strip()


def _fold(s: str) -> str:
    return normalise(s).casefold().replace(" ", "")


def find_service(text: str, cfg: SiteConfig) -> str | None:
    """The service ``text`` names: its letter (prefix), its id, or its name in any
    language, ignoring case and spaces."""
    want = _fold(text)
    if not want:
        return None
    for s in cfg.services:
        if want in (s.prefix.casefold(), s.id.casefold()):
            return s.id
    for s in cfg.services:
        names = s.name.values() if isinstance(s.name, dict) else [s.name]
        if any(_fold(n) == want for n in names):
            return s.id
    return None


def _name_lang(text: str, cfg: SiteConfig) -> str | None:
    """The language of the service name a text used, when it was a name per language."""
    want = _fold(text)
    for s in cfg.services:
        if isinstance(s.name, dict):
            for lang, name in s.name.items():
                if _fold(name) == want and len(want) > 3:
                    return lang
    return None


def reply_language(parsed_lang: str | None, remembered: str | None, cfg: SiteConfig) -> str:
    """The language to answer in: what the text was written in, else what this number wrote
    in before, else the site's first language we have texts for."""
    for lang in (parsed_lang, remembered, *cfg.languages):
        if lang and lang.split("-")[0] in ("zh", "en"):
            return lang.split("-")[0]
    return "en"


# -- answers --------------------------------------------------------------------------------

TEXTS: dict[str, dict[str, str]] = {
    "joined": {
        "en": "Your ticket is {number} ({service}). {wait} We will text you when it is "
              "almost your turn. Reply STATUS to check, CANCEL to give it up.",
        "zh": "您的号码是 {number}（{service}）。{wait}快到您时我们会发短信提醒。回复“查询”看进度，"
              "回复“取消”退号。",
    },
    "called_now": {
        "en": "Your ticket is {number} ({service}). It is your turn: please go to {counter} "
              "now.",
        "zh": "您的号码是 {number}（{service}）。现在就到您了，请到{counter}。",
    },
    "already": {
        "en": "You already have ticket {number} ({service}). {wait} Reply CANCEL to give it "
              "up before taking another.",
        "zh": "您已有号码 {number}（{service}）。{wait}如需换号，请先回复“取消”。",
    },
    "waiting": {
        "en": "Ticket {number} ({service}): {wait}",
        "zh": "{number} 号（{service}）：{wait}",
    },
    "called": {
        "en": "Ticket {number}: it is your turn. Please go to {counter} now.",
        "zh": "{number} 号：到您了，请马上到{counter}。",
    },
    "serving": {
        "en": "Ticket {number} is being served at {counter}.",
        "zh": "{number} 号正在{counter}办理。",
    },
    "parked": {
        "en": "Ticket {number} has been set aside for now. Please ask at reception.",
        "zh": "{number} 号暂时被搁置，请到服务台咨询。",
    },
    "none": {
        "en": "You have no ticket waiting at {site}. {menu}",
        "zh": "您在{site}没有正在排队的号码。{menu}",
    },
    "cancelled": {
        "en": "Ticket {number} is cancelled. Thank you for letting us know.",
        "zh": "{number} 号已取消，谢谢告知。",
    },
    "cannot_cancel": {
        "en": "Ticket {number} is being served now, so it cannot be cancelled by text. "
              "Please speak to the counter.",
        "zh": "{number} 号正在办理中，无法用短信取消，请直接和窗口说明。",
    },
    "stopped": {
        "en": "You will get no more texts about ticket {number}. It keeps its place: reply "
              "STATUS to check.",
        "zh": "您将不再收到 {number} 号的短信，号码仍然有效。回复“查询”可看进度。",
    },
    "stopped_none": {
        "en": "You will get no more texts from {site}.",
        "zh": "您将不再收到{site}的短信。",
    },
    "menu": {
        "en": "Reply with a letter to take a ticket: {services}. STATUS: your place. CANCEL: "
              "give up your ticket. STOP: no more texts.",
        "zh": "回复字母取号：{services}。回复“查询”看进度，“取消”退号，“退订”不再接收短信。",
    },
    "menu_one": {
        "en": "Reply JOIN to take a ticket for {services}. STATUS: your place. CANCEL: give "
              "up your ticket. STOP: no more texts.",
        "zh": "回复“取号”即可排队（{services}）。回复“查询”看进度，“取消”退号，"
              "“退订”不再接收短信。",
    },
    "unknown": {
        "en": "Sorry, we did not understand \"{word}\". {menu}",
        "zh": "抱歉，没有看懂“{word}”。{menu}",
    },
    "unknown_service": {
        "en": "There is no service \"{word}\" at {site}. {menu}",
        "zh": "{site}没有“{word}”这项服务。{menu}",
    },
    # A space before the address: a phone links only what stands apart from the words.
    "link": {"en": " Follow it live: {url}", "zh": " 实时查看 {url}"},
}

WAIT_TEXTS: dict[str, dict[str, str]] = {
    "next": {"en": "You are next", "zh": "下一位就是您"},
    "one": {"en": "1 person is ahead of you", "zh": "您前面还有 1 人"},
    "many": {"en": "{ahead} people are ahead of you", "zh": "您前面还有 {ahead} 人"},
    "range": {"en": ", about {m} min (likely {lo} to {hi} min).",
              "zh": "，预计约 {m} 分钟（大概 {lo}–{hi} 分钟）。"},
    "soon": {"en": ", any minute now.", "zh": "，马上就到。"},
    "no_estimate": {"en": ". No wait estimate yet: no counter is serving this queue right now.",
                    "zh": "。暂时无法估计等待时间：目前没有窗口在办理这项服务。"},
    "plain": {"en": ".", "zh": "。"},
}


def say(kind: str, lang: str, **values: object) -> str:
    table = TEXTS[kind]
    return (table.get(lang) or table["en"]).format(**values)


def wait_text(lang: str, ahead: int, estimate: dict[str, int] | None,
              counters_open: bool = True) -> str:
    """"3 people are ahead of you, about 12 min (likely 8 to 20 min)." An estimate's range is
    what the ticket page shows: P10 to P90, rounded outwards to whole minutes."""
    w = {k: v.get(lang) or v["en"] for k, v in WAIT_TEXTS.items()}
    head = w["next"] if ahead <= 0 else w["one"] if ahead == 1 else w["many"].format(ahead=ahead)
    if estimate is None:
        return head + (w["plain"] if counters_open else w["no_estimate"])
    if estimate["high_s"] < 120:
        return head + w["soon"]
    m = max(1, round(estimate["wait_s"] / 60))
    lo = min(m, math.floor(estimate["low_s"] / 60))
    hi = max(m, math.ceil(estimate["high_s"] / 60))
    return head + w["range"].format(m=m, lo=lo, hi=hi)


def menu(cfg: SiteConfig, lang: str) -> str:
    """The services as "A General practice, B Pharmacy" (one service: no letters)."""
    sep = "，" if lang == "zh" else ", "
    if len(cfg.services) == 1:
        s = cfg.services[0]
        return say("menu_one", lang, services=display_name(s.name, lang, s.id))
    items = sep.join(f"{s.prefix} {display_name(s.name, lang, s.id)}" for s in cfg.services)
    return say("menu", lang, services=items)
