"""The queue domain's data: site configuration in, tickets out.

Structs are msgspec types, so the same definitions validate HTTP bodies, decode what Redis
holds and encode responses. Unknown fields are refused (``forbid_unknown_fields``): a typo in a
site file must not be silently ignored in a hospital.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from queueing import phone
from queueing.errors import BadRequest

Ident = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Prefix = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{1,3}$")]
Clock = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
# What a caller types that other people read on a screen, a ticket slip or a log line (a
# customer's name, a job's address): no control characters, which break a board's line or a
# log record, and no bidirectional overrides or isolates (U+202A-E, U+2066-9), which make a
# screen show the characters in another order than they were sent. ``PLAIN_LINES`` lets line
# breaks and tabs through (a job's note). Request bodies only: stored documents keep their
# old types, so nothing already stored stops loading. (``\Z``: ``$`` also matches before a
# final newline.)
PLAIN = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*\Z"
PLAIN_LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*\Z"
# A name is one string, or a string per language ({"zh": "内科", "en": "Internal medicine"}).
Name = Text | dict[Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")], Text]


class TicketStatus(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    PARKED = "parked"
    # Waiting in another service's queue after a transfer, until called there.
    TRANSFERRED = "transferred"


class Channel(enum.StrEnum):
    APP = "app"
    KIOSK = "kiosk"
    PHONE = "phone"
    SMS = "sms"
    WINDOW = "window"
    WEB = "web"
    PARTNER = "partner"


class CounterState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class Vocabulary(enum.StrEnum):
    """The words a site's pages use for the people it serves and who serves them: a clinic
    says "doctor" and "patient", a government centre "window" and "citizen" (办事群众), a bank
    branch "counter" and "customer". The terms themselves live in clients/web/js/vocabulary.js;
    the server only keeps the choice."""

    GENERAL = "general"
    CLINIC = "clinic"
    GOVERNMENT = "government"
    BRANCH = "branch"


class Strict(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    pass


class Service(Strict):
    id: Ident
    name: Name
    prefix: Prefix


class Counter(Strict):
    id: Ident
    name: Name
    services: Annotated[list[Ident], msgspec.Meta(min_length=1)]
    # Relative weight per service when the counter chooses between its services' heads.
    weights: dict[Ident, Annotated[float, msgspec.Meta(gt=0, le=100)]] = {}
    # Planned opening hours, local time, every day: [["08:00", "12:00"], ["13:30", "17:30"]].
    # Only an input to wait estimates (a counter about to close serves fewer people);
    # opening and closing stay the agent's actions.
    shifts: list[tuple[Clock, Clock]] = []


class Area(Strict):
    """A waiting room (or corridor) of the site: the counters whose calls its board shows and
    says (``/board/{site}?area={id}``). A counter may be in several areas: a corridor's board
    shows the rooms on both sides. Kiosks, queues and transfers stay the site's."""

    id: Ident
    name: Name
    counters: Annotated[list[Ident], msgspec.Meta(min_length=1, max_length=500)]


class PriorityClass(Strict):
    id: Ident
    # A preempting class (emergency) may overtake tickets whose aging budget is used up.
    preempt: bool = False
    name: Name | None = None
    # A kiosk or app (kiosk token) may choose this class itself, say a "priority" button for
    # the elderly that the site trusts; otherwise only an agent sets it. The site's default
    # class is always allowed.
    self_service: bool = False


DEFAULT_CLASSES = [
    PriorityClass("emergency", preempt=True, name={"zh": "急诊", "en": "Emergency"}),
    PriorityClass("priority", name={"zh": "优先", "en": "Priority"}),
    PriorityClass("appointment", name={"zh": "预约", "en": "Appointment"}),
    PriorityClass("revisit", name={"zh": "复诊", "en": "Revisit"}),
    PriorityClass("walk_in", name={"zh": "普通", "en": "Walk-in"}, self_service=True),
]


# The default classes' names that follow the site's words (``SiteConfig.vocabulary``): a
# bank branch or a government centre saved with the defaults showed 急诊 ("emergency room")
# and 复诊 ("return consultation") on its consoles. A class named as one of these (a default
# name, in any vocabulary) is named as its site's vocabulary says; a name the site wrote
# itself is never touched.
_NEUTRAL = {"emergency": {"zh": "加急", "en": "Urgent"},
            "revisit": {"zh": "复访", "en": "Return visit"}}
DEFAULT_CLASS_NAMES: dict[str, dict[str, dict[str, str]]] = {
    "clinic": {"emergency": {"zh": "急诊", "en": "Emergency"},
               "revisit": {"zh": "复诊", "en": "Revisit"}},
    "government": {"emergency": {"zh": "加急", "en": "Urgent"},
                   "revisit": {"zh": "再次办理", "en": "Return visit"}},
    "branch": _NEUTRAL,
    "general": _NEUTRAL,
}


def class_names_for(classes: list[PriorityClass], vocabulary: str) -> list[PriorityClass]:
    """``classes`` with the default classes' default names in ``vocabulary``'s words."""
    words = DEFAULT_CLASS_NAMES.get(vocabulary)
    if words is None:
        return classes
    out = []
    for c in classes:
        name = words.get(c.id)
        known = [v[c.id] for v in DEFAULT_CLASS_NAMES.values() if c.id in v]
        if name is not None and c.name != name and c.name in known:
            c = msgspec.structs.replace(c, name=dict(name))
        out.append(c)
    return out


# Site-local days and times of issuing hours (``Policy.hours``, queueing/hours.py).
Date = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}$")]
EndClock = Annotated[str, msgspec.Meta(pattern=r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")]
WeekdayKey = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# Per weekday, the intervals ``[from, until]`` in which tickets are issued: ``until`` may be
# "24:00", or earlier than ``from`` (the interval runs past midnight into the next day). A
# weekday left out issues no ticket.
Week = dict[WeekdayKey, Annotated[list[tuple[Clock, EndClock]], msgspec.Meta(max_length=8)]]


class ClosedDate(Strict):
    """A site-local date on which no ticket is issued (a public holiday): ``name`` is what
    pages and texts may say ("Christmas Day", or a name per language)."""

    date: Date
    name: Name | None = None


class IssuingHours(Strict):
    """When self-service channels may take a ticket (queueing/hours.py). ``week`` None:
    every day, all day (only ``closed`` and ``services`` then limit it)."""

    week: Week | None = None
    closed: Annotated[list[ClosedDate], msgspec.Meta(max_length=1000)] = []
    # A service's own week (its last ticket earlier than the site's, say): it is open only
    # when both the site and its own week are.
    services: dict[Ident, Week] = {}


class Policy(Strict):
    # No ticket is called later than aging_factor × its place in plain arrival order
    # (counted in calls of its service); see queueing/policy.py.
    aging_factor: Annotated[float, msgspec.Meta(ge=1.0, le=100.0)] = 2.0
    recall_max: Annotated[int, msgspec.Meta(ge=0, le=20)] = 2
    no_show_after_calls: Annotated[int, msgspec.Meta(ge=1, le=20)] = 3
    no_show_returns: bool = True
    # A returned no-show goes this many places behind its own (0: at its place, called
    # again at once by the next call-next); see queueing/policy.py, plan_insertion's back.
    no_show_return_after: Annotated[int, msgspec.Meta(ge=0, le=100)] = 2
    # How long after a complete or no-show its counter may take it back (0: never).
    undo_window_s: Annotated[int, msgspec.Meta(ge=0, le=3600)] = 120
    announce_ttl_s: Annotated[int, msgspec.Meta(ge=5, le=3600)] = 120
    default_priority: Ident = "walk_in"
    # The end of the working day (local "HH:MM"): the worker then closes every ticket still
    # open that was issued before it (cancelled, reason "day_closed"), so the next morning's
    # queue does not start with yesterday's. None: never (a site open around the clock).
    day_close: Clock | None = None
    # When kiosks, apps, web pages, texts, the phone line and partners may take a ticket
    # (``IssuingHours``); None: always. The window channel (staff) issues at any time.
    hours: IssuingHours | None = None


class CloseDayRequest(Strict):
    """``POST /v1/sites/{site}/close-day``: close tickets issued before ``before`` (ISO 8601
    with a UTC offset); default: now."""

    before: datetime | None = None


class NotifyRequest(Strict):
    """``POST /v1/tickets/{ticket}/notify``: where the ticket's alerts go (null: nowhere)."""

    to: Annotated[str, msgspec.Meta(min_length=1, max_length=512, pattern=PLAIN)] | None
    # The language the person chose on the page ("en", "zh-CN"): the alerts go in it when
    # the site speaks it (queueing/booking/langs.py); otherwise as before.
    lang: Annotated[str, msgspec.Meta(
        pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$",
        description="the page's language for the alerts (one the site does not speak: "
                    "as without it)")] | None = None


class TransferRequest(Strict):
    """``POST /v1/tickets/{ticket}/transfer``: the service a waiting or parked ticket goes to."""

    service: Ident


class SiteConfig(Strict):
    name: Name
    timezone: Text
    languages: Annotated[list[Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")]],
                         msgspec.Meta(min_length=1, max_length=8, description=(
                             "the first: the one the pages open in and texts fall back to, "
                             "zh or en (zh-CN, en-GB…); any after it: the board also says "
                             "calls in it (its text from announcements)"))]
    services: Annotated[list[Service], msgspec.Meta(min_length=1, max_length=200)]
    counters: Annotated[list[Counter], msgspec.Meta(max_length=500)] = []
    priority_classes: Annotated[list[PriorityClass], msgspec.Meta(min_length=1, max_length=20)] = (
        msgspec.field(default_factory=lambda: list(DEFAULT_CLASSES))
    )
    policy: Policy = msgspec.field(default_factory=Policy)
    # Spoken/displayed call text per language; {number} and {counter} are filled in.
    announcements: dict[Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")],
                        Annotated[str, msgspec.Meta(max_length=200)]] = {}
    # Where the site is (ISO 3166 alpha-2, "CN"): national phone numbers ("138 0013 8000")
    # are read as this country's. Absent: the country of ``timezone`` (queueing/phone.py).
    country: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")] | None = None
    # Which words the pages use (``Vocabulary``). A plain string checked by ``validate_site``
    # rather than the enum type, so a wrong one is refused with the choices in the message
    # (msgspec would only say "Invalid enum value"). Default: neutral words, never a clinic's.
    vocabulary: Annotated[str, msgspec.Meta(
        max_length=64, extra_json_schema={"enum": [v.value for v in Vocabulary]},
        description="the words the pages use: general (default), clinic, government, "
                    "branch (docs/configuration.md)")] = Vocabulary.GENERAL.value
    # Waiting rooms, each a board's choice of counters (``Area``). None: one board shows all.
    areas: Annotated[list[Area], msgspec.Meta(max_length=100)] = []
    # A number people can call for help, as they should dial it ("+86 10 8888 6666",
    # "12320"): the SMS desk's HELP reply and its "not understood" reply give it.
    help_phone: Annotated[str, msgspec.Meta(
        pattern=r"^\+?[0-9][0-9 ()\-]{2,30}$", max_length=32,
        description="a phone number for help, as dialled; SMS HELP replies give it")] | None = None

    def __post_init__(self) -> None:
        # Decoded, converted or built: the default classes speak the site's words.
        named = class_names_for(self.priority_classes, self.vocabulary)
        if named is not self.priority_classes and named != self.priority_classes:
            self.priority_classes = named

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def counter(self, counter_id: str) -> Counter | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def class_rank(self, class_id: str) -> int | None:
        ids = [c.id for c in self.priority_classes]
        return ids.index(class_id) if class_id in ids else None

    def phone_region(self) -> str | None:
        """The country its national phone numbers are read in (None: "+" numbers only)."""
        return phone.region(self.country, self.timezone)


def validate_site(cfg: SiteConfig) -> None:
    """Checks that need the whole document: ids unique, references resolve, zone exists."""
    try:
        # Structs built in code skip the field constraints that decoding applies.
        msgspec.convert(msgspec.to_builtins(cfg), SiteConfig)
    except msgspec.ValidationError as exc:
        raise BadRequest(str(exc)) from exc
    try:
        ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BadRequest(f"unknown timezone {cfg.timezone!r}", field="timezone") from exc
    if cfg.country is not None:
        phone.check_country(cfg.country)
    _check_vocabulary(cfg.vocabulary)
    _check_languages(cfg.languages)
    _unique([s.id for s in cfg.services], "services")
    _unique([s.prefix for s in cfg.services], "services[].prefix")
    _unique([c.id for c in cfg.counters], "counters")
    _unique([p.id for p in cfg.priority_classes], "priority_classes")
    known = {s.id for s in cfg.services}
    for c in cfg.counters:
        for sid in [*c.services, *c.weights]:
            if sid not in known:
                raise BadRequest(f"counter {c.id!r} names unknown service {sid!r}",
                                 field="counters")
    _check_areas(cfg)
    from queueing import hours  # imports the booking schedule, which imports this module
    hours.check(cfg)
    if cfg.class_rank(cfg.policy.default_priority) is None:
        raise BadRequest("policy.default_priority is not a priority class", field="policy")
    for lang, template in cfg.announcements.items():
        _check_template(lang, template)


def _check_vocabulary(value: str) -> None:
    choices = [v.value for v in Vocabulary]
    if value not in choices:
        raise BadRequest(f"vocabulary must be one of {', '.join(choices)}; it is {value[:64]!r}",
                         field="vocabulary", allowed=choices)


# The languages the pages are written in (clients/web/js/i18n.js UI_LANGS; vocabulary.js has
# the same two), and that notifications have texts in (queueing/booking/texts.py).
PAGE_LANGUAGES = ("zh", "en")


def _check_languages(languages: list[str]) -> None:
    """The first language is the site's own: pages open in it and texts fall back to it, so
    it must be one they have (``fr`` gave a board of English headings and Chinese counter
    names). Those after it are for calls only: the board also says each call in them (the
    site's ``announcements`` text, else the English one); its screen stays zh and en."""
    first = languages[0]
    if first.split("-")[0] not in PAGE_LANGUAGES:
        raise BadRequest(
            f"languages: the first is the one pages open in and texts fall back to, so one "
            f"the pages have: {' or '.join(PAGE_LANGUAGES)} (zh-CN, en-GB…); it is "
            f"{first!r}. Other languages may follow it: calls are also said in them",
            field="languages", reason="unsupported_language", allowed=list(PAGE_LANGUAGES),
            language=first)


def _check_areas(cfg: SiteConfig) -> None:
    """Each area once, naming only the site's counters, each once: a board set to a room
    whose counter was misspelt would stay silent for that room's patients. A counter may be
    in several areas (a corridor's board shows the rooms on both sides)."""
    ids = [a.id for a in cfg.areas]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise BadRequest(f"duplicate ids in areas: {', '.join(dupes)}", field="areas",
                         reason="duplicate_area", area=dupes[0])
    known = {c.id for c in cfg.counters}
    for a in cfg.areas:
        unknown = [c for c in a.counters if c not in known]
        if unknown:
            raise BadRequest(f"area {a.id!r} names unknown counter {unknown[0]!r}",
                             field="areas", reason="unknown_counter", area=a.id,
                             counter=unknown[0])
        twice = sorted({c for c in a.counters if a.counters.count(c) > 1})
        if twice:  # a slip in the document (a counter in two areas is fine)
            raise BadRequest(f"area {a.id!r} names counter {twice[0]!r} twice", field="areas",
                             reason="duplicate_counter", area=a.id, counter=twice[0])


def _check_template(lang: str, template: str) -> None:
    """A call's text is shown on the board and spoken: a typo such as ``{numbr}`` would be
    read out to the waiting room as written, and a text without ``{number}`` calls nobody."""
    if "{number}" not in template:
        raise BadRequest(f"announcements.{lang} must contain {{number}} (the ticket's "
                         "number); {counter} is the counter's name", field="announcements")
    rest = template.replace("{number}", "").replace("{counter}", "")
    if "{" in rest or "}" in rest:
        raise BadRequest(f"announcements.{lang} may use only {{number}} and {{counter}}; "
                         f"it has {template!r}", field="announcements")


def _unique(ids: list[str], field: str) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise BadRequest(f"duplicate ids in {field}: {', '.join(dupes)}", field=field)


DEFAULT_ANNOUNCEMENTS = {
    "zh": "请 {number} 号到 {counter}",
    "en": "Ticket {number}, please go to {counter}",
}


def announcement(cfg: SiteConfig, lang: str, number: str, counter_id: str) -> str:
    """The call text for ``number`` at ``counter_id`` in ``lang`` (template per site)."""
    template = (cfg.announcements.get(lang) or DEFAULT_ANNOUNCEMENTS.get(lang.split("-")[0])
                or DEFAULT_ANNOUNCEMENTS["en"])
    ctr = cfg.counter(counter_id)
    name = display_name(ctr.name if ctr else None, lang, counter_id)
    return template.replace("{number}", number).replace("{counter}", name)


def display_name(name: Name | None, lang: str, fallback: str = "") -> str:
    """The name in ``lang`` (or its base language, or any), for screens and announcements."""
    if name is None:
        return fallback
    if isinstance(name, str):
        return name
    return name.get(lang) or name.get(lang.split("-")[0]) or next(iter(name.values()), fallback)


LAST_MS = 253_402_128_000_000  # 9999-12-30T00:00Z: shown in any time zone


class TicketRequest(Strict):
    service: Ident
    channel: Channel
    priority: Ident | None = None
    customer: Annotated[str, msgspec.Meta(max_length=128, pattern=PLAIN)] | None = None
    # Where "almost your turn" / "your turn" alerts go (an SMS number or push endpoint).
    notify: Annotated[str, msgspec.Meta(max_length=512)] | None = None
    # Ordering reference for appointment tickets: the booked time (epoch ms), up to
    # 9999-12-30 (beyond, a time cannot be shown: the ticket broke its queue's views).
    appointment_ms: Annotated[int, msgspec.Meta(ge=0, le=LAST_MS)] | None = None
