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
  Not a possible number → ``InvalidPhoneNumber`` (400 ``bad_request``, ``details.reason``).
- ``normalise(number, region, international=True)``: what an SMS gateway sends, which is
  international even without its "+" by convention; a national number still passes where
  the international reading is no real number ("13800138000" is no number of +1).
- ``target(value, region)``: a ``notify`` target: a number is normalised, anything else
  (a push endpoint) is kept as it is.
- ``customer(value, region)``: a booking's customer, an id that may be a number: only a
  number valid in ``region`` or written with "+" is one; "P-1001" or "100234" is kept.
"""

from __future__ import annotations

import contextlib
import functools
import re
import zoneinfo
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber

from queueing.errors import BadRequest, InvalidPhoneNumber

# A phone number as people write it: digits with + first, spaces, dashes, dots and brackets
# ("+86 138-0013-8000", "(020) 7946 0018"): what the API's number fields take, to normalise.
PATTERN = r"\+?[0-9 ().\-]{6,32}"
# Written as a number (a notify target, a customer), whatever its length: digits and those.
_NUMBERISH = re.compile(r"\+?[ ().\-]*[0-9][0-9 ().\-]*")
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)


def looks_like(value: str) -> bool:
    """Whether ``value`` is written as a phone number (not whether it is a possible one)."""
    return _NUMBERISH.fullmatch(value.strip()) is not None


def normalise(number: str, region: str | None, *, international: bool = False,
              field: str = "phone") -> str:
    """``number`` in E.164, read as described in the module's docstring; else
    ``InvalidPhoneNumber`` naming ``field``."""
    text = number.strip()
    if not looks_like(text):
        raise _invalid(number, field)
    if text.startswith("+"):
        readings = [_parse(text, None)]
    else:
        national = _parse(text, region) if region else None
        readings = [_parse("+" + text, None), national] if international else [national]
    found = [n for n in readings if n is not None]
    # A real number first (in the order read); else a possible one (new ranges, test
    # numbers such as the UK's 07700 900xxx): libphonenumber's tables lag the world.
    best = next((n for n in found if phonenumbers.is_valid_number(n)), None) or next(
        (n for n in found if _possible(n)), None)
    if best is not None:
        return phonenumbers.format_number(best, phonenumbers.PhoneNumberFormat.E164)
    if region is None and not international and not text.startswith("+"):
        raise InvalidPhoneNumber(
            f"{field}: write the number with + and its country code (+86 138 0013 8000): "
            "the site has no country to read a national number in (its 'country', or a "
            "time zone of one country)", field=field, reason="needs_country_code")
    raise _invalid(number, field)


def target(value: str, region: str | None, field: str = "notify") -> str:
    """A ``notify`` target: a phone number in E.164 (or ``InvalidPhoneNumber``); another
    target (a push endpoint, which is no phone number) as it is."""
    return normalise(value, region, field=field) if looks_like(value) else value


def customer(value: str, region: str | None) -> str:
    """A booking's customer id: in E.164 if it is a phone number, else as it is. A number
    written with "+" must be a possible one (else ``InvalidPhoneNumber``); one without is a
    number only if it is valid in ``region``, so a patient number stays what it is."""
    if not looks_like(value):
        return value
    if value.strip().startswith("+"):
        return normalise(value, region, field="customer")
    national = _parse(value.strip(), region) if region else None
    if national is None or not phonenumbers.is_valid_number(national):
        return value
    return phonenumbers.format_number(national, phonenumbers.PhoneNumberFormat.E164)


def same(stored: str, number: str, region: str | None) -> bool:
    """Whether a stored target (written before numbers were normalised, perhaps without
    its "+" or in national form) is the E.164 ``number``."""
    if not looks_like(stored):
        return False
    try:
        return normalise(stored, region, international=True) == number
    except InvalidPhoneNumber:
        return False


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
