"""Text to join: what a person's SMS asks for, and what Switchboard answers. Pure.

Someone without the app (or without a smartphone) texts the site's number: a service's
letter ("A") or its name takes a ticket; ``STATUS`` says how many are ahead and how long it
may take; ``CANCEL`` gives the ticket up; ``STOP`` ends every text of the site to the
number (queueing/optout.py) and ``START`` brings them back; anything else is answered with
the menu. Chinese works as well as English
(取号, 查询, 取消, 退订, 订阅, 帮助), and full-width letters from a Chinese keyboard count as
their plain forms.

People write more than commands: "A please", "B" and a phone's signature under it, "取号 A
谢谢", "我要看内科", "How long?". Only the first line is read; emoji, politeness and
signatures are dropped; a Chinese text that names a service takes a ticket for it.

A service is named as people text it (``match_service``): any case, spacing, punctuation or
accents, the start of its name, a word of it ("passport" for "Passports & ID"), its id or
its place in the menu; a name that fits several is answered with "which one?" and them.

Commands are whole words, and a text that is exactly a service's letters (its prefix, "A",
"TD") takes a ticket for it before any command is looked at: the letters are the
services'. Replies never repeat what was sent (a spoofed sender must not make the site's own
number deliver someone's link). ``realtime/sms_api.py`` wires this to the queue.
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from queueing import typed
from queueing.model import Service, SiteConfig, display_name


class Command(enum.StrEnum):
    JOIN = "join"
    STATUS = "status"
    CANCEL = "cancel"
    STOP = "stop"
    START = "start"
    HELP = "help"
    # About an appointment (realtime/sms_bookings.py): take the place a waiting list
    # offers, check in on arrival. And a thank-you, which is not answered.
    CONFIRM = "confirm"
    ARRIVED = "arrived"
    ACK = "ack"


# What people text, in capitals (English) or as written (Chinese): the command and the
# language the word tells. "TD" and 退订 are how Chinese carriers' users unsubscribe.
KEYWORDS: dict[str, tuple[Command, str]] = {
    **{w: (Command.JOIN, "en") for w in ("JOIN", "TICKET", "QUEUE", "NEW")},
    **{w: (Command.STATUS, "en") for w in ("STATUS", "WHERE", "POSITION", "WAIT", "HOW",
                                           "WHEN")},
    **{w: (Command.CANCEL, "en") for w in ("CANCEL", "LEAVE", "QUIT")},
    **{w: (Command.STOP, "en") for w in ("STOP", "UNSUBSCRIBE", "STOPALL", "OPTOUT")},
    **{w: (Command.START, "en") for w in ("START", "UNSTOP", "RESUME", "SUBSCRIBE")},
    **{w: (Command.HELP, "en") for w in ("HELP", "INFO", "MENU")},
    **{w: (Command.CONFIRM, "en") for w in ("YES", "CONFIRM", "ACCEPT")},
    **{w: (Command.ARRIVED, "en") for w in ("ARRIVED", "HERE", "CHECKIN", "CHECK-IN")},
    **{w: (Command.JOIN, "zh") for w in ("取号", "拿号", "排队", "挂号")},
    **{w: (Command.STATUS, "zh") for w in (
        "查询", "进度", "状态", "排到哪", "还要多久", "多久", "几个人", "还有几个", "还有几人",
        "到我了吗", "轮到我了吗")},
    **{w: (Command.STATUS, "zh") for w in ("几号", "叫到", "等多久", "到我没")},
    **{w: (Command.CANCEL, "zh") for w in ("取消", "退号", "不排了", "不来了", "来不了",
                                          "不去了", "去不了")},
    **{w: (Command.CONFIRM, "zh") for w in ("确认", "接受")},
    **{w: (Command.ARRIVED, "zh") for w in ("签到", "我到了", "已到", "到了")},
    **{w: (Command.STOP, "zh") for w in ("退订", "TD")},
    **{w: (Command.START, "zh") for w in ("订阅", "恢复提醒", "恢复")},
    **{w: (Command.HELP, "zh") for w in ("帮助", "菜单", "说明")},
}
# Chinese keywords run straight into what follows ("取号A", "取号 内科").
_ZH_WORDS = sorted((w for w, (_, lang) in KEYWORDS.items() if not w.isascii()), key=len,
                   reverse=True)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Words that carry no request: dropped wherever they stand ("A please", "取号 A 谢谢").
# (Not "A" or "I": letters are services' prefixes.)
_POLITE_EN = {"PLEASE", "PLS", "PLZ", "THANKS", "THANK", "YOU", "THX", "TY", "HI", "HELLO",
              "HEY", "OK", "MY", "THE", "WANT", "TO", "NEED"}
_POLITE_ZH = ("谢谢您", "谢谢", "谢了", "麻烦您", "麻烦", "您好", "你好", "我要", "我想", "想要",
              "请问", "请", "一下", "一个")
# A text of only these is a thank-you or an "OK": nothing is asked, nothing is answered
# (each reply costs the site a text). Not greetings: "Hello" is answered.
_ACK_EN = frozenset({"OK", "OKAY", "K", "KK", "THANKS", "THANK", "YOU", "THX", "TY", "CHEERS",
                     "GREAT", "FINE", "NOTED", "GOT", "IT", "ALRIGHT", "GOOD", "PLEASE",
                     "MANY", "SO", "MUCH", "VERY"})
_ACK_ZH = ("谢谢您", "谢谢你", "谢谢", "谢了", "多谢", "好的", "好滴", "收到", "知道了", "明白",
           "好", "嗯", "行", "哦")
# Said in more than a word: "I can't come", "Is it my turn yet".
_PHRASES = {"CANT COME": Command.CANCEL, "CANNOT COME": Command.CANCEL,
            "CAN NOT COME": Command.CANCEL, "WONT COME": Command.CANCEL,
            "NOT COMING": Command.CANCEL, "WONT BE COMING": Command.CANCEL,
            "CANT MAKE IT": Command.CANCEL, "MY TURN": Command.STATUS,
            "HOW LONG": Command.STATUS, "HOW MANY": Command.STATUS,
            "CHECK IN": Command.ARRIVED, "I AM HERE": Command.ARRIVED,
            "IM HERE": Command.ARRIVED}
# Commands a word anywhere in a short text stands for ("I want to cancel"). Not JOIN, whose
# service must be read from the rest; not STOP or START, said only as the text's first word
# ("I'll stop by" unsubscribes nobody); not words that ask about anything ("how", "when").
_ANYWHERE_MAX_WORDS = 8
_ANYWHERE = frozenset({Command.STATUS, Command.CANCEL, Command.CONFIRM, Command.ARRIVED,
                       Command.HELP})
_NOT_ANYWHERE = frozenset({"HOW", "WHEN", "WHERE", "HERE", "INFO", "WAIT", "LEAVE", "QUIT"})
# The words a typo is forgiven in (four letters or more, few near-misses in plain English:
# "quite" is no "QUIT", "shop" no "STOP").
_TYPO_WORDS = ("CANCEL", "STATUS", "CONFIRM", "ARRIVED", "POSITION", "CHECKIN")


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command
    service: str | None = None  # the service the text names
    lang: str | None = None  # the language the words were in, when they tell
    # Not understood: the whole text (HELP) or the service asked for (JOIN). Never repeated
    # in a reply.
    unknown: bool = False
    # A service asked for that fits more than one ("passport" at a site with "Passports"
    # and "Passport photos"): their ids, to ask which.
    choices: tuple[str, ...] = ()
    # The whole text was a service's letters or a number ("C", "1"): maybe a reply to an
    # appointment's text rather than a ticket asked for (realtime/sms_bookings.py).
    bare: bool = field(default=False, compare=False)


def normalise(text: str) -> str:
    """The first line that says something, with full-width forms made plain (Ａ → A, ？ → ?),
    emoji and invisible format characters dropped, spaces collapsed, punctuation at the ends
    dropped ("Cancel." "取消！")."""
    text = typed.plain(text)  # as ticket numbers and booking codes are read
    line = next((ln for ln in text.splitlines() if _clean(ln).strip()), "")
    line = " ".join(_clean(line).split())
    return line.strip(" .,!?;:。，！？；：、\"'“”‘’-~…")


def _clean(s: str) -> str:
    # So/Sk: emoji and symbols; Cf: format (bidi marks, zero-width); Cc, Co, Cs: control,
    # private use, surrogates. A space keeps words that a symbol separated apart.
    return "".join(" " if unicodedata.category(ch) in ("So", "Sk", "Cf", "Cc", "Co", "Cs")
                   else ch for ch in s)


def _drop_polite(t: str) -> str:
    for w in _POLITE_ZH:
        t = t.replace(w, " ")
    words = t.split()
    if len(words) > 1:
        words = [w for w in words if w.upper().strip(".,!?") not in _POLITE_EN]
    return " ".join(words).strip(" .,!?;:。，！？；：、")


def parse(text: str, cfg: SiteConfig) -> Parsed:
    """What a text asks for at the site ``cfg``."""
    t = normalise(text)
    lang = "zh" if _CJK.search(t) else None
    if not t:  # nothing, or only "?"
        return Parsed(Command.HELP, lang=lang)
    prefix = _prefix(t, cfg)
    if prefix is not None:  # a service's letters come first: "TD" may be a service here
        return Parsed(Command.JOIN, prefix, lang, bare=True)
    if _ack(t):
        return Parsed(Command.ACK, lang=lang or "en")
    word, rest = _split(t)
    hit = KEYWORDS.get(word.upper())
    if hit is not None:
        command, word_lang = hit
        if lang is None and word_lang == "en":
            lang = "en"
        service = None
        rest = _drop_polite(rest)
        if command is Command.JOIN and rest:
            found = match_service(rest, cfg)
            service = found.service or (None if found.choices else _named_in(rest, cfg))
            if service is None:  # a service that is not here (or which one?): not understood
                return Parsed(Command.JOIN, None, lang, unknown=True, choices=found.choices)
        return Parsed(command, service, lang)
    bare = _drop_polite(t)
    found = match_service(bare, cfg) if bare else Match()
    service = _prefix(bare, cfg) or found.service
    if service is None and lang == "zh" and not found.choices:
        service = _named_in(t, cfg)  # 我要看内科, 内科挂号
    if service is not None:
        return Parsed(Command.JOIN, service, lang or _name_lang(bare, cfg)
                      or _latin_name(bare, found, cfg), bare=bare.isdigit())
    if found.choices:
        return Parsed(Command.JOIN, None, lang or _latin_name(bare, found, cfg), unknown=True,
                      choices=found.choices)
    if bare != t and bare:
        again = parse(bare, cfg)  # "please cancel", "麻烦取消"
        if not again.unknown:
            return Parsed(again.command, again.service, lang or again.lang)
    loose = _loose(t)
    if loose is not None:  # "Cancle", "I want to cancel", 还要等多久啊
        return Parsed(loose, lang=lang or ("en" if t.isascii() else None))
    return Parsed(Command.HELP, lang=lang, unknown=bool(bare))


def _ack(t: str) -> bool:
    """Whether ``t`` only thanks or agrees ("OK thanks", "谢谢", "好的")."""
    if _CJK.search(t):
        for w in _ACK_ZH:
            t = t.replace(w, "")
        return not t.strip(" .,!?;:。，！？；：、~") or t.strip().upper() in ("OK", "OK OK")
    words = [w.strip(".,!?'") for w in t.upper().replace("'", "").split()]
    return bool(words) and all(w in _ACK_EN for w in words)


def _loose(t: str) -> Command | None:
    """A command said loosely, in a text no service name matched: a word of four letters or
    more one typo from a command word ("STAUTS", "Cancle", "canel"), a command word or a
    phrase anywhere in a short text ("I want to cancel", "I can't come", 还要等多久啊,
    我不来了). JOIN is never guessed: a ticket is taken only when asked for plainly."""
    if _CJK.search(t):
        found = [w for w in _ZH_WORDS if w in t and KEYWORDS[w][0] in _ANYWHERE]
        return KEYWORDS[max(found, key=len)][0] if found else None
    words = ["".join(ch for ch in w if ch.isalnum() or ch == "-")
             for w in t.upper().replace("'", "").replace("’", "").split()]
    words = [w for w in words if w]
    if not words or len(words) > _ANYWHERE_MAX_WORDS:
        return None
    spaced = " " + " ".join(words) + " "
    for phrase, command in _PHRASES.items():
        if f" {phrase} " in spaced:
            return command
    for w in words:
        hit = KEYWORDS.get(w)
        if hit is None and len(w) >= 4:
            hit = next((KEYWORDS[k] for k in _TYPO_WORDS if _one_typo(w, k)), None)
        if hit is not None and hit[0] in _ANYWHERE and w not in _NOT_ANYWHERE:
            return hit[0]
    return None


def _one_typo(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one edit: a letter added, dropped, changed, or two
    neighbours swapped ("STAUTS")."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _prefix(t: str, cfg: SiteConfig) -> str | None:
    return next((s.id for s in cfg.services if s.prefix.casefold() == t.casefold()), None)


def _split(t: str) -> tuple[str, str]:
    for w in _ZH_WORDS:
        if t.startswith(w):
            return w, t[len(w):].strip()
    word, _, rest = t.partition(" ")
    return word, rest.strip()


@dataclass(frozen=True, slots=True)
class Match:
    """What a text naming a service comes to: one ``service``, several ``choices``, or
    neither (none fits)."""

    service: str | None = None
    choices: tuple[str, ...] = ()


# Words that tell no service apart ("Passports & ID", "Office of the registrar").
_FILLER = frozenset({"and", "of", "the", "for", "a", "an", "to", "in", "on", "at", "with",
                     "service", "services", "desk", "counter", "office"})
# A word of the text that begins a word of a name must be this long ("pass" → Passports;
# "in" is no word for Internal medicine).
_MIN_WORD_PREFIX = 4


def _key(s: str) -> str:
    """What is compared: NFKC, accents dropped (é → e), case folded, and only letters and
    digits kept ("Passports & ID" → "passportsid", "Ｂ" → "b"; Chinese stays as it is)."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", s))
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _words(s: str) -> list[str]:
    """The words of ``s`` as ``_key`` reads each, plurals as singulars ("Passports" →
    "passport"), filler dropped."""
    spaced = "".join(ch if ch.isalnum() else " " for ch in
                     unicodedata.normalize("NFKC", s).replace("'", ""))
    out = []
    for w in (_key(w) for w in spaced.split()):
        if w and w not in _FILLER:
            out.append(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss")
                       else w)
    return out


def match_service(text: str, cfg: SiteConfig) -> Match:
    """The service ``text`` names, forgiving the way people text. Tried in turn, the first
    that fits any service decides (one: that service; several: ``choices``):

    1. its letters (prefix) or its id ("b", "pharmacy");
    2. its place in the menu, from 1 ("2": the second service ``menu`` lists);
    3. its name in any language, ignoring case, spaces, punctuation and accents
       ("Passports&ID", "PASSPORTS & ID", "cafe" for "Café");
    4. the start of a name ("pass", "儿");
    5. words of a name, plurals as singulars ("passport", "ID" for "Passports & ID"), or
       their starts of ``_MIN_WORD_PREFIX`` letters or more: the service with the most.
    """
    want = _key(text)
    if not want:
        return Match()
    services = cfg.services
    tiers: tuple[Callable[[Service], bool], ...] = (
        lambda s: want in (_key(s.prefix), _key(s.id)),
        lambda s: want.isdigit() and int(want) - 1 == services.index(s),
        lambda s: any(_key(n) == want for n in _names(s.name)),
        lambda s: (len(want) >= 3 or bool(_CJK.search(want)))
        and any(_key(n).startswith(want) for n in _names(s.name)),
    )
    for fits in tiers:
        ids = tuple(s.id for s in services if fits(s))
        if len(ids) == 1:
            return Match(ids[0])
        if ids:
            return Match(choices=ids)
    # 5: the services sharing the most words with the text ("passports and id": both words
    # are Passports & ID's, one is Passport photos').
    shared = {s.id: _shared_words(text, s) for s in services}
    most = max(shared.values(), default=0)
    ids = tuple(sid for sid, n in shared.items() if n == most and n > 0)
    return Match(ids[0]) if len(ids) == 1 else Match(choices=ids)


def _shared_words(text: str, service: Service) -> int:
    """How many words of ``text`` are (or begin) a word of the service's names."""
    names = [w for n in _names(service.name) for w in _words(n)]
    return sum(any(w == n or (len(w) >= _MIN_WORD_PREFIX and n.startswith(w)) for n in names)
               for w in set(_words(text)))


def _names(name: object) -> list[str]:
    return list(name.values()) if isinstance(name, dict) else [str(name)]


def _named_in(text: str, cfg: SiteConfig) -> str | None:
    """The one service whose Chinese (or other CJK) name the text contains ("我要看内科"):
    the longest name wins; two services named: none."""
    folded = _key(text)
    found = sorted(((len(_key(n)), s.id) for s in cfg.services for n in _names(s.name)
                    if _CJK.search(n) and _key(n) in folded), reverse=True)
    if not found:
        return None
    longest = found[0][0]
    ids = {sid for n, sid in found if n == longest}
    return ids.pop() if len(ids) == 1 else None


def _name_lang(text: str, cfg: SiteConfig) -> str | None:
    """The language of the service name a text used, when it was a name per language."""
    want = _key(text)
    for s in cfg.services:
        if isinstance(s.name, dict):
            for lang, name in s.name.items():
                if _key(name) == want and len(want) > 3:
                    return lang
    return None


_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def _latin_name(text: str, found: Match, cfg: SiteConfig) -> str | None:
    """English, when a text in Latin letters named the service (or services) it matched by
    words of their English names ("exit" for Exit-entry permits, "Hong Kong"): the person
    wrote English. Not a prefix's letters ("TD"), nor a text without a word of three letters.
    """
    if _CJK.search(text) or not _LATIN_WORD.search(text):
        return None
    ids = {found.service} if found.service else set(found.choices)
    named = [s for s in cfg.services if s.id in ids and isinstance(s.name, dict)]
    return "en" if named and all("en" in s.name for s in named) else None


def reply_language(parsed_lang: str | None, remembered: str | None, cfg: SiteConfig,
                   country: str | None = None) -> str:
    """The language to answer in: what the text was written in, else what this number wrote
    in before, else what its country suggests (``number_language``) if the site speaks it,
    else the site's first language we have texts for."""
    spoken = {lang.split("-")[0] for lang in cfg.languages}
    for lang in (parsed_lang, remembered, country if country in spoken else None,
                 *cfg.languages):
        if lang and lang.split("-")[0] in ("zh", "en"):
            return lang.split("-")[0]
    return "en"


# Country calling codes (E.164: no code is the start of another) whose phones mostly read
# one of the languages we have texts in: Chinese for China, Hong Kong, Macao, Taiwan;
# English for North America, the UK, Ireland, Australia and New Zealand. Places where either
# is as likely (Singapore, Malaysia) are left out: the site's first language answers them.
CALLING_CODES = {"86": "zh", "852": "zh", "853": "zh", "886": "zh",
                 "1": "en", "44": "en", "353": "en", "61": "en", "64": "en"}


def number_language(number: str) -> str | None:
    """The language a sender's country suggests, for a first text without words (a bare
    "A"). Only for a number written in international form ("+44…"): a gateway that drops
    the + may send a Chinese mobile as "13800138000", which would read as +1."""
    if not number.startswith("+"):
        return None
    digits = number[1:]
    return next((lang for code, lang in CALLING_CODES.items() if digits.startswith(code)),
                None)


def site_language(lang: str, available: list[str] | tuple[str, ...]) -> str | None:
    """``lang`` as one of ``available`` (a notification's text keys, the site's languages):
    itself, else the first with its base ("zh" → "zh-CN", "en-GB" → "en"); else None."""
    if lang in available:
        return lang
    base = lang.split("-")[0]
    return next((a for a in available if a.split("-")[0] == base), None)


# -- answers --------------------------------------------------------------------------------
# Short: an English text over 160 characters is two parts, a Chinese one over 70 too.

TEXTS: dict[str, dict[str, str]] = {
    "joined": {
        "en": "{site}: your ticket {number} ({service}). {wait} {promise} Reply STATUS to "
              "check, CANCEL to leave.",
        "zh": "【{site}】您已取号 {number}（{service}），{wait}{promise}回复“查询”看进度，"
              "“取消”退号。",
    },
    "promise": {
        "en": "We'll text you when you are called, and before if there is time.",
        "zh": "叫到您时会短信通知，时间充裕时会提前提醒。",
    },
    "no_promise": {"en": "", "zh": ""},
    "promise_stopped": {
        "en": "This number sent STOP, so we will not text you when you are called: text "
              "START to get texts.",
        "zh": "本号码已退订，叫号时不会短信通知；回复“订阅”可恢复。",
    },
    "already": {
        "en": "You already have {number} ({service}): {wait} One ticket per phone; for "
              "someone else, use their phone or the kiosk.",
        "zh": "您已有号码 {number}（{service}），{wait}每个手机号只能取一个号，"
              "家人请用自己的手机或到自助机取号。",
    },
    "waiting": {
        "en": "{number} ({service}): {wait}",
        "zh": "{number}（{service}）：{wait}",
    },
    "alerts_off": {
        "en": " Texts about it are off: reply START to turn them on.",
        "zh": "短信提醒已关闭，回复“订阅”可恢复。",
    },
    "called": {
        "en": "{number}: it is your turn. Please go to {counter} now.",
        "zh": "{number} 号：到您了，请现在到{counter}。",
    },
    "serving": {
        "en": "{number} is being served at {counter}.",
        "zh": "{number} 号正在{counter}办理。",
    },
    "parked": {
        "en": "{number} is on hold. Please speak to reception.",
        "zh": "{number} 号暂缓叫号，请到服务台咨询。",
    },
    "none": {
        "en": "You have no ticket waiting at {site}. {menu}",
        "zh": "您在{site}没有正在排队的号码。{menu}",
    },
    # The number's last ticket ended today: how (STATUS after being served), then the menu.
    "ended_done": {
        "en": "{number} ({service}) was completed at {time}. {menu}",
        "zh": "{number} 号（{service}）已于 {time} 办理完成。{menu}",
    },
    "ended_no_show": {
        "en": "{number} ({service}) was called and nobody came; it closed at {time}. {menu}",
        "zh": "{number} 号（{service}）叫号未到，已于 {time} 过号。{menu}",
    },
    "ended_cancelled": {
        "en": "{number} ({service}) was cancelled at {time}. {menu}",
        "zh": "{number} 号（{service}）已于 {time} 取消。{menu}",
    },
    "closed": {
        "en": "No counter is serving {service} at {site} now, so no ticket can be taken by text. "
              "Please text again when it is open.",
        "zh": "{site}目前没有窗口办理{service}，暂不能短信取号，请开放后再发。",
    },
    # Outside issuing hours (policy.hours, queueing/hours.py): when a text can take one.
    "site_closed": {
        "en": "{site} is closed now{note}: no ticket can be taken. {again}",
        "zh": "{site}现在不取号{note}。{again}",
    },
    "service_closed": {
        "en": "{service} at {site} takes no more tickets now. {again}",
        "zh": "{site}的{service}现在不取号。{again}",
    },
    "again_at": {"en": "Text again from {opens}.", "zh": "请于{opens}后再发短信取号。"},
    "again_later": {"en": "Text again when it reopens.", "zh": "请在重新开放后再发短信取号。"},
    "note": {"en": " ({name})", "zh": "（{name}）"},
    "full": {
        "en": "Sorry, {site} is not taking more tickets by text just now: many people are "
              "already waiting. Please text again later, or take a ticket at the kiosk.",
        "zh": "抱歉，{site}短信取号人数已满，暂不能取号。请稍后再发，或到现场自助机取号。",
    },
    "cancelled": {
        "en": "{number} is cancelled. Thank you for letting us know.",
        "zh": "{number} 号已取消，谢谢告知。",
    },
    "cannot_cancel": {
        "en": "{number} is being served now, so it cannot be cancelled by text. Please tell "
              "the counter.",
        "zh": "{number} 号正在办理中，无法用短信取消，请直接告诉窗口工作人员。",
    },
    # STOP: the number's opt-out from every text of the site (queueing/optout.py).
    "stopped": {
        "en": "OK: you will get no more texts from {site}, not even when {number} is called. "
              "{number} keeps its place. Text START to get texts again.",
        "zh": "已退订：您将不再收到{site}的短信，{number} 号叫号时也不会通知，号码仍然有效。"
              "回复“订阅”可恢复。",
    },
    "stopped_none": {
        "en": "OK: you will get no more texts from {site}. Text START to get them again.",
        "zh": "已退订：您将不再收到{site}的短信。回复“订阅”可恢复。",
    },
    "started": {
        "en": "Texts about {number} are on again: we'll text you when you are called.",
        "zh": "已恢复 {number} 号的短信提醒，叫到您时会通知。",
    },
    "started_none": {
        "en": "Texts from {site} are on again. You have no ticket waiting. {menu}",
        "zh": "已恢复接收{site}的短信。您目前没有正在排队的号码。{menu}",
    },
    "menu": {
        "en": "Text a letter for a ticket: {services}. Or STATUS, CANCEL, STOP.",
        "zh": "回复字母取号：{services}。回复“查询”看进度，“取消”退号，“退订”停止提醒。",
    },
    "menu_one": {
        "en": "Text JOIN for a ticket ({services}). Or STATUS, CANCEL, STOP.",
        "zh": "回复“取号”即可排队（{services}）。回复“查询”看进度，“取消”退号，“退订”停止提醒。",
    },
    "menu_none": {
        "en": "No service takes tickets here now. Reply STATUS, CANCEL or STOP.",
        "zh": "目前没有可取号的业务。回复“查询”看进度，“取消”退号，“退订”停止提醒。",
    },
    "unknown": {
        "en": "Sorry, we didn't understand. {menu}{contact}",
        "zh": "抱歉，没看懂。{menu}{contact}",
    },
    # HELP: who this is, the services and the words, and whom to call (``help_phone``).
    "help": {"en": "{site}: {menu}{contact}", "zh": "【{site}】{menu}{contact}"},
    "contact": {"en": " Help: call {phone}.", "zh": "咨询电话：{phone}。"},
    "unknown_service": {
        "en": "Sorry, {site} has no such service. {menu}",
        "zh": "抱歉，{site}没有这项服务。{menu}",
    },
    "which": {
        "en": "Which one? {choices}. Reply with its letter.",
        "zh": "请问办理哪一项？{choices}。请回复字母。",
    },
    # A ticket's holder wrote something not understood: where the ticket is, and the words.
    "waiting_help": {
        "en": "{status} Reply STATUS to check, CANCEL to leave.",
        "zh": "{status}回复“查询”看进度，“取消”退号。",
    },
    # Appointments (realtime/sms_bookings.py): "Internal medicine at Thu 19 Nov 10:00
    # (code KK7RZM)".
    "bk_line": {"en": "{service} at {time} (code {code})",
                "zh": "{time}{service}（预约码 {code}）"},
    "bk_one": {"en": "Your appointment: {one}. {hint}", "zh": "您的预约：{one}。{hint}"},
    "bk_many": {
        "en": "Your appointments: {lines}. Reply CANCEL and a code to cancel one.",
        "zh": "您的预约：{lines}。回复“取消”加预约码可取消其中一个。",
    },
    "bk_status": {"en": "{one}", "zh": "{one}"},
    "bk_pick": {
        "en": "You have {n} appointments: {lines}. Which one? Reply {word} and its code, "
              "e.g. {word} {code}.",
        "zh": "您有 {n} 个预约：{lines}。请问是哪一个？请回复“{word}”加预约码，如“{word} {code}”。",
    },
    "bk_none": {
        "en": "This number has no appointment at {site}. {menu}",
        "zh": "此号码在{site}没有预约。{menu}",
    },
    "bk_cancelled": {
        "en": "Cancelled: your appointment, {one}. Thank you for letting us know.",
        "zh": "已取消您的预约：{one}。谢谢告知。",
    },
    "bk_confirmed": {
        "en": "Booked: {one}. Please come on time.",
        "zh": "预约成功：{one}。请按时前来。",
    },
    "bk_no_offer": {
        "en": "No place is waiting for your YES. {one}",
        "zh": "目前没有待您确认的空位。{one}",
    },
    "bk_offer_gone": {
        "en": "Sorry, the place ({one}) is no longer kept for you.",
        "zh": "抱歉，该空位（{one}）已不再为您保留。",
    },
    "bk_moved": {
        "en": "Done: your appointment is now {one}.",
        "zh": "已改约：{one}。",
    },
    "bk_taken": {
        "en": "Sorry, that time was taken. Your appointment ({one}) still waits for your "
              "answer. {alts}",
        "zh": "抱歉，该时间已被约满。您的预约（{one}）仍待您回复。{alts}",
    },
    "bk_checked_in": {
        "en": "Checked in: {one}. Your ticket: {number}. {wait}",
        "zh": "已签到：{one}。您的号码 {number}，{wait}",
    },
    "bk_too_early": {
        "en": "Your appointment: {one}. Check-in opens at {opens}: text ARRIVED then.",
        "zh": "您的预约：{one}。{opens} 起可签到，届时请回复“签到”。",
    },
    "bk_too_late": {
        "en": "Your appointment ({one}) can no longer be checked in by text. Please ask at "
              "reception.",
        "zh": "您的预约（{one}）已无法短信签到，请到服务台咨询。",
    },
    "bk_not_today": {
        "en": "Your appointment: {one}. Check in on the day when you arrive: text ARRIVED.",
        "zh": "您的预约：{one}。请在当天到达后回复“签到”。",
    },
    "bk_join_or": {
        "en": "Your appointment: {one}. {hint} For a ticket for {service} now, reply "
              "JOIN {letter}.",
        "zh": "您的预约：{one}。{hint}如要现在取{service}的号，请回复“取号 {letter}”。",
    },
    "hint_booked": {"en": "Reply CANCEL to cancel it.", "zh": "回复“取消”可取消预约。"},
    "hint_today": {
        "en": "Reply ARRIVED when you are here to check in, CANCEL to cancel.",
        "zh": "到达后回复“签到”，回复“取消”可取消预约。",
    },
    "hint_offered": {
        "en": "A place is free for you until {until}: reply YES to take it, CANCEL to give "
              "it up.",
        "zh": "空位为您保留到 {until}：回复“确认”接受，“取消”放弃。",
    },
    "hint_waitlisted": {
        "en": "On the waiting list, not booked yet. Reply CANCEL to leave the list.",
        "zh": "候补中，尚未预约成功。回复“取消”可退出候补。",
    },
    "hint_suspended": {
        "en": "It cannot take place. {alts}",
        "zh": "该预约无法进行。{alts}",
    },
    "alts": {
        "en": "Free now: {items}. Reply the number to take one, or CANCEL.",
        "zh": "可选：{items}。回复序号改约，或回复“取消”。",
    },
    "alts_none": {
        "en": "No other time is free now: reply CANCEL, or call us.",
        "zh": "目前没有其他可选时间：可回复“取消”，或来电咨询。",
    },
    # A space before the address: a phone links only what stands apart from the words.
    "link": {"en": " Live: {url}", "zh": " 实时查看 {url}"},
}

WAIT_TEXTS: dict[str, dict[str, str]] = {
    "next": {"en": "You are next", "zh": "下一位就是您"},
    "one": {"en": "1 person ahead", "zh": "前面还有 1 人"},
    "many": {"en": "{ahead} people ahead", "zh": "前面还有 {ahead} 人"},
    "range": {"en": ", about {m} min (likely {lo}-{hi}).",
              "zh": "，预计约 {m} 分钟（一般 {lo}–{hi} 分钟）。"},
    "up_to": {"en": ", up to {hi} min.", "zh": "，最多约 {hi} 分钟。"},
    "soon": {"en": ", any minute now.", "zh": "，马上就到。"},
    "no_estimate": {"en": ". No wait estimate yet: no counter is serving this queue now.",
                    "zh": "。目前没有窗口办理该业务，暂时无法估计等待时间。"},
    "plain": {"en": ".", "zh": "。"},
}


def say(kind: str, lang: str, **values: object) -> str:
    table = TEXTS[kind]
    return (table.get(lang) or table["en"]).format(**values)


def after_colon(lang: str, text: str) -> str:
    """``text`` to follow a colon: lower case first in English ("You are next" →
    "D001 (Pharmacy): you are next")."""
    return text if lang.startswith("zh") or not text else text[0].lower() + text[1:]


_WEEKDAYS_ZH = {"mon": "周一", "tue": "周二", "wed": "周三", "thu": "周四", "fri": "周五",
                "sat": "周六", "sun": "周日"}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def again_text(lang: str, local: dict[str, str] | None) -> str:
    """"Text again from Tue 8 Dec 07:30." for the next opening's local ``date``, ``weekday``
    and ``time`` (queueing/hours.py ``when``); none within a year: "when it reopens"."""
    if not local:
        return say("again_later", lang)
    _, month, day = (int(x) for x in local["date"].split("-"))
    if lang == "zh":
        opens = f"{month}月{day}日（{_WEEKDAYS_ZH[local['weekday']]}）{local['time']}"
    else:
        opens = f"{local['weekday'].title()} {day} {_MONTHS_EN[month - 1]} {local['time']}"
    return say("again_at", lang, opens=opens)


def wait_text(lang: str, ahead: int, estimate: dict[str, int] | None,
              counters_open: bool = True) -> str:
    """"3 people ahead, about 12 min (likely 8-20)." An estimate's range is what the ticket
    page shows: P10 to P90, rounded outwards to whole minutes; a range from 0 is "up to"."""
    w = {k: v.get(lang) or v["en"] for k, v in WAIT_TEXTS.items()}
    head = w["next"] if ahead <= 0 else w["one"] if ahead == 1 else w["many"].format(ahead=ahead)
    if estimate is None:
        return head + (w["plain"] if counters_open else w["no_estimate"])
    if estimate["high_s"] < 120:
        return head + w["soon"]
    m = max(1, round(estimate["wait_s"] / 60))
    lo = min(m, math.floor(estimate["low_s"] / 60))
    hi = max(m, math.ceil(estimate["high_s"] / 60))
    if lo <= 0:
        return head + w["up_to"].format(hi=hi)
    return head + w["range"].format(m=m, lo=lo, hi=hi)


# What a list of services may take of a reply that must fit two SMS parts (306 GSM-7
# characters, or 134 UCS-2 ones: Chinese, or any character GSM-7 lacks), so that the words
# around it fit too.
LIST_ROOM = {"gsm": 200, "ucs2": 80}
# The GSM 03.38 default alphabet (its extension table, ^{}[]~|€\, counts two: left out).
GSM7 = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
                 "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def gsm7(text: str) -> bool:
    """Whether ``text`` goes as GSM-7 (160 characters a part), not UCS-2 (70)."""
    return all(ch in GSM7 for ch in text)


def contact(cfg: SiteConfig, lang: str) -> str:
    """" Help: call +86 10 8888 6666." when the site gives a help number, else ''."""
    return say("contact", lang, phone=cfg.help_phone) if cfg.help_phone else ""


def menu(cfg: SiteConfig, lang: str) -> str:
    """The services as "A General practice, B Pharmacy" (one service: no letters); a long
    list is cut short ("..."), to keep the reply within two parts."""
    if not cfg.services:  # no counter serves any (a site being set up)
        return say("menu_none", lang)
    if len(cfg.services) == 1:
        s = cfg.services[0]
        return say("menu_one", lang, services=display_name(s.name, lang, s.id))
    return say("menu", lang, services=listing(cfg, [s.id for s in cfg.services], lang))


def listing(cfg: SiteConfig, ids: list[str], lang: str) -> str:
    """"A General practice, B Pharmacy" for ``ids``, as many as ``LIST_ROOM`` allows."""
    sep, more = ("，", "等") if lang == "zh" else (", ", ", ...")  # "…" is not GSM-7
    items = [f"{s.prefix} {display_name(s.name, lang, s.id)}"
             for s in (cfg.service(i) for i in ids) if s is not None]
    text = sep.join(items)
    kept = len(items)
    while kept > 1 and len(text) > LIST_ROOM["gsm" if gsm7(text) else "ucs2"]:
        kept -= 1
        text = sep.join(items[:kept]) + more
    return text
