"""Whose data is this, in a dispatch region? The matching rules of a region's erasure
(pure: no Redis, no clock; dispatch/erase.py does the I/O).

A job has no phone field: a customer's number is wherever the dispatcher typed it — the
job's ``customer`` ("Wang Fang 138 0013 8000"), its ``note`` ("call 13800138000 at the
gate") or, rarely, its ``address``. So a number is looked for *in* those texts, in any
spelling, read in the region's country (queueing/phone.py), with libphonenumber's matcher
and, for the legacy international form without "+", by the queue side's rule
(queueing/personal.py ``Person.number``). Only texts holding the number's last six digits
are parsed.

A technician's location history is personal data too: ``gps`` entries of the region's
stream, and ``tech_updated`` entries, which carry the technician's hash with its position
(and its profile: name, home base, skills, shift — erased with the technician itself).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

from queueing.personal import Person

_NOT_DIGIT = re.compile(r"\D")
_NOT_DIGIT_BYTES = bytes(b for b in range(256) if b not in b"0123456789")  # to delete
# A run of a number's characters inside a text (what Person.number then reads).
_RUN = re.compile(r"\+?\d[\d ().\-]{4,30}\d")
# Where a job holds what the dispatcher typed about its customer.
TEXTS = ("customer", "note", "address")
# A finished job's location is kept to this many decimals of a degree (≈ 1.1 km north to
# south): the district a job was in, for reports, no longer the customer's door.
COARSE_PLACES = 2


@dataclass(frozen=True, slots=True)
class Customer:
    """Who is erased in a region: a number (E.164) and/or jobs named or found.

    ``region`` reads national numbers (the region's country, if its time zone has one);
    ``reference`` is the erasure's keyed reference of the number, which an open job keeps
    so that the same request, made again once the job has ended, finds it again; ``open``
    are such jobs (their entries without the customer's name and note are what the job
    itself still holds: they go once it has ended).
    """

    phone: str | None = None
    jobs: frozenset[str] = field(default_factory=frozenset)
    region: str | None = None
    reference: str | None = None
    open: frozenset[str] = field(default_factory=frozenset)  # of jobs: still to be served

    def mentions(self, text: str | None) -> bool:
        """Whether ``text`` holds the number, in any spelling, alone or among words."""
        if self.phone is None or not text:
            return False
        if _tail(self.phone) not in _NOT_DIGIT.sub("", text):
            return False
        as_person = Person(self.phone, region=self.region)
        if as_person.number(text) or any(as_person.number(m.group()) for m in
                                         _RUN.finditer(text)):
            return True
        return any(_e164(m.number) == self.phone for m in
                   PhoneNumberMatcher(text, self.region, leniency=Leniency.POSSIBLE))

    def job(self, j: dict[str, Any]) -> bool:
        """A job of this customer's: named, marked by an earlier erasure of the same number
        (``erased``: it was open then), or holding the number in one of its texts."""
        if j.get("id") in self.jobs:
            return True
        if self.reference is not None and j.get("erased") == self.reference:
            return True
        return any(self.mentions(j.get(f)) for f in TEXTS)

    def entry(self, data: dict[str, Any], raw: bytes) -> bool:
        """An event entry (its decoded ``d`` and the raw JSON) carrying one of the
        customer's jobs as it was, or the number in any of its texts."""
        j = data.get("job")
        j = j if isinstance(j, dict) else {}
        mine = j.get("id") in self.jobs or (
            self.reference is not None and j.get("erased") == self.reference)
        if not mine:
            # Most entries: not one of theirs, and not the number's digits anywhere in it.
            if self.phone is None or _tail(self.phone).encode() not in raw.translate(
                    None, _NOT_DIGIT_BYTES):
                return False
            mine = self.job(j) if j else False
        if mine:
            return j.get("id") not in self.open or bool(j.get("customer") or j.get("note"))
        return any(self.mentions(s) for s in _strings(data))


def seen(j: dict[str, Any]) -> dict[str, str]:
    """What an erasure read from a job's texts (its script erases only if they are still
    so: nothing erased on the strength of an older read)."""
    return {f: str(j.get(f) or "") for f in TEXTS}


def redacted_copy(j: dict[str, Any], empty: str | None = "") -> dict[str, Any]:
    """A copy of a job as a cache keeps it (a device action's answer, a creation's answer
    kept for a retry) without the customer's texts (``empty`` instead) and with its
    location coarsened: a retried request is answered as before, less what was erased."""
    out = {**j, **{f: empty for f in TEXTS if j.get(f)}}
    for f in ("lat", "lon"):
        if isinstance(j.get(f), int | float):
            out[f] = round(j[f], COARSE_PLACES)
    return out


def technician_location(etype: str, data: dict[str, Any], tech: str, profile: bool = False
                        ) -> bool:
    """A stream entry that holds where technician ``tech`` was: its GPS fix, or its hash
    as put while it had one (``fix_ms``; before any, its position is its home base). With
    ``profile``, every entry with its hash (name, home base, skills, shift) too."""
    if etype == "gps":
        return data.get("i") == tech
    t = data.get("tech")
    return (etype == "tech_updated" and isinstance(t, dict) and t.get("id") == tech
            and (profile or bool(t.get("fix_ms"))))


def _strings(value: Any) -> list[str]:
    """Every string inside a decoded JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@functools.lru_cache(maxsize=64)
def _tail(number: str) -> str:
    return _NOT_DIGIT.sub("", number)[-6:]


def _e164(n: phonenumbers.PhoneNumber) -> str:
    return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
