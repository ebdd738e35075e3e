"""One spelling per phone number: E.164 ("+8613800138000"), whatever way it was written.

"+8613800138000", "8613800138000", "13800138000" and "138 0013 8000" are one phone at a
Chinese site; counted apart, a person got ten texted codes a day per spelling and
``max_open_bookings`` per spelling. Every place a number is a key or compared (the texted
codes, a booking's customer and ``notify``, a ticket's ``notify``, text to join's sender
and the demo's outbox) goes through here. Parsing is Google's libphonenumber
(``phonenumbers``); this module only chooses how a site's numbers are read:

- ``region(country, timezone)``: the site's ``country`` (ISO 3166 alpha-2), else the
  country of its time zone in the tz database's zone.tab (``Asia/Shanghai`` → CN,
  ``Europe/London`` → GB), else None: the site then takes international numbers only.
- ``normalise(number, region)``: what a person typed (national form read in ``region``).
  A national number must be a valid one of ``region``; one written with "+" or 00 a
  possible one. Else ``InvalidPhoneNumber`` (400 ``bad_request``, ``details.reason``:
  ``needs_country_code`` when it is a valid number of a neighbouring region, such as a
  Hong Kong mobile at a Chinese site, or the site has no country; else
  ``invalid_phone_number``).
- ``normalise(number, region, international=True)``: what an SMS gateway sends, which is
  international even without its "+" by convention; a national number still passes where
  the international reading is no real number ("13800138000" is no number of +1).
- ``same(stored, number, region)``: whether a stored value (perhaps written before numbers
  were normalised) may be the number: either of its readings (for erasure), or with
  ``either=False`` the one it most likely is, ``reading()`` (for text to join).
- ``target(value, region)``: a ``notify`` target: a number is normalised, anything else
  (a push endpoint) is kept as it is.
- ``customer(value, region)``: a booking's customer, an id that may be a number: only a
  number valid in ``region`` or written with "+" is one; "P-1001" or "100234" is kept.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
import zoneinfo
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber

from queueing.errors import BadRequest, InvalidPhoneNumber

# A phone number as people write it: digits with + first, spaces, dashes, dots and brackets
# ("+86 138-0013-8000", "(020) 7946 0018"), in ASCII or as a Chinese or Japanese input method
# types them (full-width "１３８－００１３", an ideographic space): what the API's number
# fields take, to normalise.
PATTERN = r"[+＋]?[0-9０-９ \u3000().（）．\-－]{6,32}"
# Written as a number (a notify target, a customer), whatever its length: digits and those
# (after ``folded``).
_NUMBERISH = re.compile(r"\+?[ ().\-]*[0-9][0-9 ().\-]*")
_NOT_DIGIT = re.compile(r"\D")
# Dashes NFKC leaves as they are: a hyphen, a figure dash, en and em dashes, a minus sign.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)


def folded(value: str) -> str:
    """``value`` with full-width digits, plus, brackets, dashes and spaces as ASCII ones
    (NFKC): "＋８６ １３８－００１３" is "+86 138-0013"."""
    return unicodedata.normalize("NFKC", value).translate(_DASHES)


def mask(number: str) -> str:
    """A number as a supervisor or a log may see it: enough to tell two apart or spot a
    wrong one, not enough to call ("+8613812345678" -> "+861…78")."""
    return number if len(number) <= 6 else f"{number[:4]}…{number[-2:]}"


def looks_like(value: str) -> bool:
    """Whether ``value`` is written as a phone number (not whether it is a possible one)."""
    return _NUMBERISH.fullmatch(folded(value).strip()) is not None


def normalise(number: str, region: str | None, *, international: bool = False,
              field: str = "phone") -> str:
    """``number`` in E.164, read as described in the module's docstring; else
    ``InvalidPhoneNumber`` naming ``field``."""
    text = folded(number).strip()
    if not looks_like(text):
        raise _invalid(number, field)
    # (reading, written international): only a number written with "+" or the
    # international prefix 00 (or a gateway's, international by convention) may be a
    # possible one rather than a valid one: libphonenumber's tables lag new ranges, but a
    # national number that is no real number is a typo or another country's ("9123 4567"
    # at a Chinese site is a Hong Kong mobile, not +86 9123 4567).
    if text.startswith("+"):
        readings = [(_parse(text, None), True)]
    else:
        national = (_parse(text, region) if region else None,
                    _NOT_DIGIT.sub("", text).startswith("00"))
        readings = [(_parse("+" + text, None), True), national] if international else [national]
    found = [(n, loose) for n, loose in readings if n is not None]
    best = next((n for n, _ in found if phonenumbers.is_valid_number(n)), None) or next(
        (n for n, loose in found if loose and _possible(n)), None)
    if best is not None:
        return phonenumbers.format_number(best, phonenumbers.PhoneNumberFormat.E164)
    if region is None and not international and not text.startswith("+"):
        raise InvalidPhoneNumber(
            f"{field}: write the number with + and its country code (+86 138 0013 8000): "
            "the site has no country to read a national number in (its 'country', or a "
            "time zone of one country)", field=field, reason="needs_country_code")
    elsewhere = _valid_nearby(text, region)
    if elsewhere:
        where = " or ".join(f"{r} ({n})" for r, n in elsewhere)
        raise InvalidPhoneNumber(
            f"{field}: {number[:40]!r} is no number of {region} but one of {where}: write "
            "it with + and its country code", field=field, reason="needs_country_code")
    raise _invalid(number, field)


# Where a national number that is none of the site's country is most often from (a Hong
# Kong or Macau mobile typed at a mainland site, and back): named in the error's message.
_NEARBY = ("CN", "HK", "MO", "TW")


def _valid_nearby(text: str, region: str | None) -> list[tuple[str, str]]:
    """(region, E.164) of each neighbouring region a national number is valid in."""
    if text.startswith("+") or region not in _NEARBY:
        return []
    found = [(other, _parse(text, other)) for other in _NEARBY if other != region]
    return [(other, phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164))
            for other, n in found if n is not None and phonenumbers.is_valid_number(n)]


def target(value: str, region: str | None, field: str = "notify") -> str:
    """A ``notify`` target: a phone number in E.164 (or ``InvalidPhoneNumber``); another
    target (a push endpoint, which is no phone number) as it is. Texts go to it, so a
    number the numbering plan says is a fixed line ("(010) 6552 9988") is refused
    (``details.reason`` ``not_a_mobile``); one that may be either (North America) passes."""
    if not looks_like(value):
        return value
    number = normalise(value, region, field=field)
    parsed = _parse(number, None)
    if parsed is not None and phonenumbers.number_type(parsed) == (
            phonenumbers.PhoneNumberType.FIXED_LINE):
        raise InvalidPhoneNumber(
            f"{field}: {value[:40]!r} is a landline: texts need a mobile number",
            field=field, reason="not_a_mobile")
    return number


def customer(value: str, region: str | None) -> str:
    """A booking's customer id: in E.164 if it is a phone number, else as it is. A number
    written with "+" must be a possible one (else ``InvalidPhoneNumber``); one without is a
    number only if it is valid in ``region``, so a patient number stays what it is."""
    if not looks_like(value):
        return value
    text = folded(value).strip()
    if text.startswith("+"):
        return normalise(value, region, field="customer")
    national = _parse(text, region) if region else None
    if national is None or not phonenumbers.is_valid_number(national):
        return value
    return phonenumbers.format_number(national, phonenumbers.PhoneNumberFormat.E164)


def same(stored: str, number: str, region: str | None, *, either: bool = True) -> bool:
    """Whether a stored target (written before numbers were normalised, perhaps without
    its "+" or in national form) may be the E.164 ``number``: either of its readings is.
    "13312345678" at a Chinese site is +86 133 1234 5678 and, read as international, also
    +1 331 234 5678: it is the same as both. An erasure must find the person's number
    however it was stored (finding one more is the safe side). ``either=False``: only the
    reading it most likely is (``reading()``), for text to join, which must not hand one
    person's ticket to another."""
    if stored == number:  # as stored since numbers are normalised: no parse
        return True
    # The same number ends in the same digits however it is written (the national
    # significant number is the end of the E.164): only values that do are parsed.
    if _NOT_DIGIT.sub("", stored)[-6:] != number[-6:] or not looks_like(stored):
        return False
    return number in readings(stored, region) if either else reading(stored, region) == number


def readings(stored: str, region: str | None) -> set[str]:
    """Every E.164 number a stored value may be: as written with "+", else read as
    international and, in ``region``, as national."""
    text = stored.strip()
    if text.startswith("+"):
        found = [_parse(text, None)]
    else:
        found = [_parse("+" + text, None), _parse(text, region) if region else None]
    return {phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
            for n in found if n is not None and _possible(n)}


def reading(stored: str, region: str | None) -> str | None:
    """The one number a stored value most likely is: a number valid in ``region`` read as
    national first (typed at the site), else as ``normalise(international=True)`` reads
    it; None if it is none."""
    text = stored.strip()
    if not looks_like(text):
        return None
    national = None if text.startswith("+") or not region else _parse(text, region)
    if national is not None and phonenumbers.is_valid_number(national):
        return phonenumbers.format_number(national, phonenumbers.PhoneNumberFormat.E164)
    try:
        return normalise(text, region, international=True)
    except InvalidPhoneNumber:
        return None


def _possible(n: PhoneNumber) -> bool:
    """Of a length a whole number has ("+86 123 45" is one dialled locally at most)."""
    return bool(phonenumbers.is_possible_number_with_reason(n)
                == phonenumbers.ValidationResult.IS_POSSIBLE)


def _parse(text: str, region: str | None) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        return None


def _invalid(number: str, field: str) -> InvalidPhoneNumber:
    return InvalidPhoneNumber(f"{field}: {number[:40]!r} is not a phone number",
                              field=field, reason="invalid_phone_number")


# -- the site's country ------------------------------------------------------------------

def region(country: str | None, timezone: str) -> str | None:
    """The country a site's national numbers are read in: ``country``, else its zone's."""
    return country or zone_country(timezone)


def check_country(country: str) -> None:
    """A site's ``country`` must be one libphonenumber knows (ISO 3166 alpha-2)."""
    if country not in COUNTRIES:
        raise BadRequest(f"unknown country {country!r}: an ISO 3166 alpha-2 code such as CN "
                         "or GB", field="country")


def zone_country(timezone: str) -> str | None:
    """The country of a tz database zone (``Asia/Shanghai`` → CN), from zone.tab, where
    each zone has one; a link (``PRC``, ``Asia/Chongqing``) as its target; else the first
    of zone1970.tab's. None for a zone of no country (``UTC``) or no table."""
    countries, links = _tables()
    return countries.get(timezone) or countries.get(links.get(timezone, ""))


@functools.cache
def _tables() -> tuple[dict[str, str], dict[str, str]]:
    """zone → country, and link → zone, from the first tz database with a zone.tab:
    the system's (``zoneinfo.TZPATH``, as zoneinfo itself looks), else the tzdata package."""
    for folder in _folders():
        tab = _read(folder, "zone.tab")
        if tab is None:
            continue
        countries: dict[str, str] = {}
        for line in (_read(folder, "zone1970.tab") or "").splitlines():
            _row(line, countries)
        for line in tab.splitlines():  # one country per zone: it wins
            _row(line, countries)
        links = {}
        for line in (_read(folder, "tzdata.zi") or "").splitlines():
            part = line.split()
            if len(part) == 3 and part[0] == "L":
                links[part[2]] = part[1]
        return countries, links
    return {}, {}


def _row(line: str, into: dict[str, str]) -> None:
    part = line.split("\t")
    if len(part) >= 3 and not line.startswith("#"):
        into[part[2]] = part[0].split(",")[0]


def _folders() -> list[Path | Traversable]:
    out: list[Path | Traversable] = [Path(p) for p in zoneinfo.TZPATH]
    with contextlib.suppress(ModuleNotFoundError):
        out.append(resources.files("tzdata") / "zoneinfo")
    return out


def _read(folder: Path | Traversable, name: str) -> str | None:
    try:
        return (folder / name).read_text(encoding="utf-8")
    except OSError:
        return None
