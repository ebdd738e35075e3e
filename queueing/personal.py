"""Whose data is this? The matching rules of an erasure (pure: no Redis, no clock).

An erasure names a person at a site by a phone number, a ticket or a booking
(queueing/erase.py does the I/O). These functions decide, for one stored value, ticket,
booking or event entry, whether it holds that person's data.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from queueing import phone

_NOT_DIGIT = re.compile(r"\D")


@functools.lru_cache(maxsize=64)
def spellings(number: str) -> tuple[str, ...]:
    """How keys named by the E.164 ``number`` may be spelt: so now (queueing/phone.py), and
    as they were written before numbers were normalised — without "+", or national
    ("13800138000")."""
    national = phonenumbers.format_number(phonenumbers.parse(number),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    return tuple(dict.fromkeys((number, number.lstrip("+"), _NOT_DIGIT.sub("", national))))


def alias(booking_id: str) -> str:
    """What an erased booking's ``customer`` becomes: its own, so the booking keeps an index
    of one (one person's limits still apply to it) and no two erased bookings share one."""
    return "erased-" + hashlib.sha256(booking_id.encode()).hexdigest()[:12]


def reference(secret: str, site: str, number: str) -> str:
    """What stands for the number in the erasure's audit entry: a keyed hash, so an admin
    can check whether a number was erased (erase it again: the same reference) but nobody
    can recover it (a plain hash of a phone number is undone by trying every number)."""
    mac = hmac.new(secret.encode(), f"erase:{site}:{number}".encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Person:
    """Who is erased: a number (E.164) and the tickets and bookings named or found;
    ``region`` reads numbers stored before they were normalised (the site's country)."""

    phone: str | None = None
    tickets: frozenset[str] = field(default_factory=frozenset)
    bookings: frozenset[str] = field(default_factory=frozenset)
    region: str | None = None

    def number(self, value: str | None) -> bool:
        if self.phone is None or not value:
            return False
        # Either reading of a value stored before numbers were normalised (phone.same
        # compares as stored first, and parses only values ending in the number's digits).
        return phone.same(value, self.phone, self.region)

    def ticket(self, t: dict[str, Any]) -> bool:
        """A ticket that still holds the person's number (for alerts, or as its customer:
        a check-in copies the booking's, which may be the number) or, named, a number or
        a name."""
        if t.get("id") in self.tickets:
            return bool(t.get("notify") or t.get("customer"))
        return self.number(t.get("notify")) or self.number(t.get("customer"))

    def booking(self, b: dict[str, Any]) -> bool:
        bid = str(b.get("id") or "")
        if bid in self.bookings:
            return bool(b.get("notify")) or b.get("customer") != alias(bid)
        return self.number(b.get("notify")) or self.number(b.get("customer"))

    def entry(self, data: dict[str, Any], raw: bytes) -> bool:
        """An event entry (its decoded ``d`` and the raw JSON) that carries the person's
        data: their ticket or booking as it was, or their number anywhere in it."""
        t, b = data.get("ticket"), data.get("booking")
        if isinstance(t, dict) and self.ticket(t):
            return True
        if isinstance(b, dict) and self.booking(b):
            return True
        return self.phone is not None and any(q in raw for q in _quoted(self.phone))


@functools.lru_cache(maxsize=64)
def _quoted(number: str) -> tuple[bytes, ...]:
    """The number's spellings as JSON strings (as an entry would hold them)."""
    return tuple(b'"' + s.encode() + b'"' for s in spellings(number))

